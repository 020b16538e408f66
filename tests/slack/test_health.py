"""What Slack thinks of Sitrep itself: problems kept, logged once, cleared, paced."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from bot.common.clock import FixedClock
from bot.slack.health import PAUSE_MAX, SlackHealth, pause_after
from tests.conftest import TEST_START


@pytest.fixture
def health() -> SlackHealth:
    return SlackHealth(FixedClock(TEST_START))


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]


def test_pauses_double_from_a_minute_to_an_hour() -> None:
    assert [pause_after(n) / dt.timedelta(minutes=1) for n in range(1, 9)] == [
        1, 2, 4, 8, 16, 32, 60, 60]
    assert pause_after(10_000) == PAUSE_MAX


def test_a_person_or_a_passing_error_is_not_an_app_problem(health: SlackHealth) -> None:
    for code in ("user_not_found", "internal_error", "channel_not_found", "invalid_blocks"):
        assert health.refused("chat.postMessage", code) is None
    assert health.problems() == [] and health.sending_blocked() is None


def test_a_token_problem_is_logged_once_blocks_sending_and_any_success_clears_it(
        health: SlackHealth, caplog: pytest.LogCaptureFixture) -> None:
    clock = health.clock
    for _ in range(3):  # several calls refused at once count as one try
        health.refused("chat.postMessage", "account_inactive")
    health.refused("users.info", "account_inactive")
    (problem,) = health.problems()
    assert (problem.code, problem.failures, problem.since) == ("account_inactive", 1, TEST_START)
    assert problem.as_json()["error"] == "account_inactive"
    assert len(_errors(caplog)) == 1 and "SLACK_BOT_TOKEN" in _errors(caplog)[0]
    assert health.sending_blocked() is problem
    clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert health.sending_blocked() is None  # time to try again …
    health.refused("chat.postMessage", "account_inactive")  # … and refused again
    assert problem.failures == 2 and health.sending_blocked() is problem
    assert problem.retry_at == TEST_START + dt.timedelta(minutes=3)
    health.accepted("auth.test")
    assert health.problems() == []
    health.refused("chat.postMessage", "invalid_auth")  # a relapse: a warning, not an error
    assert len(_errors(caplog)) == 1 and len(health.problems()) == 1


def test_a_missing_scope_is_cleared_by_its_own_method_only(health: SlackHealth) -> None:
    health.refused("pins.add", "missing_scope", needed="pins:write")
    (problem,) = health.problems()
    assert "`pins:write`" in problem.detail
    assert health.sending_blocked() is None  # reminders do not need pins
    health.accepted("chat.postMessage")
    assert health.problems() == [problem]
    health.accepted("pins.add")
    assert health.problems() == []
    health.refused("chat.postMessage", "missing_scope", needed="chat:write")
    assert health.sending_blocked() is not None


def test_the_messages_tab_is_cleared_by_a_dm_not_by_a_channel_post(health: SlackHealth) -> None:
    health.refused("chat.postMessage", "messages_tab_disabled")
    health.accepted("chat.postMessage")  # a channel post
    assert [p.code for p in health.problems()] == ["messages_tab_disabled"]
    health.accepted("chat.postMessage", dm=True)
    assert health.problems() == []
