"""Block Kit for incidents: the pinned card, announcements, the list line, the start form.

Titles and facts are stored as typed (``bot.common.text``): they are escaped here for
mrkdwn, or made readable for ``plain_text``, and fitted to Slack's limits
(``bot.slack.limits``) after that, so the card stays updatable whatever was typed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.common.splitting import cut
from bot.common.text import mrkdwn, readable
from bot.common.timeparse import format_duration, format_time
from bot.slack import limits
from bot.slack.blocks import modal, plain
from storage.models import Incident, TimelineEntry

STATUS_EMOJI = {
    "investigating": ":mag:",
    "identified": ":bulb:",
    "monitoring": ":eyes:",
    "resolved": ":white_check_mark:",
}
SEVERITY_EMOJI = {"sev1": ":red_circle:", "sev2": ":large_orange_circle:",
                  "sev3": ":large_yellow_circle:", "sev4": ":white_circle:"}


def header_text(incident: Incident) -> str:
    """``INC-7: Checkout & login fail for <EU> users`` as plain text, within a header's limit."""
    return limits.fit(f"{incident.ref}: {readable(incident.title)}", limits.HEADER_TEXT)


def title(incident: Incident) -> str:
    """The title as mrkdwn (escaped; mentions kept)."""
    return mrkdwn(incident.title)


def role_label(role: str) -> str:
    return role.replace("-", " ").replace("_", " ").capitalize()


def roles_line(incident: Incident, roles: Sequence[str]) -> str | None:
    """``*Comms* @ann · *Scribe* _none_``: the roles besides the lead (None if there are none)."""
    held = incident.roles or {}
    parts = [f"*{role_label(r)}* " + (f"<@{held[r]}>" if held.get(r) else "_none_")
             for r in roles if r != "lead"]
    parts += [f"*{role_label(r)}* <@{u}>" for r, u in held.items()
              if u and r not in roles and r != "lead"]  # a role since removed from the setting
    return " · ".join(parts) or None


#: Characters of the latest status update shown on the card (the update itself has it all).
CARD_UPDATE_CHARS = 300


def update_lines(incident: Incident, latest: TimelineEntry | None, tz: ZoneInfo) -> str | None:
    """The card's status-update section: the latest update (short) and when the next is due.

    ``None`` before any update when no next one is due either (a sev4, ``UPDATE_EVERY=off``).
    """
    lines = []
    if latest is not None:
        data = latest.data or {}
        said = cut(" ".join(str(data.get("impact") or "").split()), CARD_UPDATE_CHARS)
        lines.append(f"*Latest update* (#{data.get('number', '?')}, "
                     f"{format_time(latest.created_at, tz)}, <@{latest.actor_user_id}>): "
                     f"{mrkdwn(said)}")
    if incident.next_update_at is not None:
        lines.append(f"*Next update* due by {format_time(incident.next_update_at, tz)} "
                     "(`/incident update`)")
    elif latest is not None and incident.status != "resolved":
        lines.append("*Next update*: none expected")
    return limits.fit("\n".join(lines), limits.SECTION_TEXT) if lines else None


def incident_card(incident: Incident, tz: ZoneInfo, roles: Sequence[str] = (), *,
                  latest: TimelineEntry | None = None,
                  page_url: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The pinned card: title, severity, status, lead, start (and end), the other roles,
    the latest status update and when the next is due, and a link back (and to the
    incident's web page, ``page_url``, with ``WEB_BASE_URL``)."""
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
        {"type": "section", "fields": [{"type": "mrkdwn", "text": limits.fit(f, limits.FIELD_TEXT)}
                                       for f in fields[:limits.SECTION_FIELDS]]},
    ]
    if incident.summary:
        # Cut in the card only: the postmortem shows the whole summary.
        summary = limits.fit(f"*Summary*\n{mrkdwn(incident.summary)}", limits.SECTION_TEXT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": summary}})
    line = roles_line(incident, roles)
    if line:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": limits.fit(line, limits.SECTION_TEXT)}})
    updates = update_lines(incident, latest, tz)
    if updates:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": updates}})
    context = [":lock: Private: only this channel's members see this incident"] \
        if incident.is_private else []
    if incident.origin_channel_id and incident.origin_channel_id != incident.channel_id:
        context.append(f"Declared in <#{incident.origin_channel_id}> by <@{incident.created_by}>")
    else:
        context.append(f"Declared by <@{incident.created_by}>")
    if page_url:
        context.append(f"<{page_url}|Incident page>")
    context.append("`/incident help` for commands")
    blocks.append({"type": "context",
                   "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    text = (f"{incident.ref}: {title(incident)} — {incident.severity.upper()}, "
            f"{incident.status}")
    return limits.fit(text, limits.UPDATE_TEXT), blocks


def announcement(incident: Incident) -> str:
    where = f"<#{incident.channel_id}>" if incident.channel_id else "(no channel yet)"
    return (f":rotating_light: *{incident.ref}* ({incident.severity.upper()}) opened by "
            f"<@{incident.created_by}>: {title(incident)} — join {where}")


def incident_line(incident: Incident, tz: ZoneInfo) -> str:
    where = f"<#{incident.channel_id}>" if incident.channel_id else "no channel"
    return (f"• *{incident.ref}* {incident.severity.upper()} · {incident.status} · "
            f"{title(incident)} · {where} · lead <@{incident.lead_user_id}> · since "
            f"{format_time(incident.started_at, tz)}")


def start_modal(channel_id: str, response_url: str | None) -> dict[str, Any]:
    """The ``/incident start`` modal (title, severity, one line of description).

    Its private metadata carries where the command was typed and the command's response
    URL: in a private channel or a DM the bot is not in, that URL is the only way to
    answer there (``channel_not_found`` for the Web API).
    """
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
        {"type": "input", "block_id": "private", "optional": True,
         "label": plain("Visibility"),
         "element": {"type": "checkboxes", "action_id": "value", "options": [
             {"text": plain("Private"), "value": "private",
              "description": plain("A private channel; announced nowhere, listed only to "
                                   "its members")}]}},
    ]
    metadata = json.dumps({"channel": channel_id, "response_url": response_url})
    return modal("incident_start", "Start an incident", fields, submit="Start",
                 private_metadata=metadata)


def start_metadata(private_metadata: str | None) -> tuple[str | None, str | None]:
    """``(channel, response_url)`` from the start modal's metadata (a bare channel id from a
    form opened before the response URL was kept)."""
    try:
        meta = json.loads(private_metadata or "")
    except ValueError:
        return private_metadata or None, None
    if not isinstance(meta, dict):
        return None, None
    return meta.get("channel") or None, meta.get("response_url") or None
