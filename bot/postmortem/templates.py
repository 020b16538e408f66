"""Jinja2 templates from ``templates/``, overridable by name from ``TEMPLATES_DIR``.

The built-in templates are the package ``bot.templates`` (the top-level ``templates/``
folder, mapped into the package by ``setup.py``), read through ``importlib.resources`` so
that a checkout and an installed wheel find them the same way.

Templates render in Jinja2's immutable sandbox: an operator's template can format the data
it is given but not reach into Python. User text only ever arrives as *data* (template
variables), never as template source, and the data is escaped for the output format
before the template sees it, so a custom template cannot forget to:

- ``.slack.j2``: ``&``, ``<`` and ``>`` become entities (no mention, link or broadcast);
- ``.html.j2``: HTML autoescape;
- ``.md.j2``: a ``<`` that could open an HTML tag and an ``&`` that could spell an entity
  get a backslash (``\\<EU>``), so the file reads as typed.

(Escaping the data rather than each ``{{ … }}`` output keeps macros from escaping twice.)

A custom template that fails (syntax error, unknown variable, sandbox violation) does not
cost the user their postmortem: the built-in template renders instead and the error is
logged and returned, so the shell can tell the user what to fix.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.common.errors import OperatorError
from bot.common.text import escape

log = logging.getLogger(__name__)

#: The package that holds the built-in templates.
BUILTIN_PACKAGE = "bot.templates"


def builtin_dir() -> Path:
    """Where the built-in templates are (inside the installed package, or the checkout)."""
    return Path(str(resources.files(BUILTIN_PACKAGE)))

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY_START = re.compile(r"&(?=#?\w+;)")


def _markdown_safe(value: str) -> str:
    """Keep user text from opening raw HTML or spelling an entity in a Markdown renderer.

    A backslash escapes only what would be read as markup (``<EU>``, ``&amp;``), so the
    file reads as typed: ``a < b & c`` stays, ``<EU>`` becomes ``\\<EU>``.
    """
    if "<" in value:
        value = _TAG_START.sub(r"\\<", value)
    if "&" in value:
        value = _ENTITY_START.sub(r"\\&", value)
    return value


def _slack_safe(value: str) -> str:
    """``&``, ``<``, ``>`` as entities: no mention, link or broadcast can come out of data."""
    return escape(value) if "<" in value or ">" in value or "&" in value else value


#: Output format (from the template name) → how its data is escaped (``None``: Jinja2's
#: HTML autoescape does it, on output).
ESCAPES: dict[str, Callable[[str], str] | None] = {
    "slack": _slack_safe,
    "md": _markdown_safe,
    "html": None,
}


def output_format(name: str) -> str:
    """``postmortem.slack.j2`` → ``slack``."""
    parts = name.split(".")
    return parts[-2] if len(parts) >= 3 and parts[-2] in ESCAPES else "md"


@dataclass(frozen=True)
class Rendered:
    """A rendering; ``error`` says why a custom template was not used (``text`` is built-in)."""

    text: str
    error: str | None = None
    template: str = ""


def escape_data(value: Any, escape_text: Callable[[str], str]) -> Any:
    """``value`` with every string in it (through dataclasses, tuples, lists, dicts) escaped.

    Whatever escaping leaves unchanged is returned as is, not copied: most of a 10,000-entry
    timeline needs no escaping, and copying it would only feed the garbage collector.
    """
    kind = type(value)
    if kind is str:
        return escape_text(value)
    if kind is tuple or kind is list:
        items = [escape_data(v, escape_text) for v in value]
        same = all(a is b for a, b in zip(items, value, strict=True))
        return value if same and kind is tuple else kind(items)
    if kind is dict:
        return {k: escape_data(v, escape_text) for k, v in value.items()}
    if _data_fields(kind):
        fields = value.__dict__
        escaped = {k: escape_text(v) if type(v) is str else escape_data(v, escape_text)
                   for k, v in fields.items()}
        if all(escaped[k] is v for k, v in fields.items()):
            return value
        # A copy without __init__ (frozen dataclasses allow it).
        copy = object.__new__(kind)
        copy.__dict__.update(escaped)
        return copy
    return value


@functools.cache
def _data_fields(kind: type) -> frozenset[str]:
    """The fields of a dataclass type (empty for anything else)."""
    if not dataclasses.is_dataclass(kind):
        return frozenset()
    return frozenset(f.name for f in dataclasses.fields(kind))


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with a fast path for the fields of dataclasses (plain data).

    Everything else (methods, properties, dunder and private names, other objects) goes
    through Jinja2's own checks.
    """

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr in _data_fields(type(obj)):
            return True
        return super().is_safe_attribute(obj, attr, value)


def _finalize(value: Any) -> Any:
    """``None`` prints as nothing (not "None")."""
    return "" if value is None else value


def _environment(loader: BaseLoader, fmt: str) -> ImmutableSandboxedEnvironment:
    return _Sandbox(
        loader=loader, autoescape=fmt == "html", finalize=_finalize,
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class Templates:
    """Renders a template by name: the operator's copy when there is one, else the built-in."""

    def __init__(self, custom_dir: Path | None = None, builtin: Path | None = None) -> None:
        self.custom_dir = custom_dir
        self.builtin_dir = builtin or builtin_dir()
        self._envs: dict[tuple[str, bool], ImmutableSandboxedEnvironment] = {}

    def _env(self, fmt: str, custom: bool) -> ImmutableSandboxedEnvironment:
        key = (fmt, custom)
        if key not in self._envs:
            # Custom templates may {% include %} or {% extends %} built-in ones by name.
            paths = [self.custom_dir, self.builtin_dir] if custom else [self.builtin_dir]
            self._envs[key] = _environment(FileSystemLoader([str(p) for p in paths]), fmt)
        return self._envs[key]

    def is_custom(self, name: str) -> bool:
        return bool(self.custom_dir and (self.custom_dir / name).is_file())

    def render(self, name: str, **context: Any) -> Rendered:
        """Render ``name`` with ``context``; a failing custom template falls back to ours."""
        fmt = output_format(name)
        escape_text = ESCAPES[fmt]
        if escape_text is not None:
            context = {k: escape_data(v, escape_text) for k, v in context.items()}
        if self.is_custom(name):
            try:
                return Rendered(self._env(fmt, True).get_template(name).render(**context),
                                template=name)
            except Exception as exc:  # any failure of an operator's template: use ours
                error = describe_error(exc, name)
                log.error("custom template %s in %s failed, using the built-in one: %s",
                          name, self.custom_dir, error, exc_info=exc)
                return Rendered(self._builtin(name, fmt).render(**context), error, name)
        return Rendered(self._builtin(name, fmt).render(**context), template=name)

    def _builtin(self, name: str, fmt: str) -> Any:
        """The built-in template ``name``; its absence is a broken installation, said so."""
        try:
            return self._env(fmt, False).get_template(name)
        except TemplateNotFound as exc:
            raise OperatorError(
                f"Sitrep's built-in template {name} is missing (the installation is "
                "incomplete: reinstall Sitrep)", detail=f"looked in {self.builtin_dir}") from exc


def describe_error(exc: BaseException, name: str) -> str:
    """``line 12: 'pm' has no attribute 'cuase'`` — short enough for a Slack reply."""
    line = exc.lineno if isinstance(exc, TemplateSyntaxError) else None
    if line is None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if f.filename and f.filename.endswith(name)]
        line = frames[-1].lineno if frames else None
    message = str(getattr(exc, "message", None) or exc) or exc.__class__.__name__
    message = " ".join(message.split())[:200]
    return f"line {line}: {message}" if line else message
