"""Sandboxed templates: overrides by name, escaping per format, fallback on a broken one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.postmortem.templates import Templates, builtin_dir, escape_data, output_format


@dataclass(frozen=True)
class Item:
    text: str
    n: int = 1


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    builtin, custom = tmp_path / "builtin", tmp_path / "custom"
    builtin.mkdir()
    custom.mkdir()
    for fmt in ("md", "slack", "html"):
        (builtin / f"t.{fmt}.j2").write_text("built-in: {{ item.text }}")
    return builtin, custom


def test_output_format_comes_from_the_name() -> None:
    assert output_format("postmortem.slack.j2") == "slack"
    assert output_format("postmortem.html.j2") == "html"
    assert output_format("postmortem.md.j2") == "md"
    assert output_format("other.j2") == "md"


def test_builtin_templates_exist() -> None:
    for name in ("postmortem.md.j2", "postmortem.slack.j2", "postmortem.html.j2"):
        assert (builtin_dir() / name).is_file()


def test_custom_template_overrides_by_name_only(dirs: tuple[Path, Path]) -> None:
    builtin, custom = dirs
    (custom / "t.md.j2").write_text("custom: {{ item.text }} x{{ item.n }}")
    templates = Templates(custom, builtin)
    assert templates.render("t.md.j2", item=Item("hi")).text == "custom: hi x1"
    assert templates.render("t.slack.j2", item=Item("hi")).text == "built-in: hi"
    assert Templates(None, builtin).render("t.md.j2", item=Item("hi")).text == "built-in: hi"


def test_user_text_is_data_never_template_code(dirs: tuple[Path, Path]) -> None:
    builtin, _ = dirs
    rendered = Templates(None, builtin).render("t.md.j2", item=Item("{{ 7*7 }} {% raw %}"))
    assert rendered.text == "built-in: {{ 7*7 }} {% raw %}"


def test_each_format_escapes_the_data(dirs: tuple[Path, Path]) -> None:
    builtin, _ = dirs
    templates = Templates(None, builtin)
    evil = Item("<!channel> <@U1> a < b & <script>x</script> &amp;")
    assert templates.render("t.slack.j2", item=evil).text == (
        "built-in: &lt;!channel&gt; &lt;@U1&gt; a &lt; b &amp; &lt;script&gt;x&lt;/script&gt; "
        "&amp;amp;")
    assert templates.render("t.html.j2", item=evil).text == (
        "built-in: &lt;!channel&gt; &lt;@U1&gt; a &lt; b &amp; &lt;script&gt;x&lt;/script&gt; "
        "&amp;amp;")
    assert templates.render("t.md.j2", item=evil).text == (  # backslashes: reads as typed
        "built-in: \\<!channel> <@U1> a < b & \\<script>x\\</script> \\&amp;")


def test_escape_data_walks_dataclasses_and_containers() -> None:
    value = {"items": (Item("<a>"), [Item("&", 2)]), "n": 3, "none": None}
    escaped = escape_data(value, lambda s: s.upper())
    assert escaped == {"items": (Item("<A>"), [Item("&", 2)]), "n": 3, "none": None}
    assert escape_data(Item("x"), str.upper) == Item("X")


@pytest.mark.parametrize(("source", "expected"), [
    ("line one\n{% if %}", "line 2"),  # syntax error
    ("{{ item.nope }}", "line 1"),  # unknown attribute (StrictUndefined)
    ("ok\n\n{{ item.__class__.__mro__ }}", "line 3"),  # the sandbox says no
    ("{{ missing_variable }}", "missing_variable"),
])
def test_broken_custom_template_falls_back_with_a_clear_message(
        dirs: tuple[Path, Path], caplog: pytest.LogCaptureFixture, source: str,
        expected: str) -> None:
    builtin, custom = dirs
    (custom / "t.md.j2").write_text(source)
    with caplog.at_level(logging.ERROR, logger="bot.postmortem.templates"):
        rendered = Templates(custom, builtin).render("t.md.j2", item=Item("hi"))
    assert rendered.text == "built-in: hi"
    assert rendered.template == "t.md.j2"
    assert rendered.error and expected in rendered.error
    assert any("t.md.j2" in r.getMessage() and "failed" in r.getMessage()
               for r in caplog.records)


def test_sandbox_blocks_python_internals_even_in_builtin_dir(tmp_path: Path) -> None:
    (tmp_path / "t.md.j2").write_text("{{ item.text.__class__.__base__.__subclasses__() }}")
    with pytest.raises(Exception, match=r"unsafe|not safely|access"):
        Templates(None, tmp_path).render("t.md.j2", item=Item("x"))


def test_custom_template_may_extend_builtin_blocks(dirs: tuple[Path, Path]) -> None:
    builtin, custom = dirs
    (builtin / "base.md.j2").write_text("[{% block body %}base{% endblock %}]")
    (custom / "t.md.j2").write_text(
        '{% extends "base.md.j2" %}{% block body %}mine {{ item.text }}{% endblock %}')
    assert Templates(custom, builtin).render("t.md.j2", item=Item("hi")).text == "[mine hi]"
