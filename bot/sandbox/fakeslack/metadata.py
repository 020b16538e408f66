"""Message metadata: what ``chat.postMessage``/``chat.update`` accept, and who may read it back.

Slack stores an app's ``metadata`` (``event_type`` + ``event_payload``) with the message and
returns it from ``conversations.history`` only when asked with ``include_all_metadata``.
Sitrep relies on it as its idempotency key (a reminder, the card, an announcement), so the
fake keeps it exactly as Slack documents it, and no more kindly.
"""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.fakeslack.common import SlackError

# https://docs.slack.dev/messaging/message-metadata: event_type is letters, digits, _ and -
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_-]+")


def checked_metadata(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The metadata to store and a warning to answer with, or raise Slack's error.

    A malformed ``metadata`` argument is refused; a well-formed one whose ``event_type``
    breaks the naming rule is dropped with a warning, the message still posted.
    """
    # https://api.slack.com/methods/chat.postMessage: invalid_metadata_format
    if not isinstance(raw, dict):
        raise SlackError("invalid_metadata_format")
    event_type, payload = raw.get("event_type"), raw.get("event_payload")
    # https://docs.slack.dev/messaging/message-metadata: event_type string, event_payload object
    if not isinstance(event_type, str) or not isinstance(payload, dict):
        raise SlackError("invalid_metadata_format")
    # https://docs.slack.dev/messaging/message-metadata: invalid event_type warns, is ignored
    if not _EVENT_TYPE.fullmatch(event_type):
        return None, "invalid_metadata_schema"
    return {"event_type": event_type, "event_payload": payload}, None


def without_metadata(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` as read without ``include_all_metadata`` (a copy without ``metadata``)."""
    # https://api.slack.com/methods/conversations.history: include_all_metadata, default false
    if "metadata" not in message:
        return message
    return {k: v for k, v in message.items() if k != "metadata"}
