"""What a signed request from Slack must look like before Bolt and the listeners see it.

Bolt parses a body before it checks anything, and listeners read fields with ``body["x"]``
and ``.get(...)``: a JSON array, an ``event`` that is a string or a numeric channel crashes
them (a 500, which Slack retries). ``problem`` says, without raising, what is wrong with a
body, so the server can answer it once and log one line. Only the fields Sitrep's listeners
read are checked; anything else Slack adds is left alone.

Pure: no Bolt, no slack_sdk (the server does the signature, see ``bot.server``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

#: Event types Sitrep subscribes to (manifest.yml) whose fields the listeners read.
_MESSAGE_EVENTS = frozenset({"message"})
_REACTION_EVENTS = frozenset({"reaction_added", "reaction_removed"})
#: Fields that, when present, must be strings (``None`` is allowed: Slack sends nulls).
_EVENT_STRINGS = ("type", "subtype", "channel", "user", "ts", "thread_ts", "text",
                  "deleted_ts", "bot_id", "username", "reaction", "event_ts")
_EVENT_OBJECTS = ("message", "previous_message", "item", "bot_profile")
_EVENT_LISTS = ("attachments", "files", "blocks")
_PAYLOAD_OBJECTS = ("user", "team", "channel", "message", "view", "container")
_PAYLOAD_STRINGS = ("type", "callback_id", "trigger_id", "response_url", "message_ts")


class Malformed(ValueError):
    """A body that no redelivery will fix; ``events`` says whether Slack retries a refusal."""

    def __init__(self, reason: str, *, events: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.events = events


def _is_json(body: str, content_type: str | None) -> bool:
    """Bolt's own rule (``slack_bolt.request.internals.parse_body``)."""
    return (content_type or "").split(";")[0].strip() == "application/json" \
        or body.startswith("{")


def check(body: str, content_type: str | None) -> None:
    """Raise ``Malformed`` when ``body`` is not a request Sitrep's listeners can read."""
    if _is_json(body, content_type):
        if not body:
            raise Malformed("empty JSON body", events=True)
        try:
            parsed = json.loads(body)
        except ValueError:
            raise Malformed("body is not JSON", events=True) from None
        _check_callback(parsed)
        return
    form = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in body and "payload" in form:
        try:
            payload = json.loads(form["payload"])
        except ValueError:
            raise Malformed("payload is not JSON", events=False) from None
        _check_payload(payload)
        return
    if form.get("ssl_check") or form.get("command"):
        return
    raise Malformed("neither a command, an interaction nor an event", events=False)


#: Interaction payload types (https://docs.slack.dev/reference/interaction-payloads).
INTERACTION_TYPES = frozenset({"block_actions", "shortcut", "message_action",
                               "view_submission", "view_closed", "block_suggestion",
                               "interactive_message", "dialog_submission",
                               "dialog_suggestion", "dialog_cancellation"})


def check_parsed(body: Any) -> None:
    """The same checks on a body already parsed (Socket Mode hands Bolt a dict)."""
    if not isinstance(body, dict):
        raise Malformed(f"{type(body).__name__}, not an object", events=True)
    if body.get("command") is not None or body.get("ssl_check") is not None:
        return
    if body.get("type") in INTERACTION_TYPES:
        _check_payload(body)
    else:
        _check_callback(body)


def _check_callback(body: Any) -> None:
    """An Events API delivery (``event_callback``, ``url_verification``, ``app_rate_limited``)."""
    if not isinstance(body, dict):
        raise Malformed(f"JSON {type(body).__name__}, not an object", events=True)
    kind = body.get("type")
    if not isinstance(kind, str):
        raise Malformed("no type", events=True)
    for name in ("team_id", "event_id", "api_app_id"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise Malformed(f"{name} is not a string", events=True)
        if len(body.get(name) or "") > 64:
            raise Malformed(f"{name} is too long", events=True)
    if kind == "url_verification" and not isinstance(body.get("challenge"), str):
        raise Malformed("url_verification without a challenge", events=True)
    if kind != "event_callback":
        return
    event = body.get("event")
    if not isinstance(event, dict):
        raise Malformed(f"event is {type(event).__name__}, not an object", events=True)
    if not isinstance(event.get("type"), str):
        raise Malformed("event without a type", events=True)
    if event["type"] in _MESSAGE_EVENTS | _REACTION_EVENTS:
        _check_fields(event, "event")
        for name in ("message", "previous_message"):
            if isinstance(event.get(name), dict):
                _check_fields(event[name], f"event.{name}")
        if isinstance(event.get("item"), dict):
            for name in ("type", "channel", "ts"):
                _string(event["item"], name, "event.item")


def _check_fields(obj: dict[str, Any], where: str) -> None:
    for name in _EVENT_STRINGS:
        _string(obj, name, where)
    for name in _EVENT_OBJECTS:
        if obj.get(name) is not None and not isinstance(obj[name], dict):
            raise Malformed(f"{where}.{name} is not an object", events=True)
    for name in _EVENT_LISTS:
        if obj.get(name) is not None and not isinstance(obj[name], list):
            raise Malformed(f"{where}.{name} is not a list", events=True)


#: Ids and timestamps Slack sends are short; the database keeps 32 characters of each
#: (``storage.models``), and a longer one is no Slack id.
_IDS = frozenset({"channel", "user", "ts", "thread_ts", "deleted_ts", "event_ts", "team_id",
                  "id", "bot_id"})
_ID_LENGTH = 32


def _string(obj: dict[str, Any], name: str, where: str, *, events: bool = True) -> None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise Malformed(f"{where}.{name} is not a string", events=events)
    if name in _IDS and value is not None and len(value) > _ID_LENGTH:
        raise Malformed(f"{where}.{name} is too long for a Slack id", events=events)


def _check_payload(payload: Any) -> None:
    """An interaction (``payload=`` form field): buttons, shortcuts, modal submissions."""
    if not isinstance(payload, dict):
        raise Malformed(f"payload is JSON {type(payload).__name__}, not an object",
                        events=False)
    if not isinstance(payload.get("type"), str):
        raise Malformed("payload without a type", events=False)
    for name in _PAYLOAD_STRINGS:
        _string(payload, name, "payload", events=False)
    for name in _PAYLOAD_OBJECTS:
        if payload.get(name) is not None and not isinstance(payload[name], dict):
            raise Malformed(f"payload.{name} is not an object", events=False)
    if not isinstance(payload.get("user"), dict) or not isinstance(payload["user"].get("id"),
                                                                    str):
        raise Malformed("payload without a user id", events=False)
    for name in ("user", "team", "channel"):
        if isinstance(payload.get(name), dict):
            _string(payload[name], "id", f"payload.{name}", events=False)
    actions = payload.get("actions")
    if actions is not None and not (isinstance(actions, list)
                                    and all(isinstance(a, dict) for a in actions)):
        raise Malformed("payload.actions is not a list of objects", events=False)
    for action in actions or []:
        for name in ("action_id", "value"):
            _string(action, name, "payload.actions[]", events=False)
