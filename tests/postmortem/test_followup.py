"""The postmortem follow-up end to end: resolve through Bolt, walk the controlled clock and run
passes of all due work (as the scheduler inside ``serve`` does), look at the fake's DMs.

The clock starts on Thursday 12 March 2026, 15:04 UTC (``TEST_START``); with the default
``POSTMORTEM_DUE_DAYS=5`` and ``INCIDENT_TIMEZONE=UTC`` the postmortem of an incident resolved
then is due on Thursday 19 March at 15:04 UTC, and lee (the lead, Europe/Paris) hears at
their first ``REMINDER_CRON`` slot after that: Friday 20 March, 09:00 in Paris (08:00 UTC).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select

from bot.deps import Deps
from bot.due import slack as due_slack
from bot.due.lease import LEASE
from bot.due.pump import pump
from bot.postmortem import followup_slack
from bot.postmortem.followup import KIND
from bot.sandbox.sandbox import Sandbox
from bot.slack.client import make_client
from storage import due
from storage.db import Database
from storage.models import DueWork, PostmortemVersion
from tests.conftest import TEST_START
from tests.incidents.test_slack import in_channel, last_reply, start
from tests.tasks.test_reminders_slack import dm_posts
from tests.tasks.test_slack import buttons

HOUR = dt.timedelta(hours=1)
#: lee's first slot once the postmortem of an incident resolved at TEST_START is due.
FIRST = dt.datetime(2026, 3, 20, 8, tzinfo=dt.UTC)
#: The first whole hour after the resolution: passes walk on whole hours from there.
AFTER = dt.datetime(2026, 3, 12, 16, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def resolved_incident(sb: Sandbox, title: str = "sev2 Checkout failing") -> str:
    sb.deps.clock.set(TEST_START)  # type: ignore[attr-defined]
    channel = start(sb, title)["id"]
    in_channel(sb, channel, "resolve Rolled back the deploy")
    return channel


def walk(sb: Sandbox, start_at: dt.datetime, end_at: dt.datetime,
         step: dt.timedelta = HOUR) -> list[tuple[dt.datetime, str, dict[str, Any]]]:
    """Run a pass of all due work at every ``step``; (time, recipient, args) of each DM."""
    sent = []
    now = start_at
    while now < end_at:
        sb.deps.clock.set(now)  # type: ignore[attr-defined]
        before = len(sb.fake.calls_to("chat.postMessage"))
        due_slack.run_due(sb.deps, sb.app.client)
        sent += [(now, user, args) for user, args in dm_posts(sb, before)]
        now += step
    return sent


def channel_texts(sb: Sandbox, channel: str) -> list[str]:
    return [m.get("text", "") for m in sb.fake.messages(channel)]


def row(sb: Sandbox) -> DueWork:
    with sb.db.session() as s:
        found = s.scalars(select(DueWork).where(DueWork.kind == KIND)).one()
        s.expunge(found)
        return found


def test_the_lead_hears_at_their_slot_in_their_zone_then_weekly(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = resolved_incident(sb)
    assert row(sb).due_at == TEST_START  # scheduled by the resolve, in its transaction
    sent = walk(sb, AFTER, utc(2026, 4, 4))
    assert [(at, who) for at, who, _ in sent] == [
        (FIRST, "U0LEAD"),
        (utc(2026, 3, 27, 8), "U0LEAD"),  # a week later, 09:00 CET
        (utc(2026, 4, 3, 7), "U0LEAD"),   # 09:00 CEST: Paris moved its clocks on 29 March
    ]
    args = sent[0][2]
    body = str(args["blocks"])
    assert args["text"] == "The INC-1 postmortem is not published yet"
    for part in ("*The postmortem of INC-1 (Checkout failing) is not published yet.*",
                 "resolved on Thu 12 Mar 2026", "due 5 working days later, on Thu 19 Mar 2026",
                 f"*Still missing* (record it in <#{channel}>)", "No root cause yet",
                 "`/incident cause &lt;text&gt;`"):
        assert part in body, part
    assert "No resolution recorded" not in body  # it was given with the resolve
    (incident_id,) = {a["blocks"][2]["elements"][0]["value"] for _, _, a in sent}
    dm = sb.fake.messages(sb.fake.dm_channel_id("U0LEAD") or "")
    assert buttons(dm[0])[followup_slack.PUBLISH_ACTION]["value"] == incident_id
    assert [m["metadata"]["event_payload"] for m in dm] == [
        {"incident": "INC-1", "n": n} for n in (1, 2, 3)]
    assert row(sb).runs == 3
    assert not [t for t in channel_texts(sb, channel) if "overdue" in t]


def test_none_when_the_postmortem_is_published_in_time(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = resolved_incident(sb)
    sb.deps.clock.set(utc(2026, 3, 18, 10))  # type: ignore[attr-defined]
    in_channel(sb, channel, "postmortem publish")
    assert last_reply(sb).startswith("Published version 1")
    assert walk(sb, utc(2026, 3, 18, 11), utc(2026, 3, 28), step=3 * HOUR) == []
    assert row(sb).due_at is None  # found not due in the claim's transaction, never again


def test_reopening_stops_it_and_resolving_again_counts_from_then(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = resolved_incident(sb)
    sb.deps.clock.set(utc(2026, 3, 13, 9))  # type: ignore[attr-defined]
    in_channel(sb, channel, "reopen")
    assert row(sb).due_at is None
    assert walk(sb, utc(2026, 3, 13, 10), utc(2026, 3, 17), step=3 * HOUR) == []
    sb.deps.clock.set(utc(2026, 3, 17, 12))  # type: ignore[attr-defined]
    in_channel(sb, channel, "resolve")
    # Tuesday 12:00 + 5 working days: Tuesday 24 March 12:00; lee's slot: Wednesday 08:00.
    sent = walk(sb, utc(2026, 3, 17, 13), utc(2026, 3, 26))
    assert [(at, who) for at, who, _ in sent] == [(utc(2026, 3, 25, 8), "U0LEAD")]


def test_the_publish_button_in_the_dm_publishes_and_stops_the_follow_up(
        sandbox: Sandbox) -> None:
    sb = sandbox
    channel = resolved_incident(sb)
    walk(sb, FIRST, FIRST + HOUR)
    dm_channel = sb.fake.dm_channel_id("U0LEAD") or ""
    (dm,) = sb.fake.messages(dm_channel)
    updates = len(sb.fake.calls_to("chat.update"))
    responses = len(sb.fake.responses)
    answer = sb.sim.block_action(buttons(dm)[followup_slack.PUBLISH_ACTION], user="U0LEAD",
                                 channel=dm_channel, message=dm)
    assert answer.status == 200 and answer.body == ""
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > responses), "no reply"
    assert sb.fake.responses[-1]["text"].startswith("Published version 1 of the INC-1 "
                                                     "postmortem")
    assert sb.fake.responses[-1]["response_type"] == "ephemeral"
    assert any(t.startswith("INC-1 postmortem, version 1") for t in channel_texts(sb, channel))
    upload = sb.fake.calls_to("files.completeUploadExternal")
    assert upload and channel in str(upload[-1].args)
    assert sb.fake.wait_for(lambda: len(sb.fake.calls_to("chat.update")) > updates)
    (updated,) = sb.fake.messages(dm_channel)
    assert updated["text"].startswith(f":white_check_mark: <@U0LEAD> published the INC-1 "
                                      f"postmortem in <#{channel}>")
    assert buttons(updated) == {}
    with sb.db.session() as s:
        assert [v.published_by for v in s.scalars(select(PostmortemVersion))] == ["U0LEAD"]
    assert walk(sb, FIRST + HOUR, FIRST + dt.timedelta(days=15), step=6 * HOUR) == []


def test_a_lead_who_left_means_one_notice_in_the_channel(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.fake.add_user("U0GONE", "gus", tz="Asia/Tokyo", tz_offset=32400)
    channel = resolved_incident(sb)
    in_channel(sb, channel, "lead <@U0GONE|gus>")
    sb.fake.add_user("U0GONE", "gus", tz="Asia/Tokyo", tz_offset=32400, deleted=True)
    sb.deps.people.get(sb.app.client, "U0GONE", refresh=True)
    assert walk(sb, AFTER, utc(2026, 4, 4), step=2 * HOUR) == []
    notices = [t for t in channel_texts(sb, channel) if "is overdue and not published" in t]
    assert len(notices) == 1
    assert notices[0].startswith(":memo: The postmortem of *INC-1* is overdue and not "
                                 "published, and I can't reach its lead <@U0GONE> any more "
                                 "(`user_disabled`).")
    assert "`/incident lead @someone`" in notices[0]
    # Someone takes the lead: they hear at their own next slot (alice, New York: Monday 09:00 EDT).
    sb.deps.clock.set(utc(2026, 4, 6, 12))  # type: ignore[attr-defined]
    in_channel(sb, channel, "lead <@U0ALICE|alice>")
    sent = walk(sb, utc(2026, 4, 6, 13), utc(2026, 4, 8))
    assert [(at, who) for at, who, _ in sent] == [(utc(2026, 4, 6, 13), "U0ALICE")]


def test_two_replicas_send_each_follow_up_exactly_once(sandbox: Sandbox,
                                                       database_url: str) -> None:
    sb = sandbox
    channels = []
    for n in range(6):
        sb.deps.clock.set(TEST_START)  # type: ignore[attr-defined]
        channels.append(start(sb, f"sev3 Thing {n} broke")["id"])
    for channel in channels:
        in_channel(sb, channel, "resolve")
    walk(sb, AFTER, FIRST, step=12 * HOUR)  # caches lee's zone, nothing due yet
    other = Deps(settings=sb.settings, db=Database(sb.settings.database_url),
                 clock=sb.deps.clock)
    replicas = [(sb.deps, sb.app.client, "replica-a"),
                (other, make_client(sb.settings), "replica-b")]
    before = len(sb.fake.calls_to("chat.postMessage"))
    barrier = threading.Barrier(2)
    reports: list[Any] = []

    def replica(deps: Deps, client: Any, worker: str) -> None:
        barrier.wait()
        reports.append(pump(deps.db, due_slack.kinds(deps, client), FIRST, worker=worker))

    for _ in range(2):  # at the slot, and again a pass later: nothing more
        threads = [threading.Thread(target=replica, args=r) for r in replicas]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    other.db.dispose()
    sent = [args["metadata"]["event_payload"]["incident"] for _, args in dm_posts(sb, before)]
    assert sorted(sent) == sorted(f"INC-{n}" for n in range(1, 7))
    assert sum(r[KIND].sent for r in reports) == 6


class Killed(BaseException):
    """The process dies after Slack accepted the DM, before the pass recorded it."""


def test_a_restart_after_slack_accepted_repeats_nothing(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = sandbox
    resolved_incident(sb)
    walk(sb, AFTER, FIRST, step=12 * HOUR)
    sb.deps.clock.set(FIRST)  # type: ignore[attr-defined]
    real = due.done

    def die(*args: Any, **kwargs: Any) -> bool:
        raise Killed()

    monkeypatch.setattr(due, "done", die)
    with pytest.raises(Killed):
        pump(sb.db, due_slack.kinds(sb.deps, sb.app.client), FIRST, worker="dies")
    monkeypatch.setattr(due, "done", real)
    assert len(dm_posts(sb)) == 1  # Slack has it; the row does not know
    # A fresh process: its own database pool, caches and client.
    fresh = Deps(settings=sb.settings, db=Database(sb.settings.database_url),
                 clock=sb.deps.clock)
    try:
        client = make_client(sb.settings)
        assert pump(fresh.db, due_slack.kinds(fresh, client), FIRST)[KIND].sent == 0  # leased
        later = FIRST + LEASE
        report = pump(fresh.db, due_slack.kinds(fresh, client), later)[KIND]
        assert (report.sent, report.recovered) == (0, 1)
        assert len(dm_posts(sb)) == 1
        found = row(sb)
        assert found.runs == 1 and found.due_at == utc(2026, 3, 27, 8)
        assert pump(fresh.db, due_slack.kinds(fresh, client), later + HOUR)[KIND].sent == 0
    finally:
        fresh.db.dispose()


def test_a_status_update_that_resolves_schedules_the_follow_up_too(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.deps.clock.set(TEST_START)  # type: ignore[attr-defined]
    channel = start(sb, "sev2 Checkout failing")["id"]
    in_channel(sb, channel, "update resolved Rolled back the deploy; checkouts succeed")
    assert row(sb).due_at == TEST_START  # in the update's own transaction
    assert [(at, who) for at, who, _ in walk(sb, AFTER, utc(2026, 3, 21))] == [
        (FIRST, "U0LEAD")]
