"""Who is in a channel, from ``conversations.members``, cached briefly.

Only private incidents need it (``bot.incidents.access``). Slack is the authority: a person
removed from the channel loses access once the cached list expires (``TTL``), with no event
to subscribe to. ``conversations.members`` pages through the members
(https://docs.slack.dev/reference/methods/conversations.members: ``limit`` up to 1000, a
``next_cursor`` until it is empty); a channel whose members cannot be read is ``None``, and
the rule then shows the incident to no one (privacy fails closed).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Collection

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.common.clock import Clock
from bot.slack.client import error_code, pages

log = logging.getLogger(__name__)
#: How long a channel's member list is trusted.
TTL = dt.timedelta(seconds=60)
PAGE = 1000
#: Pages read at most (1,000,000 members): a cursor that never ends cannot hang a request.
MAX_PAGES = 1000


class ChannelMembers:
    """``get(client, channel)`` → the channel's member ids, read at most once per ``TTL``."""

    def __init__(self, clock: Clock, ttl: dt.timedelta = TTL) -> None:
        self.clock = clock
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[dt.datetime, frozenset[str]]] = {}

    def get(self, client: WebClient, channel_id: str) -> Collection[str] | None:
        now = self.clock.now()
        with self._lock:
            cached = self._cache.get(channel_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            members = self._read(client, channel_id)
        except SlackApiError as exc:
            log.warning("could not read the members of %s: %s", channel_id, error_code(exc))
            return None
        with self._lock:
            self._cache[channel_id] = (now, members)
        return members

    def forget(self, channel_id: str) -> None:
        """Drop a cached list (Sitrep just invited someone, so it knows it changed)."""
        with self._lock:
            self._cache.pop(channel_id, None)

    @staticmethod
    def _read(client: WebClient, channel_id: str) -> frozenset[str]:
        members: set[str] = set()
        for page in pages(client.conversations_members, max_pages=MAX_PAGES,
                          channel=channel_id, limit=PAGE):
            members.update(str(m) for m in page.get("members") or [])
        return frozenset(members)
