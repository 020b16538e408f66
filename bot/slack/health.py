"""Whether Slack accepts Sitrep right now, as the Web API's own answers show it.

A refusal that is about Sitrep itself (its token, a missing scope, the Messages tab turned
off: ``bot.slack.errors``) is a *problem of the app*, never of the person being messaged:

- it is logged once per process at ERROR, with what an admin must do;
- ``GET /healthz`` lists it while it lasts;
- it pauses the reminder sweep (``sending_blocked``), which tries again after a pause that
  doubles from a minute up to an hour, instead of failing on every pass.

The next accepted call of the same kind clears it (any call for the token; the same method
for a scope; a DM for the Messages tab). The Web API client (``bot.slack.client``) shows it
the answer to every call, whichever listener or job made it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from bot.common.clock import Clock
from bot.slack import errors

log = logging.getLogger(__name__)

#: First pause of the reminder sweep after an app problem; it doubles up to ``PAUSE_MAX``.
PAUSE_FIRST = dt.timedelta(minutes=1)
PAUSE_MAX = dt.timedelta(hours=1)
#: Methods every DM needs: a scope missing on one of them pauses reminders too.
SENDING_METHODS = frozenset({"chat.postMessage", "conversations.open"})


@dataclass
class Problem:
    """One app problem: the first refusal, and when the sweep may try again."""

    key: str
    code: str
    method: str
    detail: str
    since: dt.datetime
    failures: int
    retry_at: dt.datetime

    @property
    def blocks_sending(self) -> bool:
        """Whether no reminder can be delivered while it lasts."""
        return self.key in ("token", "dms") or (
            self.key.startswith("scope:") and self.method in SENDING_METHODS)

    def as_json(self) -> dict[str, str]:
        return {"error": self.code, "method": self.method, "since": self.since.isoformat(),
                "detail": self.detail}


def _key(kind: errors.Kind, method: str) -> str:
    if kind is errors.Kind.TOKEN:
        return "token"
    if kind is errors.Kind.DMS_OFF:
        return "dms"
    return f"scope:{method}"


def pause_after(failures: int) -> dt.timedelta:
    """How long the sweep waits after the ``failures``-th refusal in a row (1 min … 1 h)."""
    return min(PAUSE_FIRST * 2 ** min(max(failures, 1) - 1, 12), PAUSE_MAX)


class SlackHealth:
    """The app problems this process has seen and not yet seen cleared."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._problems: dict[str, Problem] = {}
        self._logged: set[str] = set()
        self._lock = threading.Lock()

    def refused(self, method: str, code: str, *, needed: str | None = None) -> Problem | None:
        """Slack answered ``method`` with ``code``; returns the app problem it is, if one."""
        kind = errors.classify(code)
        if not errors.is_app_problem(code):
            return None
        key = _key(kind, method)
        now = self.clock.now()
        with self._lock:
            problem = self._problems.get(key)
            level: int | None = None
            if problem is None:
                problem = Problem(key, code, method, errors.explain(code, method, needed), now,
                                  1, now + pause_after(1))
                self._problems[key] = problem
                # Loudly once per process; a relapse after it was cleared, as a warning.
                level = logging.WARNING if key in self._logged else logging.ERROR
                self._logged.add(key)
            elif now >= problem.retry_at:  # a new try failed (not a parallel one of the same)
                problem.failures += 1
                problem.retry_at = now + pause_after(problem.failures)
        if level is not None:
            log.log(level, "SLACK APP PROBLEM: %s (refused: %s, error %s)", problem.detail,
                    method, code)
        return problem

    @property
    def all_clear(self) -> bool:
        """No app problem (read without the lock: the common case on every answer)."""
        return not self._problems

    def accepted(self, method: str, *, dm: bool = False) -> None:
        """Slack accepted ``method`` (``dm``: a message into a DM): clear what that disproves."""
        if self.all_clear:
            return
        cleared = []
        with self._lock:
            for key in ("token", f"scope:{method}", "dms" if dm else ""):
                problem = self._problems.pop(key, None)
                if problem is not None:
                    cleared.append(problem)
        for problem in cleared:
            log.info("Slack accepts Sitrep again (%s had failed with %s since %s)",
                     problem.method, problem.code, problem.since.isoformat())

    def problems(self) -> list[Problem]:
        """The current app problems, oldest first."""
        with self._lock:
            return sorted(self._problems.values(), key=lambda p: p.since)

    def sending_blocked(self) -> Problem | None:
        """A problem that stops every DM and whose pause is not over yet, or None."""
        now = self.clock.now()
        for problem in self.problems():
            if problem.blocks_sending and now < problem.retry_at:
                return problem
        return None
