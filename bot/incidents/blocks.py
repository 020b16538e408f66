"""Block Kit for incidents: the pinned card, announcements, the list line, the start form."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.common.timeparse import format_duration, format_time
from bot.slack.blocks import modal, plain
from storage.models import Incident

STATUS_EMOJI = {
    "investigating": ":mag:",
    "identified": ":bulb:",
    "monitoring": ":eyes:",
    "resolved": ":white_check_mark:",
}
SEVERITY_EMOJI = {"sev1": ":red_circle:", "sev2": ":large_orange_circle:",
                  "sev3": ":large_yellow_circle:", "sev4": ":white_circle:"}


def header_text(incident: Incident) -> str:
    text = f"{incident.ref}: {incident.title}"
    return text if len(text) <= 150 else text[:149] + "…"


def incident_card(incident: Incident, tz: ZoneInfo) -> tuple[str, list[dict[str, Any]]]:
    """The pinned card: title, severity, status, lead, start (and end), and a link back."""
    fields = [
        f"*Severity*\n{SEVERITY_EMOJI.get(incident.severity, '')} {incident.severity.upper()}",
        f"*Status*\n{STATUS_EMOJI.get(incident.status, '')} {incident.status.capitalize()}",
        f"*Lead*\n<@{incident.lead_user_id}>" if incident.lead_user_id else "*Lead*\n_none_",
        f"*Started*\n{format_time(incident.started_at, tz)}",
    ]
    if incident.ended_at:
        length = format_duration(incident.ended_at - incident.started_at)
        fields.append(f"*Ended*\n{format_time(incident.ended_at, tz)} ({length})")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header_text(incident)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    if incident.summary:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": f"*Summary*\n{incident.summary}"}})
    context = []
    if incident.origin_channel_id and incident.origin_channel_id != incident.channel_id:
        context.append(f"Declared in <#{incident.origin_channel_id}> by <@{incident.created_by}>")
    else:
        context.append(f"Declared by <@{incident.created_by}>")
    context.append("`/incident help` for commands")
    blocks.append({"type": "context",
                   "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    text = (f"{incident.ref}: {incident.title} — {incident.severity.upper()}, "
            f"{incident.status}")
    return text, blocks


def announcement(incident: Incident) -> str:
    where = f"<#{incident.channel_id}>" if incident.channel_id else "(no channel yet)"
    return (f":rotating_light: *{incident.ref}* ({incident.severity.upper()}) opened by "
            f"<@{incident.created_by}>: {incident.title} — join {where}")


def incident_line(incident: Incident, tz: ZoneInfo) -> str:
    where = f"<#{incident.channel_id}>" if incident.channel_id else "no channel"
    return (f"• *{incident.ref}* {incident.severity.upper()} · {incident.status} · "
            f"{incident.title} · {where} · lead <@{incident.lead_user_id}> · since "
            f"{format_time(incident.started_at, tz)}")


def start_modal(channel_id: str) -> dict[str, Any]:
    """The ``/incident start`` modal (title, severity, one line of description)."""
    options = [{"text": plain(s.upper()), "value": s} for s in ("sev1", "sev2", "sev3", "sev4")]
    fields = [
        {"type": "input", "block_id": "title",
         "label": plain("Title"),
         "element": {"type": "plain_text_input", "action_id": "value", "max_length": 150,
                     "placeholder": plain("Login failures")}},
        {"type": "input", "block_id": "severity", "label": plain("Severity"),
         "element": {"type": "static_select", "action_id": "value", "options": options,
                     "initial_option": options[2]}},
        {"type": "input", "block_id": "description", "optional": True,
         "label": plain("What is happening?"),
         "element": {"type": "plain_text_input", "action_id": "value", "max_length": 500}},
    ]
    return modal("incident_start", "Start an incident", fields, submit="Start",
                 private_metadata=channel_id)
