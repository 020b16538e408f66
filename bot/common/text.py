"""Slack text safety and readability.

User text is data. Text typed in a slash command arrives already in Slack's markup (``&lt;``,
``<@U123|ann>``, ``<!channel>``); text from a modal arrives raw. Both must be posted so that
they never broadcast (``<!channel>``, ``<!here>``, ``<!subteam^…>``) or mention anyone they
did not mention before.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: Tokens kept as they are (user/channel mentions, links) or disarmed (``<!…>`` specials).
_KEEP_OR_DISARM = re.compile(
    r"<(?:[@#][A-Z0-9]+(?:\|[^<>]*)?|(?:https?|mailto):[^<>]*)>"
    r"|<!([a-zA-Z]+)[^<>|]*(?:\|([^<>]*))?>"
)
_TOKEN = re.compile(r"<([@#!]?)([^>|]*)(?:\|([^>]*))?>")


def escape(raw: str) -> str:
    """Escape raw user text (e.g. from a modal) for Slack: nothing in it becomes markup."""
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def neutralize(slack_text: str) -> str:
    """Make broadcasts in Slack-formatted text inert, keeping user mentions and links.

    ``<!channel>`` becomes ``@channel`` as plain text (not a notification);
    ``<!subteam^S1|@oncall>`` becomes ``@oncall``; ``<!date^…|fallback>`` its fallback.
    Stray ``<`` and ``>`` outside real tokens are escaped, so nothing can recombine
    into a new mention or broadcast.
    """
    out: list[str] = []
    pos = 0
    for match in _KEEP_OR_DISARM.finditer(slack_text):
        out.append(_escape_brackets(slack_text[pos:match.start()]))
        special, label = match.group(1), match.group(2)
        if special:
            out.append(_escape_brackets(label) if label else "@" + special)
        else:
            out.append(match.group(0))
        pos = match.end()
    out.append(_escape_brackets(slack_text[pos:]))
    return "".join(out)


def _escape_brackets(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def clean(slack_text: str, limit: int | None = None) -> str:
    """Neutralize, strip control characters and surrounding space; optionally cap length."""
    text = neutralize(slack_text)
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    text = text.strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def readable(
    slack_text: str,
    user_name: Callable[[str], str] | None = None,
    channel_name: Callable[[str], str] | None = None,
) -> str:
    """Slack markup to plain readable text: mentions as names, links kept, entities decoded."""

    def repl(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        if sigil == "@":
            if label:
                return "@" + label.lstrip("@")
            return "@" + (user_name(target) if user_name else target)
        if sigil == "#":
            if label:
                return "#" + label
            return "#" + (channel_name(target) if channel_name else target)
        if sigil == "!":
            name = target.split("^", 1)[0]
            return label if label else "@" + name
        if label and label != target:
            return f"{label} ({target})"
        return target

    plain = _TOKEN.sub(repl, slack_text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentioned_users(slack_text: str) -> list[str]:
    """User ids mentioned as ``<@U…>`` in Slack-formatted text, in order."""
    return [m.group(2) for m in _TOKEN.finditer(slack_text) if m.group(1) == "@"]
