"""``guarded``: every failure after an ack becomes a truthful, friendly answer."""

from __future__ import annotations

import http.client
import urllib.error
from collections.abc import Callable
from typing import Any

import pytest
from jinja2 import TemplateNotFound
from sqlalchemy.exc import OperationalError

from bot.common.errors import OperatorError, UserError
from bot.slack.router import DB_DOWN, guarded


def answer(failure: BaseException) -> str:
    replies: list[dict[str, Any]] = []

    def work() -> str:
        raise failure

    guarded(lambda **kw: replies.append(kw), work)
    (reply,) = replies
    assert reply["response_type"] == "ephemeral"
    return str(reply["text"])


@pytest.mark.parametrize("failure", [
    TimeoutError("The read operation timed out"),
    urllib.error.URLError(TimeoutError("connect timed out")),
])
def test_a_slack_timeout_says_so(failure: BaseException) -> None:
    assert "Slack did not answer in time" in answer(failure)


@pytest.mark.parametrize("failure", [
    urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
    ConnectionResetError(104, "Connection reset by peer"),
    http.client.RemoteDisconnected("Remote end closed connection without response"),
])
def test_slack_out_of_reach_says_so(failure: BaseException) -> None:
    assert "could not reach Slack" in answer(failure)


@pytest.mark.parametrize("failure", [
    TemplateNotFound("postmortem.slack.j2"),  # an OSError, but not Slack's doing
    FileNotFoundError(2, "No such file or directory"),
    PermissionError(13, "Permission denied"),
])
def test_other_os_errors_are_not_blamed_on_slack(failure: BaseException,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    text = answer(failure)
    assert "Slack" not in text and "Something went wrong on Sitrep's side (ref `" in text
    assert "unexpected error" in caplog.text


def test_a_broken_installation_is_named_for_the_operator(
        caplog: pytest.LogCaptureFixture) -> None:
    text = answer(OperatorError("Sitrep's built-in template postmortem.slack.j2 is missing"))
    assert text.startswith(":warning: Sitrep is not installed or configured correctly: "
                           "Sitrep's built-in template postmortem.slack.j2 is missing.")
    assert "tell whoever runs Sitrep (ref `" in text
    assert "postmortem.slack.j2 is missing (ref " in caplog.text


@pytest.mark.parametrize("failure, expected", [
    (UserError("Say what happened."), "Say what happened."),
    (OperationalError("SELECT 1", {}, Exception("connection refused")), DB_DOWN),
])
def test_user_errors_and_database_outages(failure: BaseException, expected: str) -> None:
    assert answer(failure) == expected


def test_no_reply_when_the_work_answered_itself() -> None:
    replies: list[Any] = []
    work: Callable[[], None] = lambda: None  # noqa: E731
    guarded(lambda **kw: replies.append(kw), work)
    assert replies == []
