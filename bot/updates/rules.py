"""Status updates: what ``/incident update`` means, what it records, when the next is due.

An update is one transaction (``post_update``): the status change if the status changes
(recorded exactly as ``/incident status`` records it, via ``bot.incidents.rules``), an
``update`` event on the timeline (its number, the status, the impact, what's next and when
the next update is due), the update clock (``last_update_at``, ``next_update_at``) and the
nudge's due row, which mirrors ``next_update_at`` and loses any snooze.

Text is stored as typed (``bot.common.text``); each output escapes it its own way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.common import text as slacktext
from bot.common.clock import Clock
from bot.common.errors import NotFound, UserError
from bot.incidents import rules as incidents
from bot.incidents.rules import NO_FURTHER, STATUSES, UpdateEvery, next_update_due
from storage import incidents as incident_repo
from storage import timeline
from storage.db import Database
from storage.models import Incident

#: Characters of each part of an update (impact, what's next) kept.
TEXT_LIMIT = 3000
#: The intervals the form offers for the next update (``UPDATE_EVERY``'s own are added).
CHOICES: Mapping[str, dt.timedelta] = {
    "15m": dt.timedelta(minutes=15), "30m": dt.timedelta(minutes=30),
    "1h": dt.timedelta(hours=1), "2h": dt.timedelta(hours=2), "4h": dt.timedelta(hours=4),
}
_CHOICE = re.compile(r"(\d+)(m|h|d)")
_UNIT = {"m": 60, "h": 3600, "d": 86400}
USAGE = ("`/incident update [investigating|identified|monitoring|resolved] <what is "
         "happening>`, or `/incident update` alone for the form")


@dataclass(frozen=True)
class Draft:
    """``/incident update [<status>] <text>`` as typed: an optional status, then the text."""

    status: str | None
    text: str


def parse(args: str) -> Draft:
    """Split an optional leading status word (a whole word, any case, a trailing ``:``
    allowed) from the text: ``"Identified: bad deploy"`` → ``Draft("identified", "bad
    deploy")``. A sentence that merely starts like a status (``"investigation ongoing"``) is
    all text."""
    text = args.strip()
    head, rest = [*re.split(r"\s+", text, maxsplit=1), ""][:2]
    if head.rstrip(":,.").lower() in STATUSES:
        return Draft(head.rstrip(":,.").lower(), rest.strip())
    return Draft(None, text)


def label(delta: dt.timedelta) -> str:
    """``15m``, ``1h``, ``90m``, ``1d``: the value of an interval in the form."""
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"


def choices(every: UpdateEvery) -> list[tuple[str, dt.timedelta]]:
    """The form's intervals, shortest first: ``CHOICES`` and every ``UPDATE_EVERY`` value."""
    found = dict(CHOICES)
    for delta in every.values():
        found.setdefault(label(delta), delta)
    return sorted(found.items(), key=lambda item: item[1])


def parse_choice(value: str | None) -> dt.timedelta | str | None:
    """The form's ``next update in`` value: an interval, ``NO_FURTHER``, or ``None``."""
    if not value:
        return None
    if value == NO_FURTHER:
        return NO_FURTHER
    match = _CHOICE.fullmatch(value)
    if not match or int(match.group(1)) <= 0:
        raise UserError("Choose when the next update comes from the list.")
    return dt.timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])


def default_choice(status: str, severity: str, every: UpdateEvery) -> str:
    """What the form preselects: no further updates in ``monitoring`` (or where
    ``UPDATE_EVERY`` names no interval), else the severity's interval."""
    interval = every.get(severity)
    if status in ("monitoring", "resolved") or interval is None:
        return NO_FURTHER
    return label(interval)


def check_next(status: str, severity: str, every: UpdateEvery,
               chosen: dt.timedelta | str | None) -> str | None:
    """Why ``chosen`` does not fit ``status`` (for the form's field), or ``None`` if it does.

    "No further updates" while the incident is still being worked on (investigating or
    identified, at a severity ``UPDATE_EVERY`` names) would silence the nudges that keep
    stakeholders informed: it fits ``monitoring`` or ``resolved``.
    """
    if (chosen == NO_FURTHER and status in ("investigating", "identified")
            and severity in every):
        return (f"While {status}, say when the next update comes; \"no further updates\" "
                "fits monitoring or resolved.")
    return None


def clean(text: str | None, what: str) -> str:
    cleaned = slacktext.clean(text or "")
    if len(cleaned) > TEXT_LIMIT:
        raise UserError(f"{what} is {len(cleaned)} characters; keep it under {TEXT_LIMIT}.")
    return cleaned


@dataclass(frozen=True)
class Posted:
    """An update as recorded: what to post, and what changed with it."""

    incident: Incident
    #: The update's number (1, 2, …) and its timeline entry's number (``seq``, never reused:
    #: the idempotency key of its messages).
    number: int
    seq: int
    status: str
    previous_status: str
    impact: str
    next_steps: str | None
    next_update_at: dt.datetime | None
    posted_at: dt.datetime
    #: The status change's message when the update changed the status (else ``None``).
    status_change: str | None

    @property
    def resolved_now(self) -> bool:
        return self.status == "resolved" and self.previous_status != "resolved"

    @property
    def status_changed(self) -> bool:
        return self.status_change is not None


def post_update(db: Database, clock: Clock, incident_id: int, actor: str, *, impact: str,
                status: str | None = None, next_steps: str | None = None,
                next_in: dt.timedelta | str | None = None,
                every: UpdateEvery) -> Posted:
    """Record a status update, in one transaction (see the module's docstring).

    ``status`` ``None`` keeps the status; ``resolved`` resolves (the end time is stamped
    unless set by hand), and leaving ``resolved`` reopens, as ``/incident status`` does.
    ``next_in``: the person's choice (``next_update_due``).
    """
    impact = clean(impact, "The update")
    if not impact:
        raise UserError(f"Say what is happening, e.g. {USAGE}.")
    next_steps = clean(next_steps, "What's next") or None
    wanted = incidents.normalize_status(status) if status else None
    now = clock.now()
    with db.session() as s:
        inc = incident_repo.get(s, incident_id, for_update=True)
        if inc is None:
            raise NotFound("That incident no longer exists.")
        previous = inc.status
        status_change = None
        if wanted and wanted != inc.status:
            outcome = incidents.status_effect(inc, now, wanted)
            assert not isinstance(outcome, str)
            incidents.record_event(s, inc, now, actor, outcome)
            status_change = outcome[1]
        problem = check_next(inc.status, inc.severity, every, next_in)
        if problem:
            raise UserError(problem)
        next_at = next_update_due(inc.status, inc.severity, every, now, next_in)
        last = timeline.latest_event(s, inc.id, "update")
        number = int((last.data or {}).get("number", 0)) + 1 if last is not None else 1
        data: dict[str, Any] = {
            "number": number, "status": inc.status, "impact": impact,
            "next_steps": next_steps,
            "next_update_at": next_at.isoformat() if next_at else None,
        }
        if status_change:
            data["from"] = previous
        text = f"Status update {number} ({inc.status}): {impact}"
        if next_steps:
            text += f"\nNext: {next_steps}"
        entry = incidents.record_event(s, inc, now, actor, ("update", text, data))
        inc.last_update_at, inc.next_update_at = now, next_at
        incidents.schedule_nudge(s, inc, now, clear_snooze=True)
        s.flush()
        return Posted(inc, number, entry.seq, inc.status, previous, impact, next_steps,
                      next_at, now, status_change)
