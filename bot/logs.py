"""Logging for a long-running process: text or JSON lines, no secrets, no chatter.

- ``LOG_FORMAT=json`` writes one JSON object per line (``time``, ``level``, ``logger``,
  ``message``, and ``exception`` when there is one) for log shippers. It is the standard
  library's ``json`` behind a ``logging.Formatter``: a few lines, so no dependency.
- ``Redact`` is a filter on the handler, so it sees every record from every logger
  (Sitrep's, Bolt's, slack_sdk's, waitress'): Slack tokens (``xoxb-``, ``xoxp-``,
  ``xapp-`` …), the configured tokens and signing secret, and the password of a database
  URL are replaced before anything is written, in the message and in a traceback alike.
- APScheduler logs two INFO lines at every reminder poll and Alembic one per plugin at
  every start; their loggers are kept at WARNING (their warnings, such as a misfired job,
  still show). ``LOG_LEVEL=DEBUG`` lets everything through.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

HANDLER_NAME = "sitrep"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Third-party loggers that say too much at INFO.
QUIET_LOGGERS = ("apscheduler", "alembic.runtime.plugins")
REDACTED = "[redacted]"
#: Slack tokens: bot (xoxb), user (xoxp), app-level (xapp), and the other xox? kinds.
TOKEN = re.compile(r"\b(xox[abeoprs]|xapp)-[A-Za-z0-9-]+")
#: ``scheme://user:password@host``: the password goes.
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+@")


class Redact(logging.Filter):
    """Replace secrets in a record's message and exception text before it is written."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        text = TOKEN.sub(lambda m: f"{m.group(1)}-{REDACTED}", text)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return URL_PASSWORD.sub(rf"\1{REDACTED}@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it when formatting
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler on whatever ``sys.stderr`` is when it writes (tests replace it)."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure(level: str = "INFO", fmt: str = "text", secrets: Iterable[str | None] = (),
              stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (default: stderr) in ``fmt``, secrets redacted.

    Calling it again replaces the handler it installed before (and no other).
    """
    handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(Redact(secrets))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if level == "DEBUG" else logging.WARNING)
    return handler
