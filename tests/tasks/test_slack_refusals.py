"""What Slack's refusals do to task DMs and reminders, end to end (issue 11, items 1 and 3).

Through signed requests, the Bolt app and the strict fake: what the person who acted is told,
what the operator sees (``/healthz``, one ERROR line), and that no owner is blamed for a
refusal of Sitrep itself. A refusal of the app pauses reminders; one that means the person
is gone stops theirs; one not understood backs that task off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import logging
import urllib.error
import urllib.request
from typing import Any

import pytest

from bot.common.clock import FixedClock
from bot.sandbox.fakeslack.manifest import AppManifest
from bot.sandbox.sandbox import Sandbox
from bot.tasks import notify
from tests.incidents.test_slack import in_channel
from tests.tasks.test_reminders_slack import (
    HOUR,
    _overdue_task,
    channel_texts,
    dm_posts,
    stored,
    utc,
)
from tests.tasks.test_slack import WED, setup

SLOT = utc(2026, 11, 25, 20)  # bob's Thursday 09:00 in Auckland (``_overdue_task``)


def healthz(sb: Sandbox) -> tuple[int, dict[str, Any]]:
    url = f"{sb.server.url}/healthz"  # type: ignore[union-attr]
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def problem_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.ERROR and "SLACK APP PROBLEM" in r.getMessage()]


def warning_to(sb: Sandbox, user: str, since: int) -> str:
    """The ephemeral warning the person who acted got (waits for it)."""

    def found() -> list[str]:
        return [r["text"] for r in sb.fake.responses[since:]
                if r.get("response_type") == "ephemeral" and ":warning:" in r.get("text", "")]

    assert sb.fake.wait_for(lambda: bool(found())), "no warning"
    return found()[-1]


def test_with_the_messages_tab_off_the_truth_is_told_once_and_nobody_blamed(transport: str,
        database_url: str, clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    off = dataclasses.replace(AppManifest.load(), messages_tab_enabled=False)
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport, manifest=off) as sb:
        channel = setup(sb)
        n = len(sb.fake.responses)
        in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage due friday")
        told = warning_to(sb, "U0LEAD", n)
        assert "Messages tab is turned off" in told and "<@U0BOB>" in told
        assert "Reminders will still follow" not in told  # the old, false promise
        n = len(sb.fake.responses)
        in_channel(sb, channel, "task <@U0CARA|cara> Fix the retry storm due friday")
        assert "Messages tab is turned off" in warning_to(sb, "U0LEAD", n)
        assert sb.fake.messages(sb.fake.dm_channel_id("U0BOB") or "") == []

        assert len(problem_lines(caplog)) == 1  # once per process, however many refusals
        assert "messages_tab_enabled: true" in problem_lines(caplog)[0]
        status, body = healthz(sb)
        assert status == 200 and body["ok"] is False and body["database"] == "ok"
        assert [p["error"] for p in body["slack"]] == ["messages_tab_disabled"]

        # At the slot the pass tries, is refused and stops; passes during the pause send
        # nothing; nobody's reminders are stopped and the lead is not told anyone left.
        sb.deps.clock.set(SLOT)  # type: ignore[attr-defined]
        report = notify.run_reminders(sb.deps, sb.app.client)
        assert report.paused == "messages_tab_disabled" and report.owners_unreachable == 0
        before = len(sb.fake.calls_to("chat.postMessage"))
        sb.deps.clock.set(SLOT + dt.timedelta(seconds=30))  # type: ignore[attr-defined]
        assert notify.run_reminders(sb.deps, sb.app.client).paused == "messages_tab_disabled"
        assert len(sb.fake.calls_to("chat.postMessage")) == before
        assert [t.reminders_stopped for t in stored(sb)] == [None, None]
        assert not [t for t in channel_texts(sb, channel) if "can't reach" in t]

        # An admin turns the tab on: after the pause, the reminder goes and health is clear.
        sb.fake.manifest = AppManifest.load()
        sb.deps.clock.set(SLOT + HOUR)  # type: ignore[attr-defined]
        assert notify.run_reminders(sb.deps, sb.app.client).sent == 2
        assert sorted(who for who, _ in dm_posts(sb, before)) == ["U0BOB", "U0CARA"]
        assert healthz(sb) == (200, {"ok": True, "database": "ok", "slack": "ok",
                                     "inbox": 0})


@pytest.mark.parametrize("refusal", ["account_inactive", "invalid_auth", "token_revoked",
                                     "not_authed", "missing_scope"])
def test_a_refusal_of_the_token_pauses_all_reminders_and_blames_no_owner(
        sandbox: Sandbox, refusal: str, caplog: pytest.LogCaptureFixture) -> None:
    sb = sandbox
    channel, slot = _overdue_task(sb)
    sb.deps.clock.set(WED)  # type: ignore[attr-defined]
    in_channel(sb, channel, "task <@U0CARA|cara> Fix the retry storm due friday")
    sb.deps.clock.set(slot + 3 * HOUR)  # type: ignore[attr-defined]  # both are due
    if refusal == "invalid_auth":
        sb.fake.bot_token = "xoxb-rotated"  # the token Sitrep holds is no longer valid
    elif refusal == "missing_scope":
        sb.fake.manifest = AppManifest.load().without("chat:write")  # reinstalled without it
    else:
        sb.fake.fail("*", refusal, times=-1)
    before = len(sb.fake.calls)
    report = notify.run_reminders(sb.deps, sb.app.client)
    assert report.paused == refusal and (report.sent, report.owners_unreachable) == (0, 0)
    tried = len(sb.fake.calls) - before
    assert tried <= 3  # one delivery tried (and its DM opened), not one per task
    for minutes in (0.5, 0.9):  # passes every 30 s while the pause lasts: nothing is sent
        sb.deps.clock.set(slot + 3 * HOUR + dt.timedelta(minutes=minutes))  # type: ignore[attr-defined]
        assert notify.run_reminders(sb.deps, sb.app.client).paused == refusal
    assert len(sb.fake.calls) - before == tried
    assert [t.reminders_stopped for t in stored(sb)] == [None, None]
    assert not [t for t in channel_texts(sb, channel) if "can't reach" in t]
    assert len(problem_lines(caplog)) == 1
    status, body = healthz(sb)
    assert status == 200 and body["ok"] is False
    assert [p["error"] for p in body["slack"]] == [refusal]

    # Fixed: the next pass after the pause delivers both, and health clears.
    sb.fake.clear_failures()
    sb.fake.bot_token = sb.settings.bot_token or ""
    sb.fake.manifest = AppManifest.load()
    sb.deps.clock.set(slot + 3 * HOUR + dt.timedelta(minutes=1))  # type: ignore[attr-defined]
    assert notify.run_reminders(sb.deps, sb.app.client).sent == 2
    assert healthz(sb)[1]["slack"] == "ok"
    assert len(problem_lines(caplog)) == 1


def test_assigning_while_the_token_is_refused_says_so(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = setup(sb)
    sb.fake.fail("chat.postMessage", "account_inactive", times=1)
    n = len(sb.fake.responses)
    in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage due friday")
    told = warning_to(sb, "U0LEAD", n)
    assert "refuses Sitrep's own access (`account_inactive`)" in told
    assert "no reminders go out until an admin" in told
    assert stored(sb)[0].reminders_stopped is None  # bob is not the problem


def test_a_deactivated_owner_is_found_from_their_profile(sandbox: Sandbox) -> None:
    """Slack still accepts DMs to a deactivated person: the profile is what tells."""
    sb = sandbox
    channel, slot = _overdue_task(sb)
    sb.fake.add_user("U0BOB", "bob", tz="Pacific/Auckland", tz_offset=46800, deleted=True)
    sb.deps.clock.set(slot + 13 * HOUR)  # type: ignore[attr-defined]  # the cached profile expired
    before = len(sb.fake.calls_to("chat.postMessage"))
    report = notify.run_reminders(sb.deps, sb.app.client)
    assert report.owners_unreachable == 1 and report.sent == 0
    assert dm_posts(sb, before) == []
    assert stored(sb)[0].reminders_stopped == "user_disabled"
    assert [t for t in channel_texts(sb, channel) if "can't reach <@U0BOB>" in t]


def test_a_dm_channel_that_is_gone_is_opened_afresh(sandbox: Sandbox) -> None:
    sb = sandbox
    _, _slot = _overdue_task(sb)
    sb.fake.fail("chat.postMessage", "channel_not_found", times=1)
    before = len(sb.fake.calls_to("conversations.open"))
    report = notify.run_reminders(sb.deps, sb.app.client)
    assert report.sent == 1 and report.owners_unreachable == 0
    assert len(sb.fake.calls_to("conversations.open")) == before + 1
    assert stored(sb)[0].reminders_stopped is None


def test_a_refusal_not_understood_backs_off_instead_of_failing_every_pass(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    sb = sandbox
    _, slot = _overdue_task(sb)
    sb.fake.fail("chat.postMessage", "some_new_error", times=-1)
    posts: list[int] = []
    for step in range(2 * 60 * 3):  # a pass every 30 seconds for three hours
        sb.deps.clock.set(slot + dt.timedelta(seconds=30 * step))  # type: ignore[attr-defined]
        before = len(sb.fake.calls_to("chat.postMessage"))
        notify.run_reminders(sb.deps, sb.app.client)
        if len(sb.fake.calls_to("chat.postMessage")) > before:
            posts.append(step)
    # 1, 2, 4, … minutes apart: 8 tries in three hours, not 360.
    assert [b - a for a, b in itertools.pairwise(posts)] == [2, 4, 8, 16, 32, 64, 128]
    task = stored(sb)[0]
    assert task.send_failures == 8 and task.reminders_stopped is None
    assert task.retry_at == slot + dt.timedelta(minutes=127 + 128)  # the last try + 2 h 8 min
    assert healthz(sb)[1]["slack"] == "ok"  # not an app problem
    assert not problem_lines(caplog)
