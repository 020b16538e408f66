"""What the weekly digest lists, in which order, and what it never shows (pure rules and the
Block Kit rendering)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.digest import blocks, rules
from bot.sandbox.fakeslack.blockkit import block_errors
from bot.slack import limits
from storage.models import Incident, Task

UTC = ZoneInfo("UTC")
NOW = dt.datetime(2026, 3, 16, 9, tzinfo=dt.UTC)  # Monday 09:00
CHANNEL = "C0DIGEST"


def incident(number: int, severity: str = "sev2", status: str = "investigating", *,
             private: bool = False, days_ago: float = 1, title: str | None = None,
             lead: str | None = "U0LEAD") -> Incident:
    at = NOW - dt.timedelta(days=days_ago)
    return Incident(id=number, team_id="T1", number=number, title=title or f"Thing {number}",
                    severity=severity, status=status, lead_user_id=lead, created_by="U0LEAD",
                    created_at=at, started_at=at, updated_at=at, is_private=private,
                    channel_id=f"C{number:04d}")


def task(number: int, owner: str, due: dt.date | None, status: str = "open") -> Task:
    return Task(id=number, team_id="T1", number=number, incident_id=1, owner_user_id=owner,
                text=f"Task {number}", due_date=due, status=status, created_by="U0LEAD",
                created_at=NOW)


def compose(**kw: object) -> rules.Digest:
    args: dict = {"open_incidents": [], "unpublished": [], "tasks": [],
                  "zone_of": lambda user: UTC}
    args.update(kw)
    return rules.compose(NOW, NOW, CHANNEL, **args)


def test_open_incidents_most_severe_first_then_longest_open() -> None:
    found = compose(open_incidents=[
        incident(1, "sev3", days_ago=9), incident(2, "sev1", days_ago=0.5),
        incident(3, "sev1", days_ago=2), incident(4, "sev2", "monitoring"),
    ])
    assert [o.incident.ref for o in found.open] == ["INC-3", "INC-2", "INC-4", "INC-1"]
    assert found.open[0].age == dt.timedelta(days=2)


def test_private_incidents_and_their_tasks_are_never_listed() -> None:
    secret = incident(5, "sev1", private=True)
    public = incident(6)
    found = compose(
        open_incidents=[secret, public],
        unpublished=[(incident(7, status="resolved", private=True), NOW),
                     (incident(8, status="resolved"), NOW)],
        tasks=[(task(1, "U0BOB", dt.date(2026, 3, 1)), secret),
               (task(2, "U0BOB", dt.date(2026, 3, 2)), public)])
    assert [o.incident.ref for o in found.open] == ["INC-6"]
    assert [u.incident.ref for u in found.unpublished] == ["INC-8"]
    assert [[t.task.ref for t in o.tasks] for o in found.overdue] == [["T-2"]]


def test_unpublished_most_recently_resolved_first() -> None:
    found = compose(unpublished=[
        (incident(1, status="resolved"), NOW - dt.timedelta(days=20)),
        (incident(2, status="resolved"), NOW - dt.timedelta(days=2)),
        (incident(3, status="resolved"), NOW - dt.timedelta(days=9)),
    ])
    assert [u.incident.ref for u in found.unpublished] == ["INC-2", "INC-3", "INC-1"]


def test_overdue_tasks_by_owner_in_each_owners_own_day() -> None:
    inc = incident(1)
    auckland = ZoneInfo("Pacific/Auckland")  # already Monday 22:00 there: the 15th is past
    honolulu = ZoneInfo("Pacific/Honolulu")  # still Sunday 23:00 the 15th: not overdue yet
    zones = {"U0BOB": auckland, "U0CARA": honolulu}
    found = compose(tasks=[
        (task(1, "U0CARA", dt.date(2026, 3, 15)), inc),
        (task(2, "U0BOB", dt.date(2026, 3, 15)), inc),
        (task(3, "U0ALICE", dt.date(2026, 3, 10)), inc),
        (task(4, "U0BOB", dt.date(2026, 3, 2)), inc),
        (task(5, "U0ALICE", None), inc),
        (task(6, "U0ALICE", dt.date(2026, 3, 1), status="done"), inc),
        (task(7, "U0CARA", dt.date(2026, 3, 12)), inc),
    ], zone_of=lambda user: zones.get(user, UTC))
    assert [(o.owner, [(t.task.ref, t.days) for t in o.tasks]) for o in found.overdue] == [
        ("U0BOB", [("T-4", 14), ("T-2", 1)]),
        ("U0ALICE", [("T-3", 6)]),
        ("U0CARA", [("T-7", 3)]),
    ]


def test_the_slot_moves_when_the_cron_changed_or_it_went_stale() -> None:
    cron = "0 9 * * mon"
    assert rules.verdict(cron, UTC, NOW, NOW + dt.timedelta(minutes=1)) is True
    next_monday = NOW + dt.timedelta(days=7)
    assert rules.verdict(cron, UTC, NOW, NOW + dt.timedelta(hours=13)) == next_monday
    assert rules.verdict(cron, UTC, NOW + dt.timedelta(hours=1), NOW + dt.timedelta(hours=2)) \
        == next_monday  # 10:00 is no slot of this cron
    assert rules.verdict(cron, UTC, None, NOW) == next_monday


def test_the_message_escapes_titles_and_fits_slacks_limits() -> None:
    many = [incident(n, title=f"<!channel> & {'x' * 140} {n}") for n in range(1, 301)]
    found = compose(open_incidents=many,
                    unpublished=[(incident(n, status="resolved"), NOW) for n in range(400, 700)],
                    tasks=[(task(n, f"U{n:04d}", dt.date(2026, 3, 1)), many[0])
                           for n in range(300)])
    text, message = blocks.digest_message(found, UTC)
    assert text == ("Incident digest, Mon 16 Mar 2026: 300 open, 300 without a postmortem, "
                    "300 overdue task(s)")
    assert not block_errors(message)
    assert len(message) <= limits.MESSAGE_BLOCKS
    assert sum(len(str(b)) for b in message) < limits.MESSAGE_BLOCK_CHARS
    body = message[1]["text"]["text"]
    assert "<!channel>" not in body and "* @channel &amp; xxx" in body  # inert, escaped
    assert "more open" in body.splitlines()[-1]
    assert message[3]["text"]["text"].splitlines()[-1].startswith("… and ")


def test_an_empty_week_says_so() -> None:
    _, message = blocks.digest_message(compose(), UTC)
    assert [b["text"]["text"] for b in message[1:]] == [
        "*Open incidents*\n_None open._",
        "*Resolved, postmortem not published*\n_Every resolved incident has its postmortem._",
        "*Overdue tasks by owner*\n_No task is overdue._"]
