"""The pump of due work rows: claim what is due under a lease, deliver it, record it.

Each kind of due work (an incident's update nudge, a postmortem follow-up, the digest) is a
``Kind``: the rules that say whether a claimed row is still due, and the sender that
delivers it. The pump is the same for all, and the same as the task reminders' sweep
(``bot.tasks.reminders``), whose rows are the tasks themselves:

1. in one transaction, lock due rows (``storage.due.claim``: ``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL), ask the kind whether each is still due *in that transaction* (an update
   posted a moment before moved the nudge on, so it is not sent), and lease those that are;
2. deliver each, outside any transaction (Slack calls never hold a lock);
3. record each outcome: delivered (its next time, computed by the kind), due again next pass,
   backing off, or not due after all. A record is refused if the lease was lost meanwhile (a
   person's change won), and the kind is told so it can withdraw what it just posted.

A row found leased by a pass that died was claimed and never recorded: its delivery may have
reached Slack, so the kind looks for it (its message metadata) before sending again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.due.lease import LEASE, retry_delay, worker_id
from bot.due.outcome import Failed, Later, Outcome, Paused, Retry, Sent, Unreachable
from storage import due
from storage.db import Database
from storage.models import DueWork

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: Rows claimed (and leased) per transaction.
BATCH = 10


@dataclass(frozen=True)
class Due:
    """The verdict of ``Kind.check`` in the claim's transaction: deliver this row now."""


DUE = Due()
#: ``Kind.check``'s answer: ``DUE``, or the time to look again (None: nothing is due).
Verdict = Due | dt.datetime | None


class Kind(Protocol):
    """One kind of due work rows (``DueWork.kind == name``)."""

    name: str

    def ensure(self, session: Session, now: dt.datetime) -> None:
        """Create rows that should exist but do not (once per pass; usually nothing)."""
        ...

    def check(self, session: Session, row: DueWork, now: dt.datetime) -> Verdict:
        """Whether ``row`` is due now, decided in the claim's transaction (no Slack here)."""
        ...

    def deliver(self, row: DueWork, now: dt.datetime) -> Outcome:
        """Send it (Slack calls happen here, after the claim committed)."""
        ...

    def find(self, row: DueWork, since: dt.datetime) -> Sent | None:
        """The delivery of ``row`` if one reached Slack after ``since`` (a pass died)."""
        ...

    def next_at(self, row: DueWork, now: dt.datetime) -> dt.datetime | None:
        """When ``row`` is next due after a delivery at ``now`` (None: not again)."""
        ...

    def superseded(self, row: DueWork, sent: Sent) -> None:
        """``sent`` went out, but the row changed meanwhile (lease lost): undo if it should."""
        ...


@dataclass
class KindReport:
    """What one pass did with one kind."""

    sent: int = 0
    retried: int = 0
    backed_off: int = 0
    recovered: int = 0
    superseded: int = 0
    paused: str | None = None
    sent_keys: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.sent or self.retried or self.backed_off or self.recovered
                    or self.superseded or self.paused)

    def __str__(self) -> str:
        parts = [f"{self.sent} sent"]
        for name in ("retried", "backed_off", "recovered", "superseded"):
            if value := getattr(self, name):
                parts.append(f"{value} {name.replace('_', ' ')}")
        if self.paused:
            parts.append(f"paused: {self.paused}")
        return ", ".join(parts)


def _claim(db: Database, kind: Kind, now: dt.datetime, worker: str,
           after_id: int) -> tuple[list[tuple[DueWork, dt.datetime | None]], int | None]:
    """Lock due rows, keep those still due, lease them (one transaction).

    Returns (row, when a dead pass's lease began or None) pairs, and the id to continue
    after (None: no more).
    """
    with db.session() as s:
        rows = due.claim(s, kind.name, now, after_id=after_id, limit=BATCH)
        if not rows:
            return [], None
        claimed = []
        for row in rows:
            verdict = kind.check(s, row, now)
            if isinstance(verdict, Due):
                unsure = (row.lease_until - LEASE if row.lease_owner is not None
                          and row.lease_until is not None else None)
                claimed.append((row, unsure))
            else:
                due.move(s, row.id, verdict)
        due.lease(s, [row for row, _ in claimed], worker, now + LEASE)
        for row, _ in claimed:
            s.expunge(row)  # delivered outside the session, as loaded
        return claimed, (rows[-1].id if len(rows) == BATCH else None)


def _deliver(db: Database, kind: Kind, row: DueWork, unsure: dt.datetime | None,
             now: dt.datetime, worker: str, report: KindReport) -> None:
    found: Sent | None = None
    try:
        if unsure is not None:
            found = kind.find(row, unsure)
        outcome = found or kind.deliver(row, now)
    except Exception:
        log.exception("%s %s failed; it stays due", kind.name, row.key)
        outcome = Retry("error", uncertain=unsure is not None)
    with db.session() as s:
        if isinstance(outcome, Sent):
            if due.done(s, row.id, worker, now=now, next_at=kind.next_at(row, now),
                        message=(outcome.channel_id, outcome.ts)):
                if found is not None:
                    report.recovered += 1
                else:
                    report.sent += 1
                    report.sent_keys.append(row.key)
                return
            report.superseded += 1
        elif isinstance(outcome, Later):
            if due.release(s, row.id, worker):
                due.move(s, row.id, outcome.at)
            return
        elif isinstance(outcome, Retry):
            log.info("%s %s not delivered (%s); due next pass", kind.name, row.key,
                     outcome.reason)
            report.retried += 1
            if not outcome.uncertain:  # else the lease runs out and ``find`` checks first
                due.release(s, row.id, worker)
            return
        elif isinstance(outcome, Paused):
            due.release(s, row.id, worker)
            report.paused = outcome.code
            return
        else:  # Failed, or an addressee gone (Unreachable): back off, the kind said why
            assert isinstance(outcome, Failed | Unreachable)
            failures = row.failures + 1
            delay = retry_delay(failures)
            log.warning("%s %s refused (%s), %d time(s) in a row; next try in %s", kind.name,
                        row.key, outcome.code, failures, delay)
            due.fail(s, row.id, worker, retry_at=now + delay)
            report.backed_off += 1
            return
    # Delivered, but the row changed while it was being sent (an update was posted).
    try:
        kind.superseded(row, outcome)
    except Exception:
        log.exception("withdrawing the superseded %s %s failed", kind.name, row.key)


def pump(db: Database, kinds: Sequence[Kind], now: dt.datetime, *,
         worker: str | None = None) -> dict[str, KindReport]:
    """One pass over every kind: deliver each due row once. Safe on every replica at once."""
    worker = worker or worker_id()
    reports: dict[str, KindReport] = {}
    for kind in kinds:
        report = reports[kind.name] = KindReport()
        try:
            with db.session() as s:
                kind.ensure(s, now)
            after_id: int | None = 0
            while after_id is not None and report.paused is None:
                claimed, after_id = _claim(db, kind, now, worker, after_id)
                for i, (row, unsure) in enumerate(claimed):
                    if report.paused is not None:  # Slack refuses Sitrep: give the rest back
                        with db.session() as s:
                            for rest, _ in claimed[i:]:
                                due.release(s, rest.id, worker)
                        break
                    _deliver(db, kind, row, unsure, now, worker, report)
        except Exception:
            log.exception("%s pass failed; the next pass retries", kind.name)
        if report:
            log.info("%s pass: %s", kind.name, report)
    return reports
