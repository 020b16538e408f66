"""The weekly digest end to end: incidents and tasks made through Bolt, passes of all due work
on the controlled clock, and what the fake received in ``DIGEST_CHANNEL``.

The clock starts on Thursday 12 March 2026 (``TEST_START``); the default ``DIGEST_CRON``
(``0 9 * * mon``, ``INCIDENT_TIMEZONE=UTC``) makes the first digest Monday 16 March, 09:00.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.digest.rules import KIND
from bot.digest.slack import DIGEST, DigestKind
from bot.due import slack as due_slack
from bot.due.lease import LEASE
from bot.due.pump import pump
from bot.sandbox.sandbox import Sandbox
from bot.slack.client import make_client
from storage import due
from storage.db import Database
from storage.models import DueWork
from tests.conftest import TEST_START
from tests.incidents.test_slack import in_channel, start

HOUR = dt.timedelta(hours=1)
SLOT = dt.datetime(2026, 3, 16, 9, tzinfo=dt.UTC)
AFTER = dt.datetime(2026, 3, 12, 16, tzinfo=dt.UTC)


@pytest.fixture
def sb(database_url: str, clock: FixedClock, transport: str) -> Iterator[Sandbox]:
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 digest_channel="#incident-digest") as sandbox:
        sandbox.digest = sandbox.fake.add_channel("incident-digest")  # type: ignore[attr-defined]
        yield sandbox


def digests(sb: Sandbox) -> list[dict[str, Any]]:
    return [m for m in sb.fake.messages(sb.digest)  # type: ignore[attr-defined]
            if (m.get("metadata") or {}).get("event_type") == DIGEST]


def walk(sb: Sandbox, start_at: dt.datetime, end_at: dt.datetime,
         step: dt.timedelta = HOUR) -> list[dt.datetime]:
    """A pass of all due work at every ``step``; the times a digest was posted."""
    posted = []
    now = start_at
    while now < end_at:
        sb.deps.clock.set(now)  # type: ignore[attr-defined]
        before = len(digests(sb))
        due_slack.run_due(sb.deps, sb.app.client)
        posted += [now] * (len(digests(sb)) - before)
        now += step
    return posted


def week_of_incidents(sb: Sandbox) -> None:
    """INC-1 sev3 and INC-2 sev1 open, INC-3 private, INC-4 resolved with no postmortem,
    INC-5 resolved and published; overdue tasks for bob (two) and cara, one in private."""
    sb.deps.clock.set(TEST_START - dt.timedelta(days=2))  # type: ignore[attr-defined]
    one = start(sb, "sev3 Search is <slow> & flaky")["id"]
    sb.deps.clock.set(TEST_START)  # type: ignore[attr-defined]
    two = start(sb, "sev1 Checkout failing", user="U0ALICE")["id"]
    secret = start(sb, "private sev1 Payroll leak")["id"]
    four = start(sb, "sev2 Login slow")["id"]
    five = start(sb, "sev2 DNS blip")["id"]
    in_channel(sb, one, "task <@U0BOB|bob> Add a search alert due 2026-03-13")
    in_channel(sb, two, "task <@U0BOB|bob> Fix the retry storm due 2026-03-15")
    in_channel(sb, two, "task <@U0CARA|cara> Write the runbook due 2026-03-14")
    in_channel(sb, two, "task <@U0CARA|cara> Not yet due due 2026-03-30")
    in_channel(sb, secret, "task <@U0BOB|bob> Rotate payroll keys due 2026-03-13")
    in_channel(sb, secret, "resolve")
    in_channel(sb, four, "resolve")
    in_channel(sb, five, "resolve")
    in_channel(sb, five, "postmortem publish")


def test_one_digest_at_the_slot_with_what_is_open_unpublished_and_overdue(sb: Sandbox) -> None:
    week_of_incidents(sb)
    assert walk(sb, AFTER, SLOT + dt.timedelta(days=1)) == [SLOT]
    (post,) = digests(sb)
    assert post["metadata"]["event_payload"] == {"slot": "2026-03-16T09:00+00:00"}
    assert post["text"] == ("Incident digest, Mon 16 Mar 2026: 2 open, 1 without a "
                            "postmortem, 3 overdue task(s)")
    header, opened, unpublished, overdue = post["blocks"]
    assert header["text"]["text"] == "Incident digest, Mon 16 Mar 2026"
    lines = opened["text"]["text"].splitlines()
    assert lines[0] == "*Open incidents* (2)"
    assert lines[1].startswith("• *INC-2* Checkout failing — SEV1, investigating, led by "
                               "<@U0ALICE>, open 3d 17h")
    assert lines[2].startswith("• *INC-1* Search is &lt;slow&gt; &amp; flaky — SEV3, "
                               "investigating, led by <@U0LEAD>, open 5d 17h")
    assert unpublished["text"]["text"].splitlines() == [
        "*Resolved, postmortem not published* (1)",
        f"• *INC-4* Login slow — resolved Thu 12 Mar, led by <@U0LEAD> · "
        f"<#{sb.incident_channel(4)['id']}>"]
    assert overdue["text"]["text"].splitlines() == [
        "*Overdue tasks by owner* (2)",
        # bob is in Auckland, where it is already Monday 22:00
        "• <@U0BOB>: *T-1* Add a search alert (INC-1, 3 days overdue); "
        "*T-2* Fix the retry storm (INC-2, 1 day overdue)",
        # cara is in Honolulu, still Sunday 23:00: only the 14th is past
        "• <@U0CARA>: *T-3* Write the runbook (INC-2, 1 day overdue)"]
    everything = str(post)
    assert "Payroll" not in everything and "INC-3" not in everything and "T-5" not in everything
    assert walk(sb, SLOT + dt.timedelta(days=1), SLOT + dt.timedelta(days=8),
                step=6 * HOUR) == [SLOT + dt.timedelta(days=7)]


def test_no_digest_and_no_row_when_digest_channel_is_unset(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.deps.clock.set(TEST_START)  # type: ignore[attr-defined]
    start(sb, "sev1 Checkout failing")
    assert [k.name for k in due_slack.kinds(sb.deps, sb.app.client)] == ["nudge", "followup"]
    due_slack.run_due(sb.deps, sb.app.client, now=SLOT)
    with sb.db.session() as s:
        assert s.scalars(select(DueWork).where(DueWork.kind == KIND)).all() == []


def test_two_replicas_post_the_digest_once(sb: Sandbox) -> None:
    sb.deps.clock.set(TEST_START)  # type: ignore[attr-defined]
    start(sb, "sev1 Checkout failing")
    other = Deps(settings=sb.settings, db=Database(sb.settings.database_url),
                 clock=sb.deps.clock)
    replicas = [(sb.deps, sb.app.client, "replica-a"),
                (other, make_client(sb.settings), "replica-b")]
    reports: list[Any] = []
    try:
        for now in (AFTER, SLOT, SLOT + dt.timedelta(seconds=30)):
            barrier = threading.Barrier(2)

            def replica(deps: Deps, client: Any, worker: str, at: dt.datetime = now,
                        wait: threading.Barrier = barrier) -> None:
                wait.wait()
                reports.append(pump(deps.db, [DigestKind(deps, client)], at, worker=worker))

            threads = [threading.Thread(target=replica, args=r) for r in replicas]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        other.db.dispose()
    assert len(digests(sb)) == 1
    assert sum(r[KIND].sent for r in reports) == 1
    with sb.db.session() as s:
        (row,) = s.scalars(select(DueWork).where(DueWork.kind == KIND)).all()
        assert (row.runs, row.due_at) == (1, SLOT + dt.timedelta(days=7))


class Killed(BaseException):
    """The process dies after Slack accepted the digest, before the pass recorded it."""


def test_a_restart_after_the_post_finds_it_and_posts_nothing_more(
        sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sb.deps.clock.set(TEST_START)  # type: ignore[attr-defined]
    start(sb, "sev1 Checkout failing")
    walk(sb, AFTER, SLOT, step=12 * HOUR)
    sb.deps.clock.set(SLOT)  # type: ignore[attr-defined]  # Slack stamps the post with it
    real = due.done

    def die(*args: Any, **kwargs: Any) -> bool:
        raise Killed()

    monkeypatch.setattr(due, "done", die)
    with pytest.raises(Killed):
        pump(sb.db, [DigestKind(sb.deps, sb.app.client)], SLOT, worker="dies")
    monkeypatch.setattr(due, "done", real)
    assert len(digests(sb)) == 1
    fresh = Deps(settings=sb.settings, db=Database(sb.settings.database_url),
                 clock=sb.deps.clock)
    try:
        kinds = [DigestKind(fresh, make_client(sb.settings))]
        assert pump(fresh.db, kinds, SLOT + dt.timedelta(minutes=1))[KIND].sent == 0  # leased
        report = pump(fresh.db, kinds, SLOT + LEASE)[KIND]
        assert (report.sent, report.recovered) == (0, 1)
        assert pump(fresh.db, kinds, SLOT + LEASE + HOUR)[KIND].sent == 0
    finally:
        fresh.db.dispose()
    assert len(digests(sb)) == 1


def test_a_missed_slot_is_skipped_not_posted_days_late(sb: Sandbox) -> None:
    sb.deps.clock.set(TEST_START)  # type: ignore[attr-defined]
    due_slack.run_due(sb.deps, sb.app.client)  # creates the row: due at the Monday slot
    # Nothing runs over the weekend and Monday; the next pass is on Wednesday.
    assert walk(sb, SLOT + dt.timedelta(days=2), SLOT + dt.timedelta(days=7, hours=1)) == [
        SLOT + dt.timedelta(days=7)]
