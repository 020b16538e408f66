"""Block Kit for update nudges: the nudge with its two buttons, and its answered forms."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from bot.common.timeparse import format_duration
from storage.models import Incident

#: Button action ids: open the update form, and hold nudges back for ``rules.SNOOZE``.
POST_UPDATE = "nudge_post_update"
SNOOZE = "nudge_snooze"


def who(incident: Incident, lead_gone: bool) -> str:
    """Whom the nudge is for: the lead (and the comms role), or a word that there is none."""
    comms = (incident.roles or {}).get("comms")
    if incident.lead_user_id and not lead_gone:
        people = [f"<@{incident.lead_user_id}>"]
        if comms and comms != incident.lead_user_id:
            people.append(f"<@{comms}>")
        return " and ".join(people)
    if comms:
        return f"<@{comms}>"
    return "Anyone here"


def nudge(incident: Incident, since: dt.timedelta, every: dt.timedelta,
          lead_gone: bool) -> tuple[str, list[dict[str, Any]]]:
    """The nudge: how long since the last update, for whom, and the two buttons."""
    last = "No status update yet" if incident.last_update_at is None \
        else f"No status update for {format_duration(since)}"
    text = (f":alarm_clock: {who(incident, lead_gone)}: {last} on *{incident.ref}* "
            f"({incident.severity}: one every {format_duration(every)}). People outside this "
            "channel are waiting to hear where things stand.")
    if not incident.lead_user_id:
        text += " This incident has no lead: `/incident lead @someone`."
    elif lead_gone:
        text += (f" Its lead <@{incident.lead_user_id}> is no longer in the workspace: "
                 "`/incident lead @someone`.")
    value = str(incident.id)
    return text, [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": POST_UPDATE, "style": "primary", "value": value,
             "text": {"type": "plain_text", "text": "Post an update"}},
            {"type": "button", "action_id": SNOOZE, "value": value,
             "text": {"type": "plain_text", "text": "Snooze 30m"}},
        ]},
    ]


def _closed(text: str) -> tuple[str, list[dict[str, Any]]]:
    return text, [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]


def snoozed(incident: Incident, user_id: str, until: dt.datetime,
            tz: ZoneInfo) -> tuple[str, list[dict[str, Any]]]:
    """The nudge after a snooze: who, and when nudges resume."""
    return _closed(f":zzz: <@{user_id}> snoozed update nudges for *{incident.ref}* until "
                   f"{until.astimezone(tz):%H:%M %Z}.")


def answered(incident: Incident, user_id: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The nudge once an update was posted."""
    by = f" by <@{user_id}>" if user_id else ""
    return _closed(f":white_check_mark: Update nudge answered: a status update on "
                   f"*{incident.ref}* was posted{by}.")
