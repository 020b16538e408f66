"""Play Slack's side of the conversation: signed requests in Slack's exact wire formats.

Used by the end-to-end tests, the demo and the benchmark to drive the real Bolt app over
HTTP, signed with ``slack_sdk``'s own signature code, or over Socket Mode
(``transport="socket"``): the same command, event or interaction goes to the app as an
envelope on the fake Slack's WebSocket, and the reply is the ack (its payload where the HTTP
response had its body).
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.signature import SignatureVerifier

from bot.common.text import to_slack

_ids = itertools.count(1)


@dataclass
class Reply:
    """What the bot answered over HTTP."""

    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSimulator:
    """Sends signed slash commands, events and interactions to a Bolt app."""

    def __init__(self, bot_url: str, signing_secret: str, *, team_id: str = "T0001",
                 app_id: str = "A0SITREP", bot_user_id: str = "U0BOT",
                 fake: Any | None = None, transport: str = "http",
                 settle: Callable[[], object] | None = None) -> None:
        """``settle``: called after each event is answered, to wait until the bot has applied
        what it can (the sandbox's inbox), so that a story reads in order."""
        if transport not in ("http", "socket") or (transport == "socket" and fake is None):
            raise ValueError("transport is 'http', or 'socket' with a fake Slack")
        self.transport = transport
        self.settle = settle
        self.events_url = bot_url.rstrip("/") + "/slack/events"
        self.secret = signing_secret
        self.team_id = team_id
        self.app_id = app_id
        self.bot_user_id = bot_user_id
        self.fake = fake  # a FakeSlack, for response_url values and the story's clock

    def _now(self) -> float:
        """Seconds for payload times: the fake's clock when there is one.

        Only the request signature's timestamp is always real time, as Bolt checks it.
        """
        return self.fake.now() if self.fake is not None else time.time()

    def _event_ts(self) -> str:
        """A fresh ``event_ts``: the fake's own (unique, increasing) when there is one."""
        return self.fake._next_ts() if self.fake is not None else f"{time.time():.6f}"

    # -- transport -----------------------------------------------------------------------
    def send(self, body: str, content_type: str, *, timestamp: int | None = None,
             signature: str | None = None, headers: dict[str, str] | None = None,
             timeout: float = 10) -> Reply:
        """POST ``body`` signed like Slack does (``v0:<ts>:<body>``, HMAC-SHA256).

        Over Socket Mode the same body goes as an envelope (nothing is signed there)."""
        if self.transport == "socket":
            return self._envelope(body, content_type, headers or {}, timeout)
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = signature if signature is not None else SignatureVerifier(self.secret)\
            .generate_signature(timestamp=ts, body=body)
        all_headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                       "X-Slack-Signature": sig or ""}
        all_headers.update(headers or {})
        if signature == "":
            all_headers.pop("X-Slack-Signature")
        req = urllib.request.Request(self.events_url, data=body.encode(), headers=all_headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return Reply(resp.status, resp.read().decode(), dict(resp.headers))
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.read().decode(), dict(err.headers))

    def _envelope(self, body: str, content_type: str, headers: dict[str, str],
                  timeout: float) -> Reply:
        """Send ``body`` as Socket Mode envelope and wait for its ack
        (https://docs.slack.dev/apis/events-api/using-socket-mode)."""
        if content_type.startswith("application/json"):
            retry = headers.get("X-Slack-Retry-Num")
            envelope = self.fake.socket_send(
                "events_api", json.loads(body), accepts_response_payload=False,
                retry_attempt=int(retry or 0),
                retry_reason=headers.get("X-Slack-Retry-Reason", "") if retry else "")
        else:
            form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
            if "payload" in form:
                payload = json.loads(form["payload"])
                # Slack takes a response from the ack only where one means something: a
                # view submission's response_action, options for a select.
                accepts = payload.get("type") in ("view_submission", "block_suggestion")
                envelope = self.fake.socket_send("interactive", payload,
                                                 accepts_response_payload=accepts)
            else:
                envelope = self.fake.socket_send("slash_commands", form,
                                                 accepts_response_payload=True)
        if not envelope.done.wait(timeout):
            return Reply(0, "", {})  # never acked: Slack gives up, as on an HTTP timeout
        if envelope.ack_payload is None:
            return Reply(envelope.status or 0, "", {})
        return Reply(envelope.status or 0, json.dumps(envelope.ack_payload),
                     {"Content-Type": "application/json"})

    def _response_url(self, channel: str | None = None) -> str:
        if self.fake is not None:
            return self.fake.response_url(channel)
        return "https://hooks.slack.com/commands/T0001/1/none"

    # -- slash commands ------------------------------------------------------------------
    def command_body(self, text: str, *, user: str = "U0LEAD", channel: str = "C0GENERAL",
                     channel_name: str = "general", command: str = "/incident") -> str:
        """The form Slack posts for ``command text``. ``text`` is what the person typed, with
        mentions and links already in Slack's markup (``<@U123|ann>``, as ``should_escape``
        makes them); ``&``, ``<`` and ``>`` are escaped the way Slack sends them
        (https://api.slack.com/interactivity/slash-commands#creating_commands)."""
        n = next(_ids)
        return urllib.parse.urlencode({
            "token": "verification-token-unused",
            "team_id": self.team_id,
            "team_domain": "sitrep-demo",
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": to_slack(text),
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url(channel),
            "trigger_id": f"{n}.{n * 7}.{n:032x}",
        })

    def command(self, text: str, **kw: Any) -> Reply:
        """``/incident <text>`` typed by ``user`` in ``channel``."""
        return self.send(self.command_body(text, **kw), "application/x-www-form-urlencoded")

    # -- Events API ----------------------------------------------------------------------
    def event_body(self, event: dict[str, Any], *, event_id: str | None = None) -> str:
        event_id = event_id or f"Ev{next(_ids):010d}"
        return json.dumps({
            "token": "verification-token-unused",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(self._now()),
            "authorizations": [{"enterprise_id": None, "team_id": self.team_id,
                                "user_id": self.bot_user_id, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
            "event_context": f"4-{event_id}",
        })

    def event(self, event: dict[str, Any], *, event_id: str | None = None,
              retry_num: int | None = None, retry_reason: str = "http_timeout",
              settle: bool = True) -> Reply:
        """Deliver an Events API callback (``retry_num`` adds Slack's redelivery headers);
        then, with ``settle``, wait until the bot applied what it could of it."""
        if self.fake is not None and not self.fake.delivers(event):
            # Slack would not send it: not subscribed, a scope missing, or a private channel
            # the app is not in (FakeSlack.delivers).
            return Reply(0, "", {"X-Not-Delivered": "1"})
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        reply = self.send(self.event_body(event, event_id=event_id), "application/json",
                          headers=headers)
        if settle and self.settle is not None:
            self.settle()
        return reply

    def reaction(self, kind: str, *, user: str, channel: str, ts: str, item_user: str,
                 reaction: str = "pushpin", **kw: Any) -> Reply:
        """``reaction_added`` / ``reaction_removed`` on message ``ts``."""
        return self.event({
            "type": kind, "user": user, "reaction": reaction, "item_user": item_user,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": self._event_ts(),
        }, **kw)

    def _channel_type(self, channel: str) -> str:
        """``channel`` for a public channel, ``group`` for a private one (as Slack sends it)."""
        if self.fake is not None and self.fake.channel(channel) is not None:
            return str(self.fake.channel_type(channel))
        return "channel"

    def message(self, message: dict[str, Any], channel: str, **kw: Any) -> Reply:
        """A ``message`` event for a message a user posted (from ``FakeSlack.user_message``)."""
        event = {**message, "type": "message", "channel": channel,
                 "channel_type": self._channel_type(channel), "event_ts": message["ts"]}
        return self.event(event, **kw)

    def message_changed(self, message: dict[str, Any], previous: dict[str, Any], channel: str,
                        **kw: Any) -> Reply:
        """A ``message_changed`` event: ``message`` (e.g. ``FakeSlack.edit_message``) replaced
        ``previous`` (as Slack sends it, the edit's own ``ts`` is the event's)."""
        edit_ts = (message.get("edited") or {}).get("ts") or f"{self._now():.6f}"
        return self.event({
            "type": "message", "subtype": "message_changed", "hidden": True,
            "channel": channel, "channel_type": self._channel_type(channel), "ts": edit_ts,
            "event_ts": edit_ts,
            "message": {k: v for k, v in message.items() if k != "channel"},
            "previous_message": {k: v for k, v in previous.items() if k != "channel"},
        }, **kw)

    def message_replied(self, parent: dict[str, Any], channel: str, *,
                        with_subtype: bool = False, **kw: Any) -> Reply:
        """A ``message_replied`` event about thread ``parent`` (as ``FakeSlack.messages``
        shows it after a reply). Over the Events API it comes without its subtype
        (https://api.slack.com/events/message/message_replied), unless ``with_subtype``."""
        now = f"{self._now():.6f}"
        event: dict[str, Any] = {
            "type": "message", "hidden": True, "channel": channel, "event_ts": now, "ts": now,
            "message": {k: v for k, v in parent.items() if k != "channel"},
        }
        if with_subtype:
            event["subtype"] = "message_replied"
        return self.event(event, **kw)

    def message_deleted(self, previous: dict[str, Any], channel: str, **kw: Any) -> Reply:
        """A ``message_deleted`` event for ``previous`` (``deleted_ts`` is its ``ts``)."""
        now = f"{self._now():.6f}"
        return self.event({
            "type": "message", "subtype": "message_deleted", "hidden": True,
            "channel": channel, "channel_type": self._channel_type(channel), "ts": now,
            "event_ts": now,
            "deleted_ts": previous["ts"],
            "previous_message": {k: v for k, v in previous.items() if k != "channel"},
        }, **kw)

    # -- interactivity -------------------------------------------------------------------
    def interaction(self, payload: dict[str, Any]) -> Reply:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.send(body, "application/x-www-form-urlencoded")

    def _user(self, user: str) -> dict[str, Any]:
        return {"id": user, "username": user.lower(), "name": user.lower(),
                "team_id": self.team_id}

    def view_submission(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *,
                        user: str = "U0LEAD") -> Reply:
        """Submit ``view`` (as opened with ``views.open``) with ``values`` as its state."""
        n = next(_ids)
        submitted = {**view, "id": view.get("id", f"V{n:010d}"), "team_id": self.team_id,
                     "state": {"values": values}, "app_id": self.app_id,
                     "bot_id": "B0SITREP", "hash": f"{n}.abc"}
        return self.interaction({
            "type": "view_submission", "team": {"id": self.team_id, "domain": "sitrep-demo"},
            "user": self._user(user), "api_app_id": self.app_id,
            "token": "verification-token-unused", "trigger_id": f"{n}.{n}.{n:032x}",
            "view": submitted, "response_urls": [], "is_enterprise_install": False,
            "enterprise": None,
        })

    def block_action(self, action: dict[str, Any], *, user: str, channel: str | None = None,
                     message: dict[str, Any] | None = None, container: dict[str, Any] | None
                     = None) -> Reply:
        """Press a button (``action`` as in the message's blocks, plus ``value``)."""
        n = next(_ids)
        payload: dict[str, Any] = {
            "type": "block_actions", "user": self._user(user), "api_app_id": self.app_id,
            "token": "verification-token-unused",
            "container": container or {"type": "message", "message_ts": (message or {})
                                       .get("ts"), "channel_id": channel,
                                       "is_ephemeral": False},
            "trigger_id": f"{n}.{n}.{n:032x}",
            "team": {"id": self.team_id, "domain": "sitrep-demo"},
            "enterprise": None, "is_enterprise_install": False,
            "response_url": self._response_url(),
            "actions": [{"type": "button", "block_id": action.get("block_id", "actions"),
                         "action_ts": f"{self._now():.6f}", **action}],
        }
        if channel:
            payload["channel"] = {"id": channel, "name": channel.lower()}
        if message:
            payload["message"] = message
        return self.interaction(payload)

    def message_shortcut(self, callback_id: str, *, user: str, channel: str,
                         message: dict[str, Any]) -> Reply:
        """Use a message shortcut (``message_action``) on ``message`` in ``channel``."""
        n = next(_ids)
        return self.interaction({
            "type": "message_action", "token": "verification-token-unused",
            "action_ts": f"{self._now():.6f}", "team": {"id": self.team_id,
                                                        "domain": "sitrep-demo"},
            "user": self._user(user), "channel": {"id": channel, "name": channel.lower()},
            "is_enterprise_install": False, "enterprise": None, "callback_id": callback_id,
            "trigger_id": f"{n}.{n}.{n:032x}", "response_url": self._response_url(),
            "message_ts": message["ts"], "message": message,
        })
