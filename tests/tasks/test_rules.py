"""Task rules: parsing, changes, the timeline, and what is refused."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.common.clock import FixedClock
from bot.common.errors import NotFound, UserError
from bot.common.text import mrkdwn
from bot.incidents import rules as incidents
from bot.tasks import rules as tasks
from bot.tasks.reminders import Policy
from storage import timeline
from storage.db import Database
from storage.models import Task

PARIS = ZoneInfo("Europe/Paris")
POLICY = Policy()
TEAM = "T0001"


@pytest.mark.parametrize("args, expected", [
    ("Add an alert due friday", ("Add an alert", "friday")),
    ("Add an alert due in 3 days", ("Add an alert", "in 3 days")),
    ("Add an alert DUE 2026-12-01", ("Add an alert", "2026-12-01")),
    ("Add an alert", ("Add an alert", None)),
    ("Check what is due to expire and renew it in time", (
        "Check what is due to expire and renew it in time", None)),
    ("Make sure nothing is overdue friday", ("Make sure nothing is overdue friday", None)),
    ("Not due twice due next week", ("Not due twice", "next week")),
])
def test_split_due(args: str, expected: tuple[str, str | None]) -> None:
    assert tasks.split_due(args) == expected


def test_refs_and_people() -> None:
    assert [tasks.parse_ref(r) for r in ("T-7", "t7", "#7", "7", " T-12 ")] == [7, 7, 7, 7, 12]
    with pytest.raises(UserError, match="tasks look like `T-7`"):
        tasks.parse_ref("INC-7")
    assert tasks.parse_user("<@U0BOB|bob>", "U0ME") == "U0BOB"
    assert tasks.parse_user("<@W0BOB>", "U0ME") == "W0BOB"
    assert tasks.parse_user("me", "U0ME") == "U0ME"
    assert tasks.parse_user("bob", "U0ME") is None


@pytest.fixture
def incident_id(db: Database, clock: FixedClock) -> int:
    clock.set(dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC))
    return incidents.open_incident(db, clock, team_id=TEAM, user_id="ULEAD", title="Down").id


def events(db: Database, incident_id: int) -> list[tuple[str | None, str]]:
    with db.session() as s:
        return [(e.event_type, e.text) for e in timeline.ordered(s, incident_id)]


def add(db: Database, clock: FixedClock, incident_id: int, **kw: object) -> tasks.TaskChange:
    values: dict = {"actor": "ULEAD", "owner": "UBOB", "text": "Add an alert <!channel>",
                    "due": dt.date(2026, 12, 4), "zone": PARIS, **kw}
    return tasks.add_task(db, clock, POLICY, incident_id=incident_id, **values)


def test_every_change_joins_the_timeline(db: Database, clock: FixedClock,
                                         incident_id: int) -> None:
    first = add(db, clock, incident_id)
    # Stored as typed; every output disarms the broadcast (bot.common.text.mrkdwn).
    assert first.task.ref == "T-1" and first.task.text == "Add an alert <!channel>"
    assert mrkdwn(first.task.text) == "Add an alert @channel"
    assert first.task.next_reminder_at == dt.datetime(2026, 12, 2, 8, tzinfo=dt.UTC)
    second = add(db, clock, incident_id, owner="UCARA", due=None, text="Write a runbook")
    assert second.task.ref == "T-2"
    tasks.set_due(db, clock, POLICY, TEAM, 1, "ULEAD", dt.date(2026, 12, 11), PARIS)
    change = tasks.reassign(db, clock, POLICY, TEAM, 1, "ULEAD", "UDAN", PARIS)
    assert change.previous_owner == "UBOB" and change.task.owner_user_id == "UDAN"
    tasks.complete(db, clock, TEAM, 1, "UDAN")
    tasks.drop(db, clock, TEAM, 2, "ULEAD", "covered by T-1")
    kinds = [kind for kind, _ in events(db, incident_id)]
    assert kinds == ["opened", "task_added", "task_added", "task_due", "task_reassigned",
                     "task_done", "task_dropped"]
    texts = dict(events(db, incident_id)[1:])
    assert texts["task_added"] == "T-2 added for <@UCARA>: Write a runbook (no due date)"
    assert texts["task_due"] == "T-1 now due Fri 11 Dec 2026"
    assert texts["task_reassigned"] == "T-1 reassigned from <@UBOB> to <@UDAN>"
    assert texts["task_dropped"] == "T-2 dropped: covered by T-1"
    found, _ = tasks.for_incident(db, incident_id)
    assert [(t.status, t.next_reminder_at) for t in found] == [("done", None),
                                                                ("dropped", None)]


def test_what_is_refused_changes_nothing(db: Database, clock: FixedClock,
                                         incident_id: int) -> None:
    add(db, clock, incident_id)
    with pytest.raises(UserError, match="Say what the task is"):
        add(db, clock, incident_id, text="   ")
    with pytest.raises(UserError, match="keep it under"):
        add(db, clock, incident_id, text="x" * 1001)
    with pytest.raises(NotFound, match="no task T-9"):
        tasks.complete(db, clock, TEAM, 9, "ULEAD")
    with pytest.raises(NotFound):
        tasks.complete(db, clock, "T0OTHER", 1, "ULEAD")  # another workspace's T-1
    with pytest.raises(UserError, match="Say why"):
        tasks.drop(db, clock, TEAM, 1, "ULEAD", " ")
    same = tasks.reassign(db, clock, POLICY, TEAM, 1, "ULEAD", "UBOB", PARIS)
    assert not same.changed and "already owns" in same.message
    with pytest.raises(UserError, match="now belongs to <@UBOB>"):
        tasks.complete(db, clock, TEAM, 0, "UCARA", task_id=same.task.id, owner_only=True)
    with pytest.raises(UserError, match="now belongs to <@UBOB>"):
        tasks.snooze(db, clock, POLICY, TEAM, same.task.id, "UCARA", 1, PARIS)
    tasks.complete(db, clock, TEAM, 1, "UBOB")
    again = tasks.complete(db, clock, TEAM, 1, "UBOB")
    assert not again.changed and again.message == "T-1 is already done."
    for change in (lambda: tasks.drop(db, clock, TEAM, 1, "ULEAD", "why"),
                   lambda: tasks.set_due(db, clock, POLICY, TEAM, 1, "ULEAD",
                                         dt.date(2026, 12, 24), PARIS),
                   lambda: tasks.snooze(db, clock, POLICY, TEAM, same.task.id, "UBOB", 1, PARIS)):
        with pytest.raises(UserError, match="already done"):
            change()
    assert [k for k, _ in events(db, incident_id)] == ["opened", "task_added", "task_done"]


def test_snooze_and_improvements(db: Database, clock: FixedClock, incident_id: int) -> None:
    task = add(db, clock, incident_id, due=dt.date(2026, 11, 25)).task
    change = tasks.snooze(db, clock, POLICY, TEAM, task.id, "UBOB", 7, PARIS)
    assert change.task.next_reminder_at == dt.datetime(2026, 12, 3, 8, tzinfo=dt.UTC)
    improvement = tasks.add_improvement(db, clock, incident_id, "ULEAD", "Game days <!here>")
    assert improvement.text == "Game days <!here>"
    with pytest.raises(UserError, match="Say what the improvement is"):
        tasks.add_improvement(db, clock, incident_id, "ULEAD", "")
    _, improvements = tasks.for_incident(db, incident_id)
    assert [i.text for i in improvements] == ["Game days <!here>"]
    assert [k for k, _ in events(db, incident_id)] == ["opened", "task_added"]


def test_ids_resolve_only_in_the_callers_workspace(db: Database, clock: FixedClock,
                                                   incident_id: int) -> None:
    """Issue 13, item 5: a button's task id from workspace B never reaches A's task, even
    when B's user has the same id as A's owner; the same for snooze and lookups."""
    task = add(db, clock, incident_id).task
    with pytest.raises(NotFound):
        tasks.complete(db, clock, "T0OTHER", 0, "UBOB", task_id=task.id, owner_only=True)
    with pytest.raises(NotFound):
        tasks.snooze(db, clock, POLICY, "T0OTHER", task.id, "UBOB", 1, PARIS)
    assert tasks.get(db, "T0OTHER", task.id) is None
    assert tasks.by_number(db, "T0OTHER", task.number) is None
    with db.session() as s:
        row = s.get(Task, task.id)
        assert (row.status, row.next_reminder_at) == ("open", task.next_reminder_at)
    with pytest.raises(NotFound):
        incidents.get(db, incident_id, "T0OTHER")
    assert incidents.get(db, incident_id, TEAM).id == incident_id
    channel = "C0INC"
    incidents.attach_channel(db, incident_id, channel, "inc-1-down")
    assert incidents.for_channel(db, channel, "T0OTHER") is None
    assert incidents.for_channel(db, channel, TEAM) is not None
    with pytest.raises(NotFound):
        incidents.by_ref(db, "T0OTHER", "INC-1")
