"""Logs: redaction of secrets, JSON lines, and quiet third-party loggers (``bot.logs``)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot import logs

BOT_TOKEN = "xoxb-1111-2222-AbCdEfGhIjKl"
USER_TOKEN = "xoxp-3333-4444-5555-MnOpQr"
APP_TOKEN = "xapp-1-A0123-6666-StUvWx"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"


@pytest.fixture
def configured() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    """``bot.logs`` configured to write into a string; undone afterwards."""
    root = logging.getLogger()
    level = root.level
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET_LOGGERS}
    stream = io.StringIO()
    handler = logs.configure("INFO", "text", secrets=(SIGNING_SECRET, BOT_TOKEN), stream=stream)
    yield stream, logging.getLogger("sitrep.test")
    root.removeHandler(handler)
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def test_tokens_and_the_signing_secret_never_reach_a_log_line(
        configured: tuple[io.StringIO, logging.Logger]) -> None:
    stream, log = configured
    log.warning("token %s and %s, app %s", BOT_TOKEN, USER_TOKEN, APP_TOKEN)
    log.info("Authorization: Bearer " + BOT_TOKEN)
    log.error("secret=%s", SIGNING_SECRET)
    log.error("db at postgresql://sitrep:hunter2secret@db.internal:5432/sitrep")
    try:
        raise RuntimeError(f"request failed with {BOT_TOKEN} and {SIGNING_SECRET}")
    except RuntimeError:
        log.exception("call failed")
    out = stream.getvalue()
    for secret in (BOT_TOKEN, USER_TOKEN, APP_TOKEN, SIGNING_SECRET, "hunter2secret",
                   "AbCdEfGhIjKl", "MnOpQr", "StUvWx"):
        assert secret not in out
    assert "token xoxb-[redacted] and xoxp-[redacted], app xapp-[redacted]" in out
    assert "secret=[redacted]" in out
    assert "postgresql://sitrep:[redacted]@db.internal:5432/sitrep" in out
    assert "RuntimeError: request failed with xoxb-[redacted] and [redacted]" in out
    assert "Traceback" in out  # the traceback is kept, only the secrets go


def test_redaction_leaves_ordinary_text_alone() -> None:
    redact = logs.Redact([SIGNING_SECRET, None, "", "abc"]).redact
    text = "INC-12 xoxbox-not-a-token, https://example.com/a:b@c, 10:05 ok"
    assert redact(text) == text
    assert logs.Redact(["abc"]).secrets == []  # too short to be a secret worth a search


def test_json_lines_carry_time_level_logger_message_and_exception() -> None:
    formatter = logs.JsonFormatter()
    try:
        raise ValueError("bad thing")
    except ValueError:
        import sys
        record = logging.LogRecord("bot.server", logging.ERROR, __file__, 1, "failed %s",
                                   ("twice",), sys.exc_info())
    record.created = 1_700_000_000.25
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["time"] == "2023-11-14T22:13:20.250Z"
    assert (entry["level"], entry["logger"], entry["message"]) == ("ERROR", "bot.server",
                                                                   "failed twice")
    assert entry["exception"].startswith("Traceback") and "ValueError: bad thing" in entry[
        "exception"]


def test_json_format_redacts_too() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure("INFO", "json", secrets=(SIGNING_SECRET,), stream=stream)
    try:
        logging.getLogger("sitrep.test").warning("with %s and %s", BOT_TOKEN, SIGNING_SECRET)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "with xoxb-[redacted] and [redacted]"


def test_scheduler_chatter_is_quiet_unless_debugging(
        configured: tuple[io.StringIO, logging.Logger]) -> None:
    stream, _ = configured
    executor = logging.getLogger("apscheduler.executors.default")
    executor.info("Running job \"task_reminders\"")
    executor.warning("Run time of job \"task_reminders\" was missed by 0:01:05")
    out = stream.getvalue()
    assert "Running job" not in out and "was missed by" in out
    logs.configure("DEBUG", "text", stream=stream)
    assert executor.isEnabledFor(logging.INFO)
