"""Incidents: open one, change its status, severity, lead, recorded facts and times.

Every change is one transaction that updates the row and appends an ``event`` entry to the
timeline with its actor and time, so the timeline and postmortem can show it later.

An incident is *recorded after the fact* when it was declared once its impact was over
(``recorded_after_the_fact``); a bare time typed for it is then read on its own days
(``time_frame``, ``read_time``), not at the time's most recent occurrence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.common import text as slacktext
from bot.common import timeparse
from bot.common.clock import Clock
from bot.common.errors import NotFound, UserError
from bot.common.timeparse import Frame, Reading, format_time
from bot.postmortem import followup
from storage import announcements, due, timeline
from storage import incidents as repo
from storage.db import Database
from storage.models import Incident, TimelineEntry

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
STATUSES = ("investigating", "identified", "monitoring", "resolved")
OPEN_STATUSES = repo.OPEN_STATUSES
DEFAULT_SEVERITY = "sev3"
TITLE_LIMIT = 150
FIELD_LIMIT = 3000
#: An unended incident that began on an earlier day counts as recorded after the fact when it
#: began at least this long before it was declared.
AFTER_THE_FACT_GAP = dt.timedelta(hours=12)

#: Subcommand name → (column, label) for the free-text facts of an incident.
FACTS = {
    "summary": ("summary", "Summary"),
    "impact": ("impact", "Impact"),
    "cause": ("root_cause", "Root cause"),
    "resolution": ("resolution", "Resolution"),
    "detection": ("detection", "Detection"),
    "escalation": ("escalation", "Escalation"),
    "misleading": ("misleading", "Misleading paths"),
}


#: ``UPDATE_EVERY``: severity → how long an open incident may go without a status update.
UpdateEvery = Mapping[str, dt.timedelta]
#: The due work that nudges an incident's channel for an update (``storage.due``); its row
#: always mirrors ``Incident.next_update_at``.
NUDGE = "nudge"
#: A person's choice of "no further updates expected" (``next_update_due``).
NO_FURTHER = "none"
#: Events that count as a status update for the update clock (besides ``update`` itself).
STATUS_EVENTS = ("status", "resolved", "reopened")


def nudge_key(incident_id: int) -> str:
    """The key of an incident's update nudge in ``due_work``."""
    return f"incident:{incident_id}"


def next_update_due(status: str, severity: str, every: UpdateEvery, now: dt.datetime,
                    chosen: dt.timedelta | str | None = None) -> dt.datetime | None:
    """When the next status update is due after one posted at ``now``.

    ``chosen`` is what the person said: an interval, ``NO_FURTHER``, or ``None`` for the
    usual rhythm (``every[severity]``). A resolved incident expects none; a chosen interval
    is a promise and is kept in any open status; by default ``monitoring`` expects none
    (the fix is out, people watch) and neither does a severity ``every`` does not name.
    """
    if status == "resolved" or chosen == NO_FURTHER:
        return None
    if isinstance(chosen, dt.timedelta):
        return now + chosen
    if status == "monitoring":
        return None
    interval = every.get(severity)
    return now + interval if interval else None


def schedule_nudge(session: Any, incident: Incident, now: dt.datetime, *,
                   clear_snooze: bool = False) -> None:
    """Make the incident's nudge row mirror its ``next_update_at``, in the caller's
    transaction. An update clears a snooze (``clear_snooze``); other changes keep it."""
    extra: dict[str, Any] = {"hold_until": None} if clear_snooze else {}
    due.schedule(session, NUDGE, nudge_key(incident.id), incident.next_update_at, now=now,
                 incident_id=incident.id, **extra)


def _retime(session: Any, inc: Incident, event_type: str, now: dt.datetime,
            every: UpdateEvery | None) -> None:
    """Keep the update clock right after a change that is not an update itself.

    A status change (resolve and reopen too) counts as an update: the clock restarts from
    now. A severity change keeps the last update and applies the new severity's interval
    to it (overdue at once when the new rhythm was not kept); in ``monitoring`` or resolved
    nothing is expected, so it changes nothing. ``every`` None: the caller leaves the clock
    alone.
    """
    if every is None:
        return
    if event_type in STATUS_EVENTS:
        inc.last_update_at = now
        inc.next_update_at = next_update_due(inc.status, inc.severity, every, now)
    elif event_type == "severity" and inc.status not in ("monitoring", "resolved"):
        base = inc.last_update_at or inc.created_at
        inc.next_update_at = next_update_due(inc.status, inc.severity, every, base)
    else:
        return
    schedule_nudge(session, inc, now)


@dataclass(frozen=True)
class Change:
    """The outcome of a change: the incident after it, and whether anything changed."""

    incident: Incident
    changed: bool
    message: str


def normalize_severity(value: str) -> str:
    """``SEV1``, ``sev1``, ``1``, ``s1`` → ``sev1``; anything else is a ``UserError``."""
    v = value.strip().lower()
    if re.fullmatch(r"(sev|s)?[1-4]", v):
        return "sev" + v[-1]
    raise UserError(f"`{slacktext.quote(value)}` is not a severity. "
                    f"Use one of {', '.join(SEVERITIES)}.")


def normalize_status(value: str) -> str:
    v = value.strip().lower()
    for status in STATUSES:
        if v and status.startswith(v):
            return status
    raise UserError(f"`{slacktext.quote(value)}` is not a status. "
                    f"Use one of {', '.join(STATUSES)}.")


def clean_title(title: str) -> str:
    cleaned = slacktext.clean(title.replace("\n", " "))
    if not cleaned:
        raise UserError("An incident needs a title, e.g. `/incident start Login failures`.")
    if len(cleaned) > TITLE_LIMIT:
        raise UserError(f"That title is {len(cleaned)} characters; keep it under {TITLE_LIMIT}.")
    return cleaned


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by ``-`` (accents folded, everything else dropped)."""
    folded = unicodedata.normalize("NFKD", slacktext.readable(text)).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]+", "-", folded.decode().lower()).strip("-")


def channel_name(prefix: str, number: int, title: str, attempt: int = 0, limit: int = 80) -> str:
    """``inc-42-login-failures`` (``-2``, ``-3`` … on retries), a valid Slack name ≤ ``limit``."""
    head = f"{slugify(prefix) or 'inc'}-{number}"
    suffix = f"-{attempt + 1}" if attempt else ""
    slug = slugify(title)[: max(0, limit - len(head) - len(suffix) - 1)].strip("-")
    return f"{head}-{slug}{suffix}" if slug else f"{head}{suffix}"


def open_incident(
    db: Database, clock: Clock, *, team_id: str, user_id: str, title: str,
    severity: str = DEFAULT_SEVERITY, description: str | None = None,
    origin_channel_id: str | None = None, private: bool = False,
    update_every: UpdateEvery | None = None,
) -> Incident:
    """Store a new incident led by the person who opened it (``private``: worked in a
    private channel, seen only by its members; ``bot.incidents.access``).

    With ``update_every``, its first status update is due one interval after it opened.
    """
    now = clock.now()
    title = clean_title(title)
    severity = normalize_severity(severity)
    description = slacktext.clean(description, FIELD_LIMIT) if description else None
    with db.session() as s:
        incident = repo.create(
            s, team_id=team_id, now=now, title=title, severity=severity,
            status="investigating", lead_user_id=user_id, created_by=user_id,
            started_at=now, description=description or None, summary=description or None,
            origin_channel_id=origin_channel_id, is_private=private,
        )
        kind = "private, " if private else ""
        timeline.add_event(
            s, incident_id=incident.id, event_type="opened", actor=user_id, now=now,
            text=f"Incident opened by <@{user_id}> ({kind}{severity}): {title}",
            data={"private": True} if private else None,
        )
        if update_every is not None:
            incident.next_update_at = next_update_due(incident.status, severity,
                                                      update_every, now)
            schedule_nudge(s, incident, now)
    return incident


#: How long a retry of the same ``/incident start`` resumes the unfinished incident.
RESUME_WINDOW = dt.timedelta(minutes=30)


def unfinished_start(db: Database, clock: Clock, *, team_id: str, user_id: str,
                     title: str) -> Incident | None:
    """The incident this same start (same person, same title) opened recently but could
    not finish setting up: a database outage cut it between its steps."""
    with db.session() as s:
        return repo.unfinished_start(s, team_id=team_id, user_id=user_id,
                                     title=clean_title(title),
                                     since=clock.now() - RESUME_WINDOW)


def attach_channel(db: Database, incident_id: int, channel_id: str, name: str) -> None:
    with db.session() as s:
        inc = _require(repo.get(s, incident_id, for_update=True))
        inc.channel_id, inc.channel_name = channel_id, name


def set_card(db: Database, incident_id: int, card_ts: str) -> None:
    with db.session() as s:
        _require(repo.get(s, incident_id, for_update=True)).card_ts = card_ts


def for_channel(db: Database, channel_id: str, team_id: str | None) -> Incident | None:
    """The incident of ``channel_id`` in workspace ``team_id`` (``None``: any workspace)."""
    with db.session() as s:
        return repo.by_channel(s, channel_id, team_id=team_id)


def get(db: Database, incident_id: int, team_id: str) -> Incident:
    """Incident ``incident_id`` if it belongs to workspace ``team_id``."""
    with db.session() as s:
        inc = _require(repo.get(s, incident_id))
    if inc.team_id != team_id:
        raise NotFound("That incident is not in this workspace.")
    return inc


def by_ref(db: Database, team_id: str, ref: str) -> Incident:
    """Find ``INC-42`` / ``42`` in this workspace."""
    m = re.fullmatch(r"(?:inc-?)?(\d+)", ref.strip().lower())
    if not m:
        raise UserError(f"`{ref}` is not an incident number like `INC-42`.")
    with db.session() as s:
        inc = repo.by_number(s, team_id, int(m.group(1)))
    if inc is None:
        raise NotFound(f"There is no incident INC-{m.group(1)} in this workspace.")
    return inc


def latest_update(db: Database, incident_id: int) -> TimelineEntry | None:
    """The incident's latest status update (``/incident update``), for its card."""
    with db.session() as s:
        return timeline.latest_event(s, incident_id, "update")


def announcement_root(db: Database, incident_id: int, channel_id: str) -> str | None:
    """The ``ts`` of Sitrep's first message about the incident in ``channel_id``, if known:
    later status updates go in its thread."""
    with db.session() as s:
        return announcements.root(s, incident_id, channel_id)


def record_announcement(db: Database, clock: Clock, incident_id: int, channel_id: str,
                        ts: str) -> str:
    """Keep ``ts`` as the incident's thread root in ``channel_id`` unless one is kept
    already; returns the root that is kept."""
    with db.session() as s:
        return announcements.record(s, incident_id=incident_id, channel_id=channel_id, ts=ts,
                                    now=clock.now())


def list_open(db: Database, team_id: str) -> Sequence[Incident]:
    with db.session() as s:
        return repo.list_open(s, team_id)


def recorded_after_the_fact(incident: Incident, tz: ZoneInfo) -> bool:
    """Whether ``incident`` was declared once its impact was over.

    Its impact ended before it was declared; or, while the end is not known, its impact
    began on an earlier day (in ``tz``) than it was declared, and not just before (an
    outage that began at 23:30 and was declared at 00:10 is being handled live). An
    incident resolved with ``resolve`` ends when it is resolved, after it was declared:
    it was live.
    """
    started, declared = incident.started_at, incident.created_at
    if incident.ended_at is not None:
        return incident.ended_at < declared
    return (started.astimezone(tz).date() < declared.astimezone(tz).date()
            and declared - started >= AFTER_THE_FACT_GAP)


def time_frame(db: Database, incident: Incident, tz: ZoneInfo) -> Frame | None:
    """The incident's own days, for reading bare times; ``None`` for a live incident.

    From the impact start to the impact end, or while the end is not known, to the latest
    moment of the story recorded so far (notes, pins and the detection before it was
    declared; what was posted while writing it up does not count).
    """
    if not recorded_after_the_fact(incident, tz):
        return None
    end = incident.ended_at
    if end is None:
        with db.session() as s:
            latest = timeline.latest_of(s, incident.id, ("note", "message"),
                                        since=incident.started_at, before=incident.created_at)
        known = [incident.started_at, latest, incident.detected_at]
        end = max(t for t in known if t is not None)
    return Frame(incident.started_at, max(end, incident.started_at))


def read_time(db: Database, incident: Incident, text: str, tz: ZoneInfo,
              now: dt.datetime, *, not_before: dt.datetime | None = None) -> Reading:
    """``text`` as a moment of ``incident``: bare times on its own days if recorded after
    the fact, else at their most recent occurrence.

    Other days before ``not_before`` (an end or a detection before the start) are not
    offered as alternatives.
    """
    reading = timeparse.read_time(text, tz, now, time_frame(db, incident, tz))
    if not_before is None:
        return reading
    others = tuple(o for o in reading.others if o >= not_before)
    return dataclasses.replace(reading, others=others)


def _require(incident: Incident | None) -> Incident:
    if incident is None:
        raise NotFound("That incident no longer exists.")
    return incident


def _change(db: Database, clock: Clock, incident_id: int, actor: str, apply,  # type: ignore[no-untyped-def]
            every: UpdateEvery | None = None) -> Change:
    """Run ``apply(session, incident, now) -> (event_type, text, data) | str`` in one unit.

    ``apply`` returns a string (a "nothing to do" message) or the event to record. With
    ``every`` (``UPDATE_EVERY``), the update clock and its nudge follow the change.
    """
    now = clock.now()
    with db.session() as s:
        inc = _require(repo.get(s, incident_id, for_update=True))
        outcome = apply(inc, now)
        if isinstance(outcome, str):
            return Change(inc, False, outcome)
        record_event(s, inc, now, actor, outcome)
        _retime(s, inc, outcome[0], now, every)
        s.flush()
        return Change(inc, True, outcome[1])


def record_event(session: Any, inc: Incident, now: dt.datetime, actor: str,
                 outcome: tuple[str, str, dict[str, Any] | None]) -> TimelineEntry:
    """Append a change's ``(event_type, text, data)`` to the timeline and stamp the row; keep
    the postmortem follow-up's row in step (resolved, reopened, a new lead)."""
    event_type, message, data = outcome
    inc.updated_at = now
    followup.on_change(session, inc, event_type, now)
    return timeline.add_event(session, incident_id=inc.id, event_type=event_type, actor=actor,
                              now=now, text=message, data=data)


def status_effect(inc: Incident, now: dt.datetime, status: str,
                  resolution: str | None = None):  # type: ignore[no-untyped-def]
    """Move ``inc`` to ``status`` (normalized); the event to record, or why nothing changed.

    Resolving stamps the end time unless one was set by hand; leaving ``resolved`` reopens.
    """
    if status == inc.status and not resolution:
        return f"{inc.ref} is already *{status}*."
    previous = inc.status
    if resolution:
        inc.resolution = slacktext.clean(resolution, FIELD_LIMIT)
    if status == "resolved" and not inc.ended_at_set:
        inc.ended_at = now
    if previous == "resolved" and status != "resolved":
        return _reopen_effect(inc, now, status)
    inc.status = status
    if status == "resolved":
        return "resolved", "Incident resolved", {"from": previous}
    return "status", f"Status changed from {previous} to {status}", {
        "from": previous, "to": status,
    }


def set_status(db: Database, clock: Clock, incident_id: int, actor: str, status: str,
               resolution: str | None = None, *,
               update_every: UpdateEvery | None = None) -> Change:
    """Move to ``status``; resolving stamps the end time unless one was set by hand."""
    status = normalize_status(status)

    def apply(inc: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        return status_effect(inc, now, status, resolution)

    return _change(db, clock, incident_id, actor, apply, update_every)


def _reopen_effect(inc: Incident, now: dt.datetime, status: str = "investigating"):  # type: ignore[no-untyped-def]
    inc.status = status
    if not inc.ended_at_set:
        inc.ended_at = None
    return "reopened", f"Reopened ({status})", {"to": status}


def resolve(db: Database, clock: Clock, incident_id: int, actor: str,
            resolution: str | None = None, *,
            update_every: UpdateEvery | None = None) -> Change:
    return set_status(db, clock, incident_id, actor, "resolved", resolution or None,
                      update_every=update_every)


def reopen(db: Database, clock: Clock, incident_id: int, actor: str, *,
           update_every: UpdateEvery | None = None) -> Change:
    def apply(inc: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        if inc.status != "resolved":
            return f"{inc.ref} is still open (*{inc.status}*); nothing to reopen."
        return _reopen_effect(inc, now)

    return _change(db, clock, incident_id, actor, apply, update_every)


def set_severity(db: Database, clock: Clock, incident_id: int, actor: str, value: str, *,
                 update_every: UpdateEvery | None = None) -> Change:
    severity = normalize_severity(value)

    def apply(inc: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        if inc.severity == severity:
            return f"{inc.ref} is already *{severity}*."
        previous, inc.severity = inc.severity, severity
        return "severity", f"Severity changed from {previous} to {severity}", {
            "from": previous, "to": severity,
        }

    return _change(db, clock, incident_id, actor, apply, update_every)


def set_lead(db: Database, clock: Clock, incident_id: int, actor: str, lead_user_id: str) -> Change:
    def apply(inc: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        if inc.lead_user_id == lead_user_id:
            return f"<@{lead_user_id}> already leads {inc.ref}."
        previous, inc.lead_user_id = inc.lead_user_id, lead_user_id
        return "lead", f"Lead changed to <@{lead_user_id}>", {
            "from": previous, "to": lead_user_id, "role": "lead",
        }

    return _change(db, clock, incident_id, actor, apply)


def role_label(role: str) -> str:
    """``comms`` → ``Comms``; ``incident-commander`` → ``Incident commander``."""
    return role.replace("-", " ").replace("_", " ").capitalize()


def normalize_role(value: str, roles: Sequence[str]) -> str:
    """A role name as configured (``INCIDENT_ROLES``), or a ``UserError`` listing them."""
    v = value.strip().lower()
    if v in roles:
        return v
    raise UserError(f"`{slacktext.quote(value)}` is not a role here. The roles are "
                    f"{', '.join(f'`{r}`' for r in roles)} (`INCIDENT_ROLES`).")


def set_role(db: Database, clock: Clock, incident_id: int, actor: str, role: str,
             user_id: str | None) -> Change:
    """Give ``role`` to ``user_id``, or clear it (``None``); the lead is ``set_lead``."""
    if role == "lead":
        if user_id is None:
            raise UserError("An incident always has a lead: hand it to someone with "
                            "`/incident lead @someone`.")
        return set_lead(db, clock, incident_id, actor, user_id)
    label = role_label(role)

    def apply(inc: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        roles = dict(inc.roles or {})
        previous = roles.get(role)
        if previous == user_id:
            return (f"<@{user_id}> is already {label.lower()} of {inc.ref}." if user_id
                    else f"Nobody is {label.lower()} of {inc.ref}.")
        if user_id is None:
            roles.pop(role, None)
        else:
            roles[role] = user_id
        inc.roles = roles or None
        text = f"{label} set to <@{user_id}>" if user_id else f"{label} cleared"
        return "role", text, {"role": role, "from": previous, "to": user_id}

    return _change(db, clock, incident_id, actor, apply)


def set_fact(db: Database, clock: Clock, incident_id: int, actor: str, fact: str,
             value: str) -> Change:
    """Record one of ``FACTS`` (impact, root cause, …) as cleaned, inert text."""
    column, label = FACTS[fact]
    cleaned = slacktext.clean(value)
    if not cleaned:
        raise UserError(f"Say what the {label.lower()} is, e.g. `/incident {fact} &lt;text&gt;`.")
    if len(cleaned) > FIELD_LIMIT:
        raise UserError(f"That is {len(cleaned)} characters; keep it under {FIELD_LIMIT}.")

    def apply(inc: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        if getattr(inc, column) == cleaned:
            return f"{label} is already set to that."
        setattr(inc, column, cleaned)
        return fact, f"{label} recorded", {"field": column}

    return _change(db, clock, incident_id, actor, apply)


def set_started(db: Database, clock: Clock, incident_id: int, actor: str, when: dt.datetime,
                tz: ZoneInfo) -> Change:
    """Correct when the impact began (often before anyone opened the incident)."""

    def apply(inc: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        if when > now + dt.timedelta(minutes=5):
            raise UserError("The start can't be in the future.")
        if inc.ended_at and when >= inc.ended_at:
            raise UserError(
                f"The start must be before the end ({format_time(inc.ended_at, tz)})."
            )
        if inc.detected_at and when > inc.detected_at:
            raise UserError(
                f"The start must be at or before the detection "
                f"({format_time(inc.detected_at, tz)}); correct `detected` first."
            )
        previous, inc.started_at = inc.started_at, when
        return "started", f"Impact start set to {format_time(when, tz)}", {
            "from": previous.isoformat(), "to": when.isoformat(),
        }

    return _change(db, clock, incident_id, actor, apply)


def set_ended(db: Database, clock: Clock, incident_id: int, actor: str, when: dt.datetime,
              tz: ZoneInfo) -> Change:
    """Record when the impact ended (it stays recorded when the incident is resolved)."""

    def apply(inc: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        if when > now + dt.timedelta(minutes=5):
            raise UserError("The end can't be in the future.")
        if when <= inc.started_at:
            raise UserError(
                f"The end must be after the start ({format_time(inc.started_at, tz)})."
            )
        inc.ended_at, inc.ended_at_set = when, True
        return "ended", f"Impact end set to {format_time(when, tz)}", {"to": when.isoformat()}

    return _change(db, clock, incident_id, actor, apply)


def set_detected(db: Database, clock: Clock, incident_id: int, actor: str, when: dt.datetime,
                 tz: ZoneInfo) -> Change:
    """Record when the problem was detected (the start of "time to detect" is the impact's).

    Never before the impact began, so time to detect is never negative.
    """

    def apply(inc: Incident, now: dt.datetime):  # type: ignore[no-untyped-def]
        if when > now + dt.timedelta(minutes=5):
            raise UserError("The detection can't be in the future.")
        if when < inc.started_at:
            raise UserError(
                f"The detection can't be before the impact began "
                f"({format_time(inc.started_at, tz)}); if it began earlier, correct "
                "`started` first."
            )
        if inc.detected_at == when:
            return f"The detection is already set to {format_time(when, tz)}."
        previous, inc.detected_at = inc.detected_at, when
        return "detected", f"Detection time set to {format_time(when, tz)}", {
            "from": previous.isoformat() if previous else None, "to": when.isoformat(),
        }

    return _change(db, clock, incident_id, actor, apply)
