"""Reminders end to end: the sweep through the Slack shell to the fake, with a controlled clock.

Each test walks the clock hour by hour and runs a pass at each step, as the scheduler inside
``serve`` would, then looks at the DMs the fake received.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.sandbox.sandbox import Sandbox
from bot.slack.client import make_client
from bot.tasks import notify
from bot.tasks.reminders import LEASE
from storage import tasks as repo
from storage.db import Database
from storage.models import Task
from tests.incidents.test_slack import in_channel, start

HOUR = dt.timedelta(hours=1)
WED = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def open_incident(sb: Sandbox, at: dt.datetime, title: str = "Checkout failing") -> str:
    sb.deps.clock.set(at)  # type: ignore[attr-defined]
    return start(sb, title)["id"]


def stored(sb: Sandbox) -> list[Task]:
    with sb.db.session() as s:
        return list(s.scalars(select(Task).order_by(Task.number)))


def dm_posts(sb: Sandbox, since: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """(recipient, args) of every chat.postMessage into a DM, from call ``since`` on."""
    out = []
    for call in sb.fake.calls_to("chat.postMessage")[since:]:
        channel = sb.fake.channel(call.args["channel"])
        if channel and channel.get("is_im"):
            out.append((channel["user"], call.args))
    return out


def walk(sb: Sandbox, start_at: dt.datetime, hours: int,
         client: Any = None) -> list[tuple[dt.datetime, str, str]]:
    """Run a pass every hour; returns (time, recipient, text) of each DM sent."""
    sent = []
    for step in range(hours):
        now = start_at + step * HOUR
        sb.deps.clock.set(now)  # type: ignore[attr-defined]
        before = len(sb.fake.calls_to("chat.postMessage"))
        notify.run_reminders(sb.deps, client or sb.app.client)
        sent += [(now, user, args["text"]) for user, args in dm_posts(sb, before)]
    return sent


def channel_texts(sb: Sandbox, channel: str) -> list[str]:
    return [m.get("text", "") for m in sb.fake.messages(channel)]


def test_owners_at_utc_plus_13_and_minus_10_hear_at_nine_their_time_on_weekdays(
        sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb, WED)
    in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage due friday")
    in_channel(sb, channel, "task <@U0CARA|cara> Fix the retry storm due friday")
    sent = walk(sb, WED + HOUR, 6 * 24)
    bob = [(at, text) for at, who, text in sent if who == "U0BOB"]
    cara = [(at, text) for at, who, text in sent if who == "U0CARA"]
    # 09:00 in Auckland (UTC+13) is 20:00 UTC the day before; Saturday and Sunday are quiet.
    assert [at for at, _ in bob] == [utc(2026, 11, 25, 20), utc(2026, 11, 26, 20),
                                     utc(2026, 11, 29, 20), utc(2026, 11, 30, 20)]
    assert [text.rsplit("(", 1)[1] for _, text in bob] == [
        "tomorrow)", "today)", "3 days overdue)", "4 days overdue)"]
    # 09:00 in Honolulu (UTC-10) is 19:00 UTC; the window opens two days before Friday.
    assert [at for at, _ in cara] == [utc(2026, 11, 25, 19), utc(2026, 11, 26, 19),
                                      utc(2026, 11, 27, 19), utc(2026, 11, 30, 19)]
    assert cara[0][1].endswith("due Fri 27 Nov 2026 (in 2 days)")
    task = stored(sb)[0]
    assert task.reminder_count == 4 and task.last_reminded_at == utc(2026, 11, 30, 20)
    # Bob's Tuesday reminder is the first one more than three days overdue: the lead hears.
    escalations = [t for t in channel_texts(sb, channel) if "overdue:" in t]
    assert len(escalations) == 1 and escalations[0].startswith(":rotating_light: <@U0LEAD>")
    assert "*T-1* Alert on pool usage — <@U0BOB>, 4 days overdue" in escalations[0]
    assert "T-2" not in escalations[0]


def test_reminders_stay_at_nine_local_across_daylight_saving_changes(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb, utc(2026, 10, 22, 12))  # Thursday
    in_channel(sb, channel, "task me Write the postmortem due tomorrow")  # lee, Paris
    in_channel(sb, channel, "task <@U0ALICE|alice> Review paging policy")  # New York, undated
    sent = walk(sb, utc(2026, 10, 22, 13), 11 * 24 + 2)
    lee = [at for at, who, _ in sent if who == "U0LEAD"]
    paris = ZoneInfo("Europe/Paris")
    assert all((at.astimezone(paris).hour, at.astimezone(paris).weekday() < 5) == (9, True)
               for at in lee)
    # Paris leaves summer time on Sunday 25 October: 07:00 UTC before, 08:00 UTC after.
    assert lee[:3] == [utc(2026, 10, 23, 7), utc(2026, 10, 26, 8), utc(2026, 10, 27, 8)]
    # Undated: the first slot of each week, 09:00 in New York (EDT, then EST from 1 Nov).
    alice = [at for at, who, _ in sent if who == "U0ALICE"]
    assert alice == [utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)]


def test_escalation_is_posted_at_most_once_a_day_per_incident(transport: str, database_url: str,
                                                              clock: FixedClock) -> None:
    with Sandbox(database_url, clock=clock, migrate=False,
                 transport=transport, reminder_cron="0 9,15 * * *") as sb:
        channel = open_incident(sb, utc(2026, 11, 16, 12))
        in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage due tomorrow")
        in_channel(sb, channel, "task <@U0CARA|cara> Fix the retry storm due tomorrow")
        other = start(sb, "Search is slow")["id"]
        in_channel(sb, other, "task <@U0BOB|bob> Tune the index due 2026-12-31")
        sent = walk(sb, utc(2026, 11, 23, 0, 30), 48)
        # The first pass catches up on what was missed while nothing ran (one reminder each,
        # not one per missed slot); then two slots a day for each of the two owners.
        assert len(sent) == 2 + 2 * 2 * 2
        posts = [t for t in channel_texts(sb, channel) if "overdue:" in t]
        assert len(posts) == 2
        assert "*T-1*" in posts[0] and "*T-2*" in posts[0] and "<@U0LEAD>" in posts[0]
        assert not [t for t in channel_texts(sb, other) if "overdue" in t]


def _overdue_task(sb: Sandbox, owner: str = "<@U0BOB|bob>") -> tuple[str, dt.datetime]:
    """An incident and a task for bob reminded at the returned slot (Thu 09:00 NZDT)."""
    channel = open_incident(sb, WED)
    in_channel(sb, channel, f"task {owner} Alert on pool usage due friday")
    slot = utc(2026, 11, 25, 20)
    sb.deps.clock.set(slot)  # type: ignore[attr-defined]
    return channel, slot


def test_ratelimited_honours_retry_after_and_sends_once(sandbox: Sandbox) -> None:
    sb = sandbox
    _overdue_task(sb)
    before = len(sb.fake.calls_to("chat.postMessage"))
    sb.fake.fail("chat.postMessage", "ratelimited", times=1, retry_after=1)
    report = notify.run_reminders(sb.deps, sb.app.client)
    assert report.sent == 1
    first, second = sb.fake.calls_to("chat.postMessage")[before:]
    assert second.at - first.at >= 1.0  # waited for Retry-After
    assert len(sb.fake.messages(sb.fake.dm_channel_id("U0BOB") or "")) == 2  # assigned + 1
    assert stored(sb)[0].reminder_count == 1


@pytest.mark.parametrize("failure", ["http_500", "ratelimited"])
def test_server_errors_and_lasting_rate_limits_leave_it_due(
        sandbox: Sandbox, failure: str) -> None:
    sb = sandbox
    _, slot = _overdue_task(sb)
    client = make_client(sb.settings)
    # More failures than the client tries (5xx: a post, a history check, one more post;
    # 429: 3 retries with Retry-After 0).
    sb.fake.fail("chat.postMessage", failure, times=2 if failure == "http_500" else 4,
                 retry_after=0)
    report = notify.run_reminders(sb.deps, client)
    assert (report.sent, report.retried) == (0, 1)
    task = stored(sb)[0]
    assert (task.reminder_count, task.next_reminder_at, task.lease_owner) == (0, slot, None)
    assert notify.run_reminders(sb.deps, client).sent == 1
    task = stored(sb)[0]
    assert task.reminder_count == 1 and task.next_reminder_at == utc(2026, 11, 26, 20)


def test_a_timed_out_reminder_is_checked_in_the_dm_not_sent_again(sandbox: Sandbox) -> None:
    sb = sandbox
    _, slot = _overdue_task(sb)
    client = make_client(sb.settings)
    client.timeout = 1
    sb.fake.timeout_seconds = 2  # Slack posts it, but answers after the client gave up
    sb.fake.fail("chat.postMessage", "timeout", times=1)
    before = len(sb.fake.calls_to("chat.postMessage"))
    report = notify.run_reminders(sb.deps, client)
    assert (report.sent, report.retried) == (0, 1)
    task = stored(sb)[0]
    assert task.reminder_count == 0 and task.lease_owner  # kept: its fate is unknown
    assert notify.run_reminders(sb.deps, client).sent == 0  # not before the lease ends
    dm = sb.fake.dm_channel_id("U0BOB") or ""
    assert sb.fake.wait_for(lambda: len(sb.fake.messages(dm)) == 2)  # assigned + the reminder
    sb.deps.clock.set(slot + LEASE)  # type: ignore[attr-defined]
    reads = len(sb.fake.calls_to("conversations.history"))
    report = notify.run_reminders(sb.deps, client)
    assert (report.sent, report.recovered) == (0, 1)
    assert len(sb.fake.calls_to("conversations.history")) == reads + 1
    assert len(dm_posts(sb, before)) == 1
    task = stored(sb)[0]
    assert task.reminder_count == 1 and task.lease_owner is None


@pytest.mark.parametrize("error", ["user_not_found", "user_disabled", "user_not_visible",
                                   "cannot_dm_bot"])
def test_an_owner_who_left_stops_their_reminders_and_the_lead_is_told(
        sandbox: Sandbox, error: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = sandbox
    monkeypatch.setattr(notify, "SEND_WORKERS", 1)  # the injected failure hits T-1, bob's
    channel, slot = _overdue_task(sb)
    sb.deps.clock.set(WED)  # type: ignore[attr-defined]
    in_channel(sb, channel, "task <@U0BOB|bob> Second thing due friday")
    in_channel(sb, channel, "task <@U0CARA|cara> Not bob's due friday")
    sb.deps.clock.set(slot)  # type: ignore[attr-defined]
    sb.fake.fail("chat.postMessage", error, times=1)
    report = notify.run_reminders(sb.deps, sb.app.client)
    assert report.owners_unreachable == 1
    notices = [t for t in channel_texts(sb, channel) if "can't reach" in t]
    assert notices == [f":warning: <@U0LEAD>: I can't reach <@U0BOB> any more (`{error}`), so "
                       "I've stopped reminding them about *T-1*, *T-2*. Give each a new owner "
                       "with `/incident reassign T-1 @someone`."]
    assert [t.reminders_stopped for t in stored(sb)] == [error, error, None]
    later = walk(sb, slot + HOUR, 3 * 24)
    assert {who for _, who, _ in later} == {"U0CARA"}
    assert len([t for t in channel_texts(sb, channel) if "can't reach" in t]) == 1
    in_channel(sb, channel, "reassign T-2 <@U0ALICE|alice>")
    assert stored(sb)[1].reminders_stopped is None
    assert stored(sb)[1].next_reminder_at is not None


def test_two_replicas_send_each_reminder_exactly_once(sandbox: Sandbox, database_url: str) -> None:
    sb = sandbox
    channel = open_incident(sb, WED)
    in_channel(sb, channel, "task <@U0BOB|bob> Warm the cache")  # a real one, DM'd
    with sb.db.session() as s:
        incident_id = repo.by_number(s, "T0001", 1)[1].id  # type: ignore[index]
        for n in range(200):
            repo.create(s, team_id="T0001", incident_id=incident_id,
                        owner_user_id=("U0BOB", "U0CARA", "U0ALICE", "U0LEAD")[n % 4],
                        text=f"task {n}", due_date=dt.date(2026, 11, 20), created_by="U0LEAD",
                        now=WED, next_reminder_at=WED)
        s.execute(update(Task).values(next_reminder_at=WED))
    other = Deps(settings=sb.settings, db=Database(database_url), clock=sb.deps.clock)
    replicas = [(sb.deps, sb.app.client), (other, make_client(sb.settings))]
    before = len(sb.fake.calls_to("chat.postMessage"))
    barrier = threading.Barrier(2)
    reports: list[Any] = []

    def replica(deps: Deps, client: Any) -> None:
        barrier.wait()
        reports.append(notify.run_reminders(deps, client))

    threads = [threading.Thread(target=replica, args=pair) for pair in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.db.dispose()
    per_task = Counter(args["blocks"][-1]["elements"][0]["value"]
                       for _, args in dm_posts(sb, before))
    assert len(per_task) == 201 and set(per_task.values()) == {1}
    assert sum(r.sent for r in reports) == 201 and all(r.sent for r in reports)
    assert all(t.reminder_count == 1 for t in stored(sb))


class Killed(BaseException):
    """The process dies between claiming a reminder and sending it."""


def test_a_pass_killed_after_claiming_leaves_the_reminder_to_a_later_pass(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = sandbox
    _, slot = _overdue_task(sb)
    real = notify.SlackMessenger.remind

    def die(self: notify.SlackMessenger, reminder: Any) -> Any:
        raise Killed()

    monkeypatch.setattr(notify.SlackMessenger, "remind", die)
    with pytest.raises(Killed):
        notify.run_reminders(sb.deps, sb.app.client)
    monkeypatch.setattr(notify.SlackMessenger, "remind", real)
    before = len(sb.fake.calls_to("chat.postMessage"))
    assert notify.run_reminders(sb.deps, sb.app.client).sent == 0  # lease still held
    sb.deps.clock.set(slot + dt.timedelta(minutes=5))  # type: ignore[attr-defined]
    assert notify.run_reminders(sb.deps, sb.app.client).sent == 1
    assert notify.run_reminders(sb.deps, sb.app.client).sent == 0
    assert len(dm_posts(sb, before)) == 1


def test_remind_now_from_the_command_line(sandbox: Sandbox, database_url: str,
                                          monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    sb = sandbox
    now = dt.datetime.now(dt.UTC)
    channel = open_incident(sb, now)
    in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage due today")
    in_channel(sb, channel, "task <@U0CARA|cara> Later thing due in 30d")
    with sb.db.session() as s:  # as if the 09:00 slot came while no scheduler ran
        s.execute(update(Task).where(Task.number == 1).values(next_reminder_at=now - HOUR))
    for name, value in {"SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_API_URL": sb.fake.url,
                        "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    before = len(sb.fake.calls_to("chat.postMessage"))
    assert main(["remind", "--now"]) == 0
    assert "1 reminder sent" in capsys.readouterr().out
    assert [who for who, _ in dm_posts(sb, before)] == ["U0BOB"]
    assert main(["remind", "--now"]) == 0  # run twice by mistake: nothing repeated
    assert "0 reminders sent" in capsys.readouterr().out


def test_the_scheduler_inside_serve_runs_the_pass(database_url: str, clock: FixedClock,
                                                  transport: str) -> None:
    from bot.background import start_background

    with Sandbox(database_url, clock=clock, migrate=False,
                 transport=transport, reminder_poll_seconds=1) as sb:
        _overdue_task(sb)
        scheduler = start_background(sb.deps, sb.app.client)
        try:
            assert sb.fake.wait_for(lambda: len(dm_posts(sb)) == 2, timeout=10)
        finally:
            scheduler.shutdown()
        assert stored(sb)[0].reminder_count == 1
