"""Block Kit for status updates: the posted update and the update form.

The impact and what's next are stored as typed (``bot.common.text``): they are escaped with
``mrkdwn`` here (mentions kept, broadcasts inert) and fitted to Slack's limits after that.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from bot.common.text import mrkdwn, readable
from bot.common.timeparse import format_time
from bot.incidents.blocks import SEVERITY_EMOJI, STATUS_EMOJI
from bot.incidents.rules import NO_FURTHER, STATUSES, UpdateEvery
from bot.slack import limits
from bot.slack.blocks import modal, plain
from bot.updates import rules
from storage.models import Incident

#: The update form's callback id.
FORM = "incident_update"


def when_next(next_update_at: dt.datetime | None, status: str, tz: ZoneInfo) -> str:
    """``Next update by 15:30 CET`` (with the date when it is not today's), or none."""
    if status == "resolved":
        return "Resolved: no further updates"
    if next_update_at is None:
        return "No further updates expected"
    return f"Next update by {format_time(next_update_at, tz)}"


def update_message(incident: Incident, posted: rules.Posted, actor: str, tz: ZoneInfo, *,
                   outside: bool) -> tuple[str, list[dict[str, Any]]]:
    """The update as posted: ``outside`` the incident's channel it also names the incident
    and where to follow it."""
    status = posted.status
    head = (f":mega: *{incident.ref} · Status update #{posted.number}* — "
            f"{STATUS_EMOJI.get(status, '')} *{status.capitalize()}*")
    if posted.status_changed:
        head += f" (was {posted.previous_status})"
    head += f" · {SEVERITY_EMOJI.get(incident.severity, '')} {incident.severity.upper()}"
    if outside:
        head += f"\n*{mrkdwn(incident.title)}*"
        if incident.channel_id:
            head += f" · follow in <#{incident.channel_id}>"
    blocks: list[dict[str, Any]] = [_section(head)]
    blocks.append(_section(f"*Current impact*\n{mrkdwn(posted.impact)}"))
    if posted.next_steps:
        blocks.append(_section(f"*What's next*\n{mrkdwn(posted.next_steps)}"))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": limits.fit(
        f"{when_next(posted.next_update_at, status, tz)} · posted by <@{actor}>",
        limits.FIELD_TEXT)}]})
    text = (f"{incident.ref} status update #{posted.number} ({status}): "
            f"{mrkdwn(posted.impact)}")
    return limits.fit(text, limits.READABLE_TEXT), blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn",
                                        "text": limits.fit(text, limits.SECTION_TEXT)}}


def _duration(delta: dt.timedelta) -> str:
    """``15 minutes``, ``1 hour``, ``2 hours``, ``1 day``."""
    value = rules.label(delta)
    number, unit = int(value[:-1]), {"m": "minute", "h": "hour", "d": "day"}[value[-1]]
    return f"{number} {unit}{'s' if number != 1 else ''}"


def update_form(incident: Incident, every: UpdateEvery, status: str | None = None
                ) -> dict[str, Any]:
    """The ``/incident update`` form: status (the current one preselected, or ``status``),
    current impact, what's next, and when the next update comes (the severity's
    ``UPDATE_EVERY`` preselected; "no further updates" in ``monitoring``)."""
    status = status or incident.status
    statuses = [{"text": plain(s.capitalize()), "value": s} for s in STATUSES]
    usual = every.get(incident.severity)
    intervals = []
    for value, delta in rules.choices(every):
        text = f"In {_duration(delta)}"
        if delta == usual:
            text += f" (usual for {incident.severity.upper()})"
        intervals.append({"text": plain(limits.fit(text, limits.OPTION_TEXT)), "value": value})
    intervals.append({"text": plain("No further updates (monitoring or resolved)"),
                      "value": NO_FURTHER})
    default = rules.default_choice(status, incident.severity, every)
    initial = next((o for o in intervals if o["value"] == default), intervals[-1])
    title = limits.fit(f"{incident.ref}: {readable(incident.title)}", limits.SECTION_TEXT)
    fields = [
        {"type": "context", "elements": [{"type": "plain_text", "text": limits.fit(
            title, limits.FIELD_TEXT)}]},
        {"type": "input", "block_id": "status", "label": plain("Status"),
         "element": {"type": "static_select", "action_id": "value", "options": statuses,
                     "initial_option": statuses[STATUSES.index(status)]}},
        {"type": "input", "block_id": "impact", "label": plain("Current impact"),
         "element": {"type": "plain_text_input", "action_id": "value", "multiline": True,
                     "max_length": rules.TEXT_LIMIT,
                     "placeholder": plain("Who is affected, and how")}},
        {"type": "input", "block_id": "next_steps", "optional": True,
         "label": plain("What's next"),
         "element": {"type": "plain_text_input", "action_id": "value", "multiline": True,
                     "max_length": rules.TEXT_LIMIT}},
        {"type": "input", "block_id": "next_in", "label": plain("Next update"),
         "element": {"type": "static_select", "action_id": "value", "options": intervals,
                     "initial_option": initial}},
    ]
    metadata = json.dumps({"incident": incident.id, "severity": incident.severity})
    return modal(FORM, "Status update", fields, submit="Post update",
                 private_metadata=metadata)


def form_metadata(private_metadata: str | None) -> tuple[int | None, str | None]:
    """``(incident id, severity when the form opened)`` from the form's metadata."""
    try:
        meta = json.loads(private_metadata or "")
    except ValueError:
        return None, None
    if not isinstance(meta, dict) or not isinstance(meta.get("incident"), int):
        return None, None
    return meta["incident"], meta.get("severity") if isinstance(meta.get("severity"),
                                                                str) else None
