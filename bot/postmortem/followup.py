"""The postmortem follow-up: when a resolved incident's lead hears that its postmortem is
still not published. Pure rules over ``storage/`` (the Slack side is ``followup_slack.py``).

- An incident resolved at moment *r* has ``POSTMORTEM_DUE_DAYS`` working days (Monday to
  Friday, counted in ``INCIDENT_TIMEZONE``) to get a published postmortem: it is due at
  ``due_moment(r)``, the same time of day that many working days later (a resolution on a
  weekend counts from the Monday).
- Then, unless a version is published, its lead gets a DM at their first ``REMINDER_CRON``
  slot at or after that moment in their own time zone, and again on the same day of each
  following week (its first slot) until one is published, the incident is reopened, or the
  lead cannot be reached. With no lead, or a lead who left, the incident's channel is told
  instead, once; handing the lead to someone starts the DMs again.

State is one ``due_work`` row per incident (kind ``KIND``): ``on_change`` keeps it in step
with the incident in the transaction of each change (resolve, reopen, lead), ``backfill``
adds rows for incidents resolved before this existed, and ``check`` decides in the claim's
transaction whether a row is still due (published meanwhile, reopened: never).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot.common.cron import next_slot
from bot.due.pump import DUE, Verdict
from storage import due, followups
from storage.models import DueWork, Incident

KIND = "followup"
#: Incidents resolved this long before the follow-up first runs still get one (older ones
#: would only bring a burst of stale DMs on upgrade).
BACKFILL = dt.timedelta(days=30)
WEEKEND = (5, 6)


def key(incident_id: int) -> str:
    """The row of ``incident_id``'s follow-up: ``incident:<id>``."""
    return f"incident:{incident_id}"


@dataclass(frozen=True)
class Policy:
    """``POSTMORTEM_DUE_DAYS``, ``REMINDER_CRON`` and ``INCIDENT_TIMEZONE``."""

    due_days: int = 5
    cron: str = "0 9 * * mon-fri"
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        return cls(settings.postmortem_due_days, settings.reminder_cron, settings.timezone)


def add_working_days(moment: dt.datetime, days: int, zone: ZoneInfo) -> dt.datetime:
    """``moment`` plus ``days`` working days (Monday to Friday in ``zone``), in UTC.

    The time of day is kept; a moment on a weekend counts from the Monday's midnight, so
    Friday 10:00 + 1 is Monday 10:00 and Saturday 10:00 + 1 is Tuesday 00:00.
    """
    local = moment.astimezone(zone)
    day, clock = local.date(), local.time().replace(tzinfo=None)
    if day.weekday() in WEEKEND:
        day += dt.timedelta(days=7 - day.weekday())
        clock = dt.time(0)
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() not in WEEKEND:
            left -= 1
    return dt.datetime.combine(day, clock, tzinfo=zone).astimezone(dt.UTC)


def due_moment(resolved_at: dt.datetime, policy: Policy) -> dt.datetime:
    """When the postmortem of an incident resolved at ``resolved_at`` is due."""
    return add_working_days(resolved_at, policy.due_days, policy.zone)


def zone_named(name: str | None, default: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else default
    except (ZoneInfoNotFoundError, ValueError):
        return default


def slot_at_or_after(policy: Policy, zone: ZoneInfo, moment: dt.datetime) -> dt.datetime | None:
    """The lead's first reminder slot at or after ``moment`` (None: the cron never fires)."""
    return next_slot(policy.cron, zone, moment, inclusive=True)


def next_week(policy: Policy, zone: ZoneInfo, slot: dt.datetime,
              now: dt.datetime) -> dt.datetime | None:
    """After a follow-up for ``slot``: the first slot from the same weekday a week later
    (midnight in the lead's zone, so daylight saving moves nothing), never before ``now``."""
    day = slot.astimezone(zone).date() + dt.timedelta(days=7)
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    return next_slot(policy.cron, zone, max(midnight, now), inclusive=True)


@dataclass(frozen=True)
class State:
    """Where one incident's follow-up stands, as read in one statement."""

    incident: Incident
    resolved_at: dt.datetime
    due_at: dt.datetime


def state(session: Session, incident_id: int | None, policy: Policy) -> State | None:
    """The follow-up's state, or None when none is wanted any more: the incident is gone,
    open again, or has a published postmortem."""
    if incident_id is None:
        return None
    found = followups.resolution(session, incident_id)
    if found is None:
        return None
    incident, resolved_at, published = found
    if incident.status != "resolved" or published or resolved_at is None:
        return None
    return State(incident, resolved_at, due_moment(resolved_at, policy))


def check(session: Session, row: DueWork, now: dt.datetime, policy: Policy) -> Verdict:
    """In the claim's transaction: is ``row``'s follow-up due now?

    Never when no longer wanted (``state``); else at the lead's first slot at or after both
    the due moment and the row's own time, in the lead's zone as cached (the Slack side
    corrects it with ``Later`` if Slack says otherwise; with no zone cached, at the due
    moment itself, and the Slack side moves it to the slot once it has the zone).
    """
    found = state(session, row.incident_id, policy)
    if found is None:
        return None
    target = max(found.due_at, row.due_at or found.due_at)
    lead = found.incident.lead_user_id
    zone = policy.zone
    if lead:
        cached = followups.zones(session, [lead])
        if lead not in cached:  # zone unknown: the Slack side looks it up once due
            return target if target > now else DUE
        zone = zone_named(cached[lead], policy.zone)
    slot = slot_at_or_after(policy, zone, target)
    if slot is None:
        return None
    return slot if slot > now else DUE


def on_change(session: Session, incident: Incident, event_type: str, now: dt.datetime) -> None:
    """Keep the follow-up in step with a change of ``incident`` (same transaction).

    Resolved: due from now on (``check`` works out when). Reopened: nothing due. A new lead
    of a resolved incident: due again (their first slot once the postmortem is overdue), as
    the previous one may have been gone.
    """
    if event_type == "resolved":
        due.schedule(session, KIND, key(incident.id), now, now=now, incident_id=incident.id)
        return
    again = event_type == "lead" and incident.status == "resolved"
    if (event_type == "reopened" or again) and due.get(session, KIND,
                                                       key(incident.id)) is not None:
        due.schedule(session, KIND, key(incident.id), now if again else None, now=now,
                     incident_id=incident.id)


def backfill(session: Session, now: dt.datetime) -> int:
    """Rows for incidents resolved (within ``BACKFILL``) before the follow-up existed."""
    made = 0
    for incident_id, resolved_at in followups.unpublished_without_row(session, KIND,
                                                                     now - BACKFILL):
        made += due.ensure(session, KIND, key(incident_id), resolved_at, now=now,
                           incident_id=incident_id)
    return made
