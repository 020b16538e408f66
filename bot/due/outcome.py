"""What delivering one piece of due work came to, as the pump (and its senders) need it.

A sender sorts Slack's answer into one of these (``bot.slack.errors`` says which refusal is
which): delivered, try again next pass, the addressee is gone, Slack refuses Sitrep itself
(stop the pass, blame no one), a refusal not understood (back off), or not due after all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Failed", "Later", "Outcome", "Paused", "Retry", "Sent", "Unreachable"]


@dataclass(frozen=True)
class Sent:
    """Delivered: the DM's channel and ``ts`` (buttons update it in place)."""

    channel_id: str
    ts: str


@dataclass(frozen=True)
class Retry:
    """Not delivered for now (5xx, timeout, rate limit beyond retries): due next pass.

    ``uncertain``: Slack may have delivered it all the same (a timeout); the lease is kept
    to expire, so the next pass checks the owner's DM before sending it again.
    """

    reason: str
    uncertain: bool = False


@dataclass(frozen=True)
class Unreachable:
    """The owner cannot be reached any more (left, deactivated): stop reminding them."""

    code: str


@dataclass(frozen=True)
class Paused:
    """Slack refuses Sitrep itself (token, scope, Messages tab): stop the pass, blame no one."""

    code: str


@dataclass(frozen=True)
class Failed:
    """Refused for a reason not understood: this task backs off (``retry_delay``)."""

    code: str




@dataclass(frozen=True)
class Later:
    """Not due yet after all (found out only when delivering, e.g. the addressee's time zone
    puts their slot later): nothing sent, look again at ``at`` (None: never)."""

    at: dt.datetime | None


Outcome = Sent | Retry | Unreachable | Paused | Failed | Later
