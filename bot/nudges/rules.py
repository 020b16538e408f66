"""Update nudges: when an open incident's channel is reminded to post a status update.

An incident of a severity that ``UPDATE_EVERY`` names is due for an update at
``incidents.next_update_at``, which every update and status change moves on (the update's
own "next update in", or the severity's interval). Its nudge row (``due_work``, kind
``nudge``) mirrors that time. When the row comes due, the claim's transaction checks the
incident itself: a nudge goes out only if the incident is still open, not ``monitoring``,
and its update is overdue at that very moment (an update posted a moment before moved it
on). Then the nudge repeats every interval until an update comes. A snooze holds the row
back (``hold_until``) for ``SNOOZE``; only one nudge is pending at a time (the next one
replaces it, an update answers it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.common.clock import Clock
from bot.common.errors import NotFound, UserError
from bot.due.pump import DUE, Verdict
from storage import due
from storage import incidents as incident_repo
from storage.db import Database
from storage.models import DueWork, Incident

KIND = "nudge"
SNOOZE = dt.timedelta(minutes=30)
#: Statuses in which no update is expected: the fix is in and being watched, or done.
QUIET_STATUSES = ("monitoring", "resolved")

Every = Mapping[str, dt.timedelta]


def key(incident_id: int) -> str:
    """The nudge row's key for an incident."""
    return f"incident:{incident_id}"


def interval(incident: Incident, every: Every) -> dt.timedelta | None:
    """How often ``incident`` should be updated (None: it is never nudged)."""
    if incident.status in QUIET_STATUSES:
        return None
    return every.get(incident.severity)


def update_due(incident: Incident, every: Every) -> dt.datetime | None:
    """When ``incident``'s next update is due if nobody chose a time: its interval after its
    last update (or after it was opened)."""
    step = interval(incident, every)
    if step is None:
        return None
    return (incident.last_update_at or incident.created_at) + step


def verdict(incident: Incident | None, every: Every, now: dt.datetime) -> Verdict:
    """In the claim's transaction: nudge now (``DUE``), or when to look again (None: never)."""
    if incident is None or interval(incident, every) is None:
        return None
    due_at = incident.next_update_at or update_due(incident, every)
    if due_at is not None and due_at > now:
        return due_at
    return DUE


def next_nudge(incident: Incident, every: Every, now: dt.datetime) -> dt.datetime | None:
    """After a nudge at ``now`` with no update since: the next one, an interval later."""
    step = interval(incident, every)
    return now + step if step is not None else None


def overdue_by(incident: Incident, every: Every, now: dt.datetime) -> dt.timedelta:
    """How long the incident has gone without an update past its due time."""
    due_at = incident.next_update_at or update_due(incident, every) or now
    return max(dt.timedelta(0), now - due_at)


def since_update(incident: Incident, now: dt.datetime) -> dt.timedelta:
    """How long since the last update (or since the incident was opened)."""
    return max(dt.timedelta(0), now - (incident.last_update_at or incident.created_at))


def backfill(session: Session, every: Every, now: dt.datetime) -> int:
    """Give each open incident without a nudge row one (incidents opened before nudges
    existed, or by a path that did not schedule one); returns how many."""
    have = select(DueWork.incident_id).where(DueWork.kind == KIND,
                                             DueWork.incident_id.is_not(None))
    missing = session.scalars(
        select(Incident).where(Incident.status.in_(incident_repo.OPEN_STATUSES),
                               Incident.id.not_in(have))).all()
    for incident in missing:
        if incident.next_update_at is None:
            incident.next_update_at = update_due(incident, every)
        due.schedule(session, KIND, key(incident.id), incident.next_update_at, now=now,
                     incident_id=incident.id)
    return len(missing)


def snooze(db: Database, clock: Clock, team_id: str,
           incident_id: int) -> tuple[Incident, dt.datetime]:
    """Hold the incident's nudges back for ``SNOOZE``; returns it and when they resume."""
    now = clock.now()
    with db.session() as s:
        incident = incident_repo.get(s, incident_id)
        if incident is None or incident.team_id != team_id:
            raise NotFound("That incident no longer exists.")
        if incident.status == "resolved":
            raise UserError(f"{incident.ref} is resolved: there is nothing to snooze.")
        until = now + SNOOZE
        row = due.get(s, KIND, key(incident.id), for_update=True)
        due.schedule(s, KIND, key(incident.id),
                     row.due_at if row is not None else incident.next_update_at, now=now,
                     incident_id=incident.id, hold_until=until)
        return incident, until


def pending(db: Database, incident_id: int) -> tuple[str, str] | None:
    """The nudge waiting for an update in the incident's channel (channel, ts), if any."""
    with db.session() as s:
        row = due.get(s, KIND, key(incident_id))
        if row is None or not (row.message_channel_id and row.message_ts):
            return None
        return row.message_channel_id, row.message_ts


def answered(db: Database, incident_id: int, ts: str) -> None:
    """The nudge ``ts`` was answered (an update came) or replaced: it is no longer pending."""
    with db.session() as s:
        row = due.get(s, KIND, key(incident_id), for_update=True)
        if row is not None and row.message_ts == ts:
            due.forget_message(s, row.id)
