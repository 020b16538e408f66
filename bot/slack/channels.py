"""Channel ids from what people configure: ``ANNOUNCE_CHANNEL=#incidents`` becomes ``C…``.

Slack's methods take channel ids (``conversations.join`` accepts nothing else), while an
operator naturally writes a name. A name is looked up once in the public channels
(``conversations.list``, page by page) and remembered for the life of the process.
"""

from __future__ import annotations

import logging
import re
import threading

from slack_sdk import WebClient

from bot.slack.client import pages

log = logging.getLogger(__name__)

#: A conversation id: C (public or private channel), G (old private channel), D (DM).
_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
PAGE_SIZE = 999  # conversations.list: "an integer under 1000"


def looks_like_id(ref: str) -> bool:
    """Channel names are lower case, ids upper case: ``C024BE91L`` is an id, ``general`` not."""
    return bool(_ID.match(ref))


class ChannelIds:
    """Channel names resolved to ids, once per process."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def resolve(self, client: WebClient, ref: str) -> str | None:
        """The id of channel ``ref`` (an id, ``#name`` or ``name``); None if no public one.

        A private channel cannot be found by name without reading every private channel;
        give its id instead (and invite Sitrep to it).
        """
        ref = ref.strip()
        if looks_like_id(ref):
            return ref
        name = ref.lstrip("#").lower()
        with self._lock:
            known = self._ids.get(name)
        if known is not None:
            return known
        found = self._lookup(client, name)
        if found is None:
            log.error("channel #%s was not found among the public channels; give its id "
                      "(C…) instead, and invite Sitrep to it if it is private", name)
            return None
        with self._lock:
            self._ids[name] = found
        return found

    @staticmethod
    def _lookup(client: WebClient, name: str) -> str | None:
        for page in pages(client.conversations_list, types="public_channel",
                          exclude_archived=True, limit=PAGE_SIZE):
            for channel in page.get("channels") or []:
                if channel.get("name") == name:
                    return str(channel["id"])
        return None
