"""The reminder sweep against a recording messenger, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.common.clock import FixedClock
from bot.due.lease import LEASE, RETRY_FIRST, RETRY_MAX
from bot.due.outcome import Failed, Outcome, Paused, Retry, Sent, Unreachable
from bot.incidents import rules as incidents
from bot.tasks import reminders
from bot.tasks import rules as tasks
from bot.tasks.reminders import Overdue, Policy, Reminder, sweep
from storage import tasks as repo
from storage.db import Database
from storage.models import Escalation, Incident, Task

PARIS = ZoneInfo("Europe/Paris")
POLICY = Policy("0 9 * * mon-fri", lead_days=2, escalate_after_days=3)
MONDAY_9 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris
TEAM = "T0001"


class Killed(BaseException):
    """The process dies (not an error the sweep may catch)."""


class Recorder:
    """A messenger that records what it was asked to deliver (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[int] = []
        self.script: dict[str, list[Outcome | BaseException]] = {}
        self.escalations: list[tuple[int, list[str]]] = []
        self.escalate_ok = True
        self.unreachable: list[tuple[int, str, list[str]]] = []
        self.during_send: object = None
        #: (task id, which reminder) → Sent: what the owner's DM holds, as Slack would show it.
        self.delivered: dict[tuple[int, int], Sent] = {}
        self.lookups: list[int] = []
        self.pause: str | None = None  # what paused() answers

    def find_reminder(self, reminder: Reminder, since: dt.datetime) -> Sent | None:
        with self.lock:
            self.lookups.append(reminder.task.id)
            return self.delivered.get((reminder.task.id, reminder.task.reminder_count + 1))

    def zone_of(self, user_id: str) -> ZoneInfo:
        return PARIS

    def remind(self, reminder: Reminder) -> Outcome:
        with self.lock:
            queue = self.script.get(reminder.task.owner_user_id) or []
            step = queue.pop(0) if queue else None
        if isinstance(step, BaseException):
            raise step
        if step is not None:
            return step
        if callable(self.during_send):
            self.during_send(reminder)
        with self.lock:
            self.sent.append(reminder.task.id)
            sent = Sent("D0OWNER", f"{len(self.sent)}.000100")
            self.delivered[(reminder.task.id, reminder.task.reminder_count + 1)] = sent
            return sent

    def escalate(self, incident: Incident, overdue: list[Overdue]) -> bool:
        with self.lock:
            self.escalations.append((incident.id, [o.task.ref for o in overdue]))
        return self.escalate_ok

    def owner_unreachable(self, incident: Incident, owner: str, code: str,
                          tasks: list[Task]) -> None:
        with self.lock:
            self.unreachable.append((incident.id, code, [t.ref for t in tasks]))

    def paused(self) -> str | None:
        return self.pause


@pytest.fixture
def at_monday(clock: FixedClock) -> FixedClock:
    clock.set(MONDAY_9 - dt.timedelta(days=1))  # Sunday: the first reminder is Monday 09:00
    return clock


def new_incident(db: Database, clock: FixedClock, title: str = "Checkout failing") -> int:
    incident = incidents.open_incident(db, clock, team_id=TEAM, user_id="ULEAD", title=title)
    incidents.attach_channel(db, incident.id, f"C{incident.number}", f"inc-{incident.number}")
    return incident.id


def new_task(db: Database, clock: FixedClock, incident_id: int, owner: str = "UBOB",
             due: dt.date | None = dt.date(2026, 11, 20), text: str = "Add an alert") -> Task:
    return tasks.add_task(db, clock, POLICY, incident_id=incident_id, actor="ULEAD", owner=owner,
                          text=text, due=due, zone=PARIS).task


def row(db: Database, task_id: int) -> Task:
    with db.session() as s:
        found = repo.get(s, task_id, team_id=None)
        assert found is not None
        return found[0]


def run(db: Database, clock: FixedClock, rec: Recorder, **kw: object):  # type: ignore[no-untyped-def]
    return sweep(db, clock, POLICY, rec, **kw)  # type: ignore[arg-type]


def test_a_due_reminder_is_sent_once_then_at_the_next_slot(db: Database,
                                                           at_monday: FixedClock) -> None:
    clock = at_monday
    task = new_task(db, clock, new_incident(db, clock))
    rec = Recorder()
    clock.set(MONDAY_9 - dt.timedelta(minutes=1))
    assert run(db, clock, rec).sent == 0
    clock.set(MONDAY_9)
    report = run(db, clock, rec)
    assert report.sent == 1 and report.superseded == 0 and rec.sent == [task.id]
    assert run(db, clock, rec).sent == 0
    stored = row(db, task.id)
    assert stored.reminder_count == 1 and stored.last_reminded_at == MONDAY_9
    assert stored.next_reminder_at == MONDAY_9 + dt.timedelta(days=1)
    assert (stored.dm_channel_id, stored.dm_ts) == ("D0OWNER", "1.000100")
    assert stored.lease_owner is None and stored.lease_until is None
    clock.set(MONDAY_9 + dt.timedelta(days=1))
    assert run(db, clock, rec).sent == 1 and rec.sent == [task.id, task.id]


def test_a_pass_killed_between_claim_and_send_leaves_it_to_a_later_pass(
        db: Database, at_monday: FixedClock) -> None:
    clock = at_monday
    task = new_task(db, clock, new_incident(db, clock))
    clock.set(MONDAY_9)
    rec = Recorder()
    rec.script["UBOB"] = [Killed()]
    with pytest.raises(Killed):
        run(db, clock, rec)
    leased = row(db, task.id)
    assert leased.lease_owner and leased.lease_until == MONDAY_9 + LEASE
    assert run(db, clock, rec).sent == 0  # still leased to the dead pass
    clock.set(MONDAY_9 + LEASE)
    assert run(db, clock, rec).sent == 1
    assert run(db, clock, rec).sent == 0
    assert rec.sent == [task.id] and row(db, task.id).reminder_count == 1


def test_a_pass_killed_after_slack_accepted_is_recorded_not_resent(
        db: Database, at_monday: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = at_monday
    incident = new_incident(db, clock)
    bob = new_task(db, clock, incident)
    cara = new_task(db, clock, incident, owner="UCARA")
    clock.set(MONDAY_9)
    rec = Recorder()

    def die(self: reminders._Pass, session: object) -> None:  # killed before recording sends
        if self.pending:
            raise Killed()

    real = reminders._Pass.record
    monkeypatch.setattr(reminders._Pass, "record", die)
    with pytest.raises(Killed):
        run(db, clock, rec, batch=1)  # bob's is sent; the claim of cara's never happens
    monkeypatch.setattr(reminders._Pass, "record", real)
    assert rec.sent == [bob.id] and row(db, bob.id).reminder_count == 0
    clock.set(MONDAY_9 + LEASE)
    report = run(db, clock, rec)
    assert (report.sent, report.recovered) == (1, 1)
    assert rec.sent == [bob.id, cara.id]  # bob's was found in his DM, not sent again
    assert rec.lookups == [bob.id]  # one read, only for the row the dead pass left
    stored = row(db, bob.id)
    assert (stored.reminder_count, stored.dm_ts, stored.lease_owner) == (1, "1.000100", None)
    assert run(db, clock, rec).sent == 0 and rec.lookups == [bob.id]


def test_claims_come_in_batches_sized_to_the_workers(db: Database,
                                                     at_monday: FixedClock) -> None:
    clock = at_monday
    incident = new_incident(db, clock)
    for n in range(12):
        new_task(db, clock, incident, owner=f"U{n:02d}")
    clock.set(MONDAY_9)
    rec = Recorder()
    leased: list[int] = []

    def count_leases(reminder: Reminder) -> None:
        with db.session() as s:
            leased.append(len(s.scalars(select(Task).where(Task.lease_owner.is_not(None))).all()))

    rec.during_send = count_leases
    assert run(db, clock, rec, workers=2).sent == 12
    assert max(leased) <= 2 * 2 * reminders.CLAIM_PER_WORKER  # two batches for two workers


def test_transient_failures_leave_the_reminder_due(db: Database, at_monday: FixedClock) -> None:
    clock = at_monday
    task = new_task(db, clock, new_incident(db, clock))
    clock.set(MONDAY_9)
    rec = Recorder()
    rec.script["UBOB"] = [Retry("internal_error"), RuntimeError("boom")]
    assert run(db, clock, rec).retried == 1
    assert run(db, clock, rec).retried == 1  # an unexpected error is retried too
    stored = row(db, task.id)
    assert stored.reminder_count == 0 and stored.next_reminder_at == MONDAY_9
    assert stored.lease_owner is None
    assert run(db, clock, rec).sent == 1 and rec.sent == [task.id]


def test_an_owner_who_left_is_no_longer_reminded_and_each_lead_hears_once(
        db: Database, at_monday: FixedClock) -> None:
    clock = at_monday
    first, second = new_incident(db, clock), new_incident(db, clock, "Search slow")
    gone = [new_task(db, clock, first, "UGONE"), new_task(db, clock, first, "UGONE"),
            new_task(db, clock, second, "UGONE")]
    stays = new_task(db, clock, second, "UBOB")
    clock.set(MONDAY_9)
    rec = Recorder()
    rec.script["UGONE"] = [Unreachable("user_disabled")]
    report = run(db, clock, rec)
    assert report.owners_unreachable == 1 and rec.sent == [stays.id]
    assert sorted(rec.unreachable) == [(first, "user_disabled", ["T-1", "T-2"]),
                                       (second, "user_disabled", ["T-3"])]
    assert all(row(db, t.id).reminders_stopped == "user_disabled" for t in gone)
    clock.set(MONDAY_9 + dt.timedelta(days=1))
    run(db, clock, rec)
    assert len(rec.unreachable) == 2 and rec.sent == [stays.id, stays.id]


def test_a_refusal_of_sitrep_itself_stops_the_pass_and_blames_no_one(
        db: Database, at_monday: FixedClock) -> None:
    clock = at_monday
    incident = new_incident(db, clock)
    tasks_ = [new_task(db, clock, incident, owner) for owner in ("UBOB", "UCARA", "UDAN")]
    clock.set(MONDAY_9)
    rec = Recorder()
    rec.script["UBOB"] = [Paused("account_inactive")]
    report = run(db, clock, rec)
    assert report.paused == "account_inactive" and report.owners_unreachable == 0
    assert rec.sent == [] and rec.unreachable == []  # nothing more was tried in that pass
    for task in tasks_:  # all still due, unleased, and nobody's reminders stopped
        stored = row(db, task.id)
        assert (stored.reminders_stopped, stored.lease_owner, stored.next_reminder_at,
                stored.send_failures) == (None, None, MONDAY_9, 0)
    rec.pause = "account_inactive"  # the messenger says sending is paused: passes wait
    assert run(db, clock, rec).paused == "account_inactive" and rec.sent == []
    rec.pause = None
    assert run(db, clock, rec).sent == 3


def test_a_refusal_not_understood_backs_that_task_off_up_to_a_day(
        db: Database, at_monday: FixedClock) -> None:
    clock = at_monday
    incident = new_incident(db, clock)
    odd = new_task(db, clock, incident, "UODD")
    fine = new_task(db, clock, incident, "UBOB")
    clock.set(MONDAY_9)
    rec = Recorder()
    rec.script["UODD"] = [Failed("invalid_blocks")] * 30
    tries: list[dt.datetime] = []
    while clock.now() < MONDAY_9 + dt.timedelta(days=3):
        left = len(rec.script["UODD"])
        report = run(db, clock, rec)
        if len(rec.script["UODD"]) < left:
            tries.append(clock.now())
            assert report.backed_off == 1
        retry_at = row(db, odd.id).retry_at
        assert retry_at is not None
        clock.set(retry_at - dt.timedelta(seconds=1))  # a pass just before: nothing for it
        left = len(rec.script["UODD"])
        run(db, clock, rec)
        assert len(rec.script["UODD"]) == left
        clock.set(retry_at)
    gaps = [(b - a) / dt.timedelta(minutes=1) for a, b in itertools.pairwise(tries)]
    assert gaps[:6] == [1, 2, 4, 8, 16, 32]
    assert max(gaps) == RETRY_MAX / dt.timedelta(minutes=1) and gaps[-1] == 24 * 60
    assert len([t for t in tries if t < MONDAY_9 + dt.timedelta(days=1)]) <= 12  # not 2,880
    stored = row(db, odd.id)
    assert stored.next_reminder_at == MONDAY_9 and stored.reminders_stopped is None
    assert stored.send_failures == len(tries)
    assert rec.sent.count(fine.id) >= 3  # the other task's reminders went on meanwhile
    tasks.set_due(db, clock, POLICY, TEAM, odd.number, "ULEAD", dt.date(2026, 12, 9),
                  PARIS)  # a person's change: the next reminder is tried when it is due
    assert (row(db, odd.id).send_failures, row(db, odd.id).retry_at) == (0, None)


def test_back_off_and_batched_claims_compose(db: Database, at_monday: FixedClock,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A row backing off is not claimed by pipelined batches; once a reminder to it is found
    already delivered (its pass died before recording), it is recorded and the back-off ends."""
    clock = at_monday
    incident = new_incident(db, clock)
    odd = new_task(db, clock, incident, "UODD")
    others = [new_task(db, clock, incident, f"U{n:02d}") for n in range(6)]
    clock.set(MONDAY_9)
    rec = Recorder()
    rec.script["UODD"] = [Failed("invalid_blocks")]
    for n in range(4):  # these stay due (Slack struggling) through the passes below
        rec.script[f"U{n:02d}"] = [Retry("internal_error")] * 4
    report = run(db, clock, rec, workers=2)
    assert (report.sent, report.retried, report.backed_off) == (2, 4, 1)
    backing_off = row(db, odd.id)
    assert backing_off.send_failures == 1 and backing_off.retry_at == MONDAY_9 + RETRY_FIRST
    for quarter in (1, 2, 3):  # pipelined batches of due rows; the backing-off one not claimed
        clock.set(MONDAY_9 + RETRY_FIRST * quarter / 4)
        report = run(db, clock, rec, workers=2, batch=1)
        assert (report.retried, report.backed_off, report.sent) == (4, 0, 0)
    assert odd.id not in rec.sent and rec.lookups == []
    assert row(db, odd.id).lease_owner is None

    def die(self: reminders._Pass, session: object) -> None:  # killed before recording sends
        if self.pending:
            raise Killed()

    clock.set(MONDAY_9 + RETRY_FIRST)
    real = reminders._Pass.record
    monkeypatch.setattr(reminders._Pass, "record", die)
    with pytest.raises(Killed):
        run(db, clock, rec, batch=1)  # Slack has odd's reminder; the pass dies unrecorded
    monkeypatch.setattr(reminders._Pass, "record", real)
    assert rec.sent.count(odd.id) == 1 and row(db, odd.id).send_failures == 1
    clock.set(MONDAY_9 + RETRY_FIRST + LEASE)
    report = run(db, clock, rec, workers=2)
    assert (report.recovered, report.sent, report.backed_off) == (1, 4, 0)
    assert rec.sent.count(odd.id) == 1 and rec.lookups == [odd.id]  # found, not sent again
    stored = row(db, odd.id)
    assert (stored.reminder_count, stored.send_failures, stored.retry_at,
            stored.lease_owner) == (1, 0, None, None)
    assert all(row(db, t.id).reminder_count == 1 for t in others)


def test_long_overdue_tasks_are_escalated_once_a_day_per_incident(
        db: Database, at_monday: FixedClock) -> None:
    clock = at_monday
    late, recent = new_incident(db, clock), new_incident(db, clock, "Search slow")
    new_task(db, clock, late, due=dt.date(2026, 11, 20))   # 10 days overdue
    new_task(db, clock, late, "UCARA", due=dt.date(2026, 11, 26))  # 4 days
    new_task(db, clock, late, "UDAN", due=dt.date(2026, 11, 28))  # 2 days: not listed
    new_task(db, clock, recent, due=dt.date(2026, 11, 28))
    twice_a_day = Policy("0 9,15 * * *", lead_days=2, escalate_after_days=3)
    rec = Recorder()
    rec.escalate_ok = False  # the channel post fails: tried again next pass
    clock.set(MONDAY_9)
    sweep(db, clock, twice_a_day, rec)  # type: ignore[arg-type]
    rec.escalate_ok = True
    clock.set(MONDAY_9 + dt.timedelta(hours=6))
    assert sweep(db, clock, twice_a_day, rec).escalated == 1  # type: ignore[arg-type]
    assert rec.escalations == [(late, ["T-1", "T-2"]), (late, ["T-1", "T-2"])]
    clock.set(MONDAY_9 + dt.timedelta(days=1))
    sweep(db, clock, twice_a_day, rec)  # type: ignore[arg-type]
    clock.set(MONDAY_9 + dt.timedelta(days=1, hours=6))
    sweep(db, clock, twice_a_day, rec)  # type: ignore[arg-type]
    assert len(rec.escalations) == 3
    with db.session() as s:
        days = sorted(e.day.isoformat() for e in s.scalars(select(Escalation)))
    assert days == ["2026-11-30", "2026-12-01"]


def test_a_person_changing_the_task_during_the_send_wins(db: Database,
                                                         at_monday: FixedClock) -> None:
    clock = at_monday
    task = new_task(db, clock, new_incident(db, clock))
    clock.set(MONDAY_9)
    rec = Recorder()
    rec.during_send = lambda r: tasks.complete(db, clock, TEAM, r.task.number, "UBOB")
    report = run(db, clock, rec)
    assert report.sent == 1 and report.superseded == 1
    stored = row(db, task.id)
    assert stored.status == "done" and stored.next_reminder_at is None
    assert stored.reminder_count == 0


def test_a_restart_forgets_and_repeats_nothing(db: Database, database_url: str,
                                               at_monday: FixedClock) -> None:
    clock = at_monday
    task = new_task(db, clock, new_incident(db, clock))
    clock.set(MONDAY_9)
    first = Recorder()
    assert run(db, clock, first).sent == 1
    restarted = Database(database_url)
    try:
        again = Recorder()
        assert run(restarted, clock, again).sent == 0
        clock.set(MONDAY_9 + dt.timedelta(days=1))
        assert run(restarted, clock, again).sent == 1 and again.sent == [task.id]
    finally:
        restarted.dispose()


def test_a_forced_pass_treats_now_as_a_slot(db: Database, at_monday: FixedClock) -> None:
    clock = at_monday
    inc = new_incident(db, clock)
    overdue = new_task(db, clock, inc)
    far = new_task(db, clock, inc, due=dt.date(2026, 12, 20))
    snoozed = new_task(db, clock, inc, "UCARA")
    clock.set(MONDAY_9)
    rec = Recorder()
    assert run(db, clock, rec).sent == 2  # the 09:00 slot: both overdue ones
    tasks.snooze(db, clock, POLICY, TEAM, snoozed.id, "UCARA", 7, PARIS)
    clock.set(MONDAY_9 + dt.timedelta(hours=5))  # 14:00, not a slot
    assert run(db, clock, rec).sent == 0
    report = run(db, clock, rec, force=True)
    assert report.sent == 1 and rec.sent[-1] == overdue.id
    assert run(db, clock, rec, force=True).sent == 0  # run again by mistake: nothing new
    assert far.id not in rec.sent and rec.sent.count(snoozed.id) == 1


@pytest.mark.parametrize("replicas, workers", [(2, 1), (3, 4)])
def test_replicas_sweeping_at_once_send_each_reminder_once(
        db: Database, database_url: str, at_monday: FixedClock, replicas: int,
        workers: int) -> None:
    clock = at_monday
    inc = new_incident(db, clock)
    with db.session() as s:
        for n in range(300):
            repo.create(s, team_id=TEAM, incident_id=inc, owner_user_id=f"U{n % 17}",
                        text=f"task {n}", due_date=dt.date(2026, 11, 20), created_by="ULEAD",
                        now=clock.now(), next_reminder_at=MONDAY_9)
    clock.set(MONDAY_9)
    rec = Recorder()
    dbs = [Database(database_url) for _ in range(replicas)]
    barrier = threading.Barrier(replicas)
    errors: list[BaseException] = []

    def replica(database: Database) -> None:
        try:
            barrier.wait()
            sweep(database, clock, POLICY, rec, batch=10, workers=workers)  # type: ignore[arg-type]
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(d,)) for d in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for d in dbs:
        d.dispose()
    assert not errors
    counts = Counter(rec.sent)
    assert len(counts) == 300 and max(counts.values()) == 1
