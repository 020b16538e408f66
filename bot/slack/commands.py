"""The ``/incident`` grammar: ``/incident <subcommand> <args>``.

Each feature module declares its subcommands with ``@subcommand``; help, usage and
"did you mean" are derived from that one registry, so they cannot drift apart.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.common.splitting import cut
from bot.common.text import escape, mrkdwn

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.deps import Deps
    from storage.models import Incident

COMMAND = "/incident"


@dataclass(frozen=True)
class Invocation:
    """The text after ``/incident``: a subcommand name (lowercased) and its raw arguments."""

    name: str
    args: str


def split(text: str) -> Invocation:
    """``"Status  Resolved"`` → ``Invocation("status", "Resolved")``."""
    stripped = (text or "").strip()
    if not stripped:
        return Invocation("", "")
    head, _, rest = stripped.partition(" ")
    head, nl, more = head.partition("\n")
    return Invocation(head.lower(), (more + nl + rest).strip() if nl else rest.strip())


@dataclass
class Ctx:
    """One run of a subcommand: who, where, and how to answer.

    ``args`` is the text as typed (decoded from Slack's markup, ``bot.common.text``): a
    reply that repeats any of it escapes it with ``mrkdwn``.
    """

    deps: Deps
    client: WebClient
    team_id: str
    user_id: str
    channel_id: str
    args: str
    respond: Callable[..., Any]
    trigger_id: str | None = None
    incident: Incident | None = None
    response_url: str | None = None

    @property
    def tz(self) -> Any:
        return self.deps.settings.timezone

    def require_incident(self) -> Incident:
        assert self.incident is not None, "subcommand declared needs_incident"
        return self.incident


Handler = Callable[[Ctx], "str | None"]


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    handler: Handler
    needs_incident: bool = True
    aliases: tuple[str, ...] = ()
    order: int = 100


@dataclass
class Registry:
    by_name: dict[str, Subcommand] = field(default_factory=dict)

    def add(self, sub: Subcommand) -> None:
        for name in (sub.name, *sub.aliases):
            if name in self.by_name and self.by_name[name] is not sub:
                raise ValueError(f"subcommand {name!r} registered twice")
            self.by_name[name] = sub

    def find(self, name: str) -> Subcommand | None:
        return self.by_name.get(name)

    def all(self) -> list[Subcommand]:
        unique = {id(s): s for s in self.by_name.values()}.values()
        return sorted(unique, key=lambda s: (s.order, s.name))

    def suggest(self, name: str) -> str | None:
        """The registered name closest to ``name``, if any is close."""
        matches = difflib.get_close_matches(name, list(self.by_name), n=1, cutoff=0.6)
        if not matches:
            matches = [n for n in self.by_name if name and n.startswith(name[:3])][:1]
        return self.by_name[matches[0]].name if matches else None

    def help_text(self) -> str:
        lines = [f"*Sitrep* — `{COMMAND} <subcommand>`:"]
        for sub in self.all():
            where = "" if sub.needs_incident else " _(anywhere)_"
            lines.append(f"• `{COMMAND} {escape(sub.usage)}` — {sub.summary}{where}")
        lines.append("Subcommands not marked _(anywhere)_ work in an incident's channel.")
        return "\n".join(lines)

    def usage_of(self, sub: Subcommand) -> str:
        return f"Usage: `{COMMAND} {escape(sub.usage)}` — {sub.summary}"

    def unknown_text(self, name: str) -> str:
        guess = self.suggest(name)
        hint = f" Did you mean `{guess}`?" if guess else ""
        return (
            f"I don't know `{COMMAND} {mrkdwn(cut(name, 40))}`.{hint}\n"
            f"Type `{COMMAND} help` to see every subcommand."
        )


REGISTRY = Registry()


def subcommand(
    name: str, usage: str, summary: str, *, needs_incident: bool = True,
    aliases: tuple[str, ...] = (), order: int = 100,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as ``/incident <name>``."""

    def register(handler: Handler) -> Handler:
        REGISTRY.add(Subcommand(name, usage, summary, handler, needs_incident, aliases, order))
        return handler

    return register
