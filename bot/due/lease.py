"""Leases on due work: how long a claim lasts, who holds it, and how a refusal backs off.

Shared by every kind of due work, task reminders included, so they behave alike.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

__all__ = ["LEASE", "RETRY_FIRST", "RETRY_MAX", "retry_delay", "worker_id"]

#: How long a claimed row belongs to the pass that claimed it.
LEASE = dt.timedelta(minutes=5)
#: A delivery refused for a reason not understood waits this long, doubling each time…
RETRY_FIRST = dt.timedelta(minutes=1)
#: … up to this: about a dozen tries the first day, then one a day (not one every pass).
RETRY_MAX = dt.timedelta(days=1)


def retry_delay(failures: int) -> dt.timedelta:
    """How long a delivery waits after its ``failures``-th refusal in a row not understood."""
    return min(RETRY_FIRST * 2 ** min(max(failures, 1) - 1, 20), RETRY_MAX)


def worker_id() -> str:
    """A lease owner unique to one pass of one process."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
