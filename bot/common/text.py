"""Slack text safety and readability: text is stored as typed and escaped for each output.

Slack sends slash-command and message text in its own markup: ``&``, ``<`` and ``>`` typed by
a person arrive as ``&amp;``, ``&lt;`` and ``&gt;``, and mentions, channels and links as
``<@U123|ann>``, ``<#C123|ops>``, ``<!here>``, ``<https://x.io|a link>``
(https://api.slack.com/reference/surfaces/formatting#escaping). Text from a modal arrives
raw. Sitrep stores the *stored form*: the text as the person typed it, with Slack's
references kept verbatim (in Slack's markup, so a link's ``&amp;`` stays inside it).

- :func:`from_slack` turns Slack's wire text into the stored form, once, where the payload
  is parsed (the Slack side); modal input already is the stored form.
- :func:`mrkdwn` escapes stored text for Slack: ``&``, ``<`` and ``>`` outside references
  become entities, user and channel mentions and links stay, and broadcasts (``<!here>``,
  ``<!channel>``, ``<!subteam^…>``) become plain text. It works in one pass, so nothing a
  person typed can recombine into a mention or a broadcast.
- :func:`readable` turns stored text into plain text (names for mentions, links spelled
  out) for the Markdown file, the HTML page, a channel name and ``plain_text`` blocks;
  those outputs escape it their own way.
- :func:`escape` makes plain text (a name, a clipped line) literal in Slack mrkdwn.

Ambiguity, by design: a person who types text that is itself a reference in Slack's markup
(literally ``<@U123>``) gets that reference. It can mention someone (as typing ``@ann``
could) but never broadcast: broadcasts are disarmed on every output.

Text stored before this convention (entity-encoded) is converted by the migration
``0002_text_as_typed``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.common.splitting import cut

#: A reference in Slack's markup: a user or channel mention, a special (``<!here>``,
#: ``<!subteam^S1|@oncall>``, ``<!date^…|fallback>``) or a link, with an optional label.
_REFERENCE = re.compile(
    r"<(?:(?P<sigil>[@#])(?P<id>[A-Z0-9]+)|!(?P<special>[^<>|]*)"
    r"|(?P<url>(?:https?|mailto):[^<>|]*))(?:\|(?P<label>[^<>]*))?>"
)
#: Any ``<…>`` in Slack's wire text: there, a literal ``<`` always arrives as ``&lt;``.
_WIRE_TOKEN = re.compile(r"<[^<>]*>")


def _unescape(wire: str) -> str:
    """Slack's three entities decoded (``&amp;lt;`` stays the literal text ``&lt;``)."""
    if "&" not in wire:
        return wire
    return wire.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(raw: str) -> str:
    """Escape raw text for Slack mrkdwn: nothing in it becomes markup."""
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def from_slack(wire: str) -> str:
    """Slack's wire text (slash command, message event) in the stored form: as typed.

    Entities between references are decoded; references are kept verbatim.
    """
    if "&" not in wire:
        return wire
    out: list[str] = []
    pos = 0
    for match in _WIRE_TOKEN.finditer(wire):
        out.append(_unescape(wire[pos:match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_unescape(wire[pos:]))
    return "".join(out)


def to_slack(stored: str) -> str:
    """The inverse of :func:`from_slack`: stored text as Slack would have sent it."""
    out: list[str] = []
    pos = 0
    for match in _REFERENCE.finditer(stored):
        out.append(escape(stored[pos:match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(escape(stored[pos:]))
    return "".join(out)


def _disarmed(match: re.Match[str]) -> str:
    """What a broadcast reads as once disarmed: its label, or ``@here``."""
    label = match.group("label")
    if label:
        return _unescape(label)
    return "@" + match.group("special").split("^", 1)[0]


def mrkdwn(stored: str) -> str:
    """Stored text escaped for Slack mrkdwn: mentions and links kept, broadcasts inert."""
    out: list[str] = []
    pos = 0
    for match in _REFERENCE.finditer(stored):
        out.append(escape(stored[pos:match.start()]))
        if match.group("special") is not None:
            out.append(escape(_disarmed(match)))
        else:
            out.append(match.group(0))
        pos = match.end()
    out.append(escape(stored[pos:]))
    return "".join(out)


def quote(typed: str, limit: int = 40) -> str:
    """What a person typed, shortened to ``limit`` and escaped, to repeat it in a reply."""
    return mrkdwn(cut(" ".join(typed.split()), limit))


def clean(text: str, limit: int | None = None) -> str:
    """Strip control characters and surrounding space; optionally cap the length.

    The text stays in the stored form (references kept; see :func:`mrkdwn` for output).
    A cap cuts at a whole character, never inside a reference, and ends with ``…``.
    """
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()
    if limit is not None and len(text) > limit:
        text = cut(text, limit)
    return text


def readable(
    stored: str,
    user_name: Callable[[str], str] | None = None,
    channel_name: Callable[[str], str] | None = None,
) -> str:
    """Stored text as plain readable text: mentions as names, links spelled out."""

    def repl(match: re.Match[str]) -> str:
        sigil, target, label = match.group("sigil"), match.group("id"), match.group("label")
        label = _unescape(label) if label else None
        if sigil == "@":
            if label:
                return "@" + label.lstrip("@")
            return "@" + (user_name(target) if user_name else target)
        if sigil == "#":
            if label:
                return "#" + label
            return "#" + (channel_name(target) if channel_name else target)
        if match.group("special") is not None:
            return _disarmed(match)
        url = _unescape(match.group("url"))
        if label and label != url:
            return f"{label} ({url})"
        return url

    return _REFERENCE.sub(repl, stored)


def mentioned_users(stored: str) -> list[str]:
    """User ids mentioned as ``<@U…>`` in stored (or Slack) text, in order."""
    return [m.group("id") for m in _REFERENCE.finditer(stored) if m.group("sigil") == "@"]
