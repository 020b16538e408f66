"""The digest as one Slack message: a header and one section per list, within Slack's limits.

Every list is fitted to a section (``limits.SECTION_TEXT``) after its text is escaped; what
does not fit ends with "… and N more". User text (titles, task texts) is escaped
(``mrkdwn``): a title of ``<!channel>`` reads as text and notifies no one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from bot.common.text import mrkdwn
from bot.common.timeparse import format_duration
from bot.digest.rules import Digest
from bot.slack import limits

#: How long a title or a task's text may be in one line of the digest.
LINE_TEXT = 120
#: Tasks shown per owner before "and N more".
TASKS_PER_OWNER = 5


def _day(moment: dt.datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def _age(delta: dt.timedelta) -> str:
    return format_duration(delta) if delta >= dt.timedelta(minutes=1) else "<1m"


def _section(title: str, lines: list[str], empty: str, what: str) -> dict[str, Any]:
    if not lines:
        text = f"*{title}*\n_{empty}_"
    else:
        head = f"*{title}* ({len(lines)})"
        kept, left = limits.fit_lines(lines, limits.SECTION_TEXT - len(head) - 1)
        if left:
            kept.append(limits.and_more(left, what))
        text = "\n".join([head, *kept])
    return {"type": "section", "text": {"type": "mrkdwn", "text": limits.fit(text, 3000)}}


def open_lines(digest: Digest) -> list[str]:
    return [f"• *{o.incident.ref}* {limits.fit(mrkdwn(o.incident.title), LINE_TEXT)} — "
            f"{o.incident.severity.upper()}, {o.incident.status}, "
            + (f"led by <@{o.incident.lead_user_id}>" if o.incident.lead_user_id
               else "no lead")
            + f", open {_age(o.age)}"
            + (f" · <#{o.incident.channel_id}>" if o.incident.channel_id else "")
            for o in digest.open]


def unpublished_lines(digest: Digest, zone: ZoneInfo) -> list[str]:
    return [f"• *{u.incident.ref}* {limits.fit(mrkdwn(u.incident.title), LINE_TEXT)} — "
            + (f"resolved {_day(u.resolved_at, zone)}" if u.resolved_at else "resolved")
            + (f", led by <@{u.incident.lead_user_id}>" if u.incident.lead_user_id else "")
            + (f" · <#{u.incident.channel_id}>" if u.incident.channel_id else "")
            for u in digest.unpublished]


def overdue_lines(digest: Digest) -> list[str]:
    lines = []
    for owner in digest.overdue:
        shown = owner.tasks[:TASKS_PER_OWNER]
        items = [f"*{o.task.ref}* {limits.fit(mrkdwn(o.task.text), LINE_TEXT)} "
                 f"({o.incident.ref}, {o.days} day{'s' if o.days != 1 else ''} overdue)"
                 for o in shown]
        more = len(owner.tasks) - len(shown)
        if more:
            items.append(limits.and_more(more))
        lines.append(f"• <@{owner.owner}>: " + "; ".join(items))
    return lines


def digest_message(digest: Digest, zone: ZoneInfo) -> tuple[str, list[dict[str, Any]]]:
    """The digest's fallback text and blocks (``zone``: ``INCIDENT_TIMEZONE``)."""
    title = f"Incident digest, {_day(digest.slot, zone)} {digest.slot.astimezone(zone).year}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        _section("Open incidents", open_lines(digest), "None open.", "more open"),
        _section("Resolved, postmortem not published", unpublished_lines(digest, zone),
                 "Every resolved incident has its postmortem.", "more without a postmortem"),
        _section("Overdue tasks by owner", overdue_lines(digest), "No task is overdue.",
                 "more owners"),
    ]
    counts = (f"{len(digest.open)} open, {len(digest.unpublished)} without a postmortem, "
              f"{sum(len(o.tasks) for o in digest.overdue)} overdue task(s)")
    return f"{title}: {counts}", blocks
