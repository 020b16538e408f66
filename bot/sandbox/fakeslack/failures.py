"""Failure injection and the call log: how a test makes the fake misbehave and sees what came.

``fail()`` queues a failure for a method (rate limit, HTTP 500, timeout, any Slack error);
``server.py`` takes one on each Web API call after recording the call here.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from bot.sandbox.fakeslack.common import Call, Failure
from bot.sandbox.fakeslack.state import Workspace


class Failures(Workspace):
    """Recorded calls, queued failures, and waiting for calls to arrive."""

    # ------------------------------------------------------------------ call log & faults

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls to ``method``, oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        """Forget recorded calls (state such as channels and messages is kept)."""
        with self._lock:
            self.calls.clear()

    def fail(self, method: str, error: str, times: int = 1, retry_after: int = 1,
             when: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """Make the next ``times`` calls to ``method`` fail (``times=-1``: until cleared).

        ``error`` is ``"ratelimited"`` (HTTP 429 + Retry-After), ``"http_500"``,
        ``"http_500_after"`` (carry the call out, then answer 500: Slack posted and its answer
        was lost), ``"drop_after"`` (carry it out, then close the connection unanswered),
        ``"timeout"`` (answer normally after ``timeout_seconds``) or any Slack
        error code (HTTP 200).
        ``method="*"`` applies to every method without its own failure queued.
        Failures queued for the same method are consumed in order. ``when`` limits a failure
        to the calls whose arguments it accepts (``lambda args: args["channel"] == ...``).
        """
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            queue.append(Failure(error, times, retry_after, when))

    def clear_failures(self) -> None:
        """Drop all queued failures."""
        with self._lock:
            self._failures.clear()

    def _take_failure(self, method: str, args: dict[str, Any] | None = None) -> Failure | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            while queue:
                failure = queue[0]
                if failure.remaining == 0:
                    queue.popleft()
                    continue
                if failure.when is not None and not failure.when(args or {}):
                    break
                if failure.remaining > 0:
                    failure.remaining -= 1
                    if failure.remaining == 0:
                        queue.popleft()
                return failure
        return None

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll ``predicate`` until true or ``timeout`` seconds pass; returns the last result."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return bool(predicate())

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least ``count`` calls to ``method`` were recorded and return them."""
        if self.wait_for(lambda: len(self.calls_to(method)) >= count, timeout):
            return self.calls_to(method)
        with self._lock:
            seen = Counter(c.method for c in self.calls)
            got = seen.get(method, 0)
        summary = ", ".join(f"{m} x{n}" for m, n in seen.items()) or "none"
        raise AssertionError(
            f"expected at least {count} call(s) to {method} within {timeout}s, got {got}; "
            f"recorded methods: {summary}"
        )
