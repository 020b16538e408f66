"""Slack-side orchestration around the timeline core: messages in, pins, confirmations.

Reading Slack is the expensive part (``conversations.history`` is heavily rate-limited), so
every message posted in an incident channel is kept as it arrives, names come from the
``People`` cache, and permalinks are built from the workspace URL Bolt already knows. A pin
of a message the bot saw costs no Web API read; only the discreet confirmation is a call.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.common.text import from_slack
from bot.deps import Deps
from bot.incidents import rules as incidents
from bot.slack.client import error_code
from bot.timeline import render, rules
from bot.timeline.rules import Message, Outcome

log = logging.getLogger(__name__)

#: Message subtypes that are content someone may pin (others: joins, topic changes…).
CONTENT_SUBTYPES = frozenset({None, "bot_message", "file_share", "thread_broadcast",
                              "me_message"})
#: Slack errors worth a redelivery (the read may work later); others mean "can't read it".
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error",
                              "service_unavailable", "request_timeout"})


def is_unfurl(attachment: dict[str, Any]) -> bool:
    """A link preview Slack added to a message (not part of what its author wrote).

    https://api.slack.com/reference/messaging/link-unfurling: previews are attachments that
    carry the link they unfurl (``from_url``/``original_url``) or ``is_app_unfurl``.
    """
    return bool(attachment.get("from_url") or attachment.get("original_url")
                or attachment.get("is_app_unfurl"))


def message_text(payload: dict[str, Any]) -> str:
    """A message's text as typed, falling back to its attachments (alerts often have only
    those); link previews are left out. Decoded from Slack's markup (``bot.common.text``)."""
    parts = [str(payload.get("text") or "")]
    for att in payload.get("attachments") or []:
        if not isinstance(att, dict) or is_unfurl(att):
            continue
        pieces = [str(att[k]) for k in ("pretext", "title", "text") if att.get(k)]
        if not pieces and att.get("fallback"):
            pieces = [str(att["fallback"])]
        parts.extend(pieces)
    return from_slack("\n".join(p for p in parts if p.strip()))


def is_real_edit(event: dict[str, Any]) -> bool:
    """Whether a ``message_changed`` event changed what the message says.

    Slack also sends ``message_changed`` when it adds link previews (no ``edited`` field,
    same text: https://api.slack.com/events/message/message_changed); that is no edit.
    """
    changed, previous = event.get("message") or {}, event.get("previous_message") or {}
    if changed.get("edited"):
        return True
    return message_text(changed) != message_text(previous) or not previous


def is_thread_notice(event: dict[str, Any]) -> bool:
    """A ``message_replied`` event: news about a thread's parent, not a message.

    It carries the parent as ``message`` and has no author or text of its own; over the
    Events API it may arrive without its subtype
    (https://api.slack.com/events/message/message_replied, "Bug alert").
    """
    return event.get("subtype") == "message_replied" or (
        isinstance(event.get("message"), dict) and "user" not in event
        and "bot_id" not in event and "text" not in event)


def parse_message(payload: dict[str, Any], channel_id: str) -> Message | None:
    """The timeline's view of a Slack message object (event, history read or shortcut)."""
    ts = payload.get("ts")
    if not rules.is_ts(ts) or not channel_id:
        return None
    bot_name = None
    if payload.get("bot_id") or payload.get("subtype") == "bot_message":
        profile = payload.get("bot_profile") or {}
        bot_name = payload.get("username") or profile.get("name") or None
    files = tuple(str(f.get("title") or f.get("name") or "file")
                  for f in payload.get("files") or [] if isinstance(f, dict))
    thread_ts = payload.get("thread_ts") if rules.is_ts(payload.get("thread_ts")) else None
    user = payload.get("user") if isinstance(payload.get("user"), str) else None
    return Message(channel_id=channel_id, ts=str(ts), text=message_text(payload), user_id=user,
                   bot_name=str(bot_name) if bot_name else None, thread_ts=thread_ts,
                   files=files)


def reaction_time(body: dict[str, Any], event: dict[str, Any]) -> str | None:
    """Slack's time of a reaction event, for ordering: its ``event_ts``
    (https://api.slack.com/events/reaction_added), else the envelope's ``event_time``."""
    if rules.is_ts(event.get("event_ts")):
        return str(event["event_ts"])
    when = body.get("event_time")
    return f"{when}.000000" if isinstance(when, int) and when > 0 else None


def read_message(client: WebClient, channel_id: str, ts: str) -> Message | None:
    """Read a message the bot never saw (posted before it joined): history, then thread."""
    try:
        found = client.conversations_history(channel=channel_id, latest=ts, oldest=ts,
                                             inclusive=True, limit=1).get("messages") or []
        match = next((m for m in found if m.get("ts") == ts), None)
        if match is None:
            found = client.conversations_replies(channel=channel_id, ts=ts, latest=ts,
                                                 oldest=ts, inclusive=True).get("messages") or []
            match = next((m for m in found if m.get("ts") == ts), None)
    except SlackApiError as exc:
        if error_code(exc) in TRANSIENT_ERRORS:
            raise  # the inbox tries the event again later
        log.warning("cannot read message %s in %s: %s", ts, channel_id, error_code(exc))
        return None
    return parse_message(match, channel_id) if match else None


class ChannelNames:
    """Channel names for readable text: incident channels from the database, others asked once."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, client: WebClient, channel_id: str) -> str:
        with self._lock:
            if channel_id in self._names:
                return self._names[channel_id]
        incident = incidents.for_channel(self.deps.db, channel_id, None)  # a name only
        name = incident.channel_name if incident and incident.channel_name else None
        if name is None:
            try:
                name = client.conversations_info(channel=channel_id)["channel"]["name"]
            except SlackApiError as exc:
                log.info("no name for channel %s: %s", channel_id, error_code(exc))
                return channel_id
        with self._lock:
            self._names[channel_id] = str(name)
        return str(name)


class TimelineSlack:
    """Pins, unpins, shortcut additions and edits, between Bolt and the timeline rules."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.channels = ChannelNames(deps)
        self._url: str | None = None
        self._lock = threading.Lock()

    @property
    def emoji(self) -> str:
        return self.deps.settings.timeline_emoji

    # -- names and text --------------------------------------------------------------------
    def author_name(self, client: WebClient, message: Message) -> str:
        if message.bot_name:
            return message.bot_name
        if message.user_id:
            return self.deps.people.name(client, message.user_id)
        return "someone"

    def readable(self, client: WebClient, message: Message) -> str:
        return rules.entry_text(message, lambda uid: self.deps.people.name(client, uid),
                               lambda cid: self.channels.get(client, cid))

    def workspace_url(self, client: WebClient, hint: str | None = None) -> str | None:
        """``https://acme.slack.com/``: from Bolt's authorization when it has it, else one
        ``auth.test`` per process (the URL never changes while the app is installed)."""
        if hint:
            return hint
        with self._lock:
            if self._url:
                return self._url
        try:
            url = client.auth_test().get("url")
        except SlackApiError as exc:
            log.info("auth.test failed: %s", error_code(exc))
            return None
        with self._lock:
            self._url = str(url) if url else None
        return self._url

    def link(self, client: WebClient, hint: str | None, message: Message) -> str | None:
        """Built from the workspace URL; ``chat.getPermalink`` only if that is unknown."""
        workspace_url = self.workspace_url(client, hint)
        if workspace_url:
            return rules.permalink(workspace_url, message.channel_id, message.ts,
                                  message.thread_ts)
        try:
            return client.chat_getPermalink(channel=message.channel_id,
                                            message_ts=message.ts)["permalink"]
        except SlackApiError as exc:
            log.info("no permalink for %s: %s", message.ts, error_code(exc))
            return None

    # -- events ----------------------------------------------------------------------------
    def on_message(self, client: WebClient, event: dict[str, Any], team_id: str) -> None:
        """Keep what a later pin needs (in incident channels of workspace ``team_id``);
        apply edits and deletions to the timeline."""
        channel_id = str(event.get("channel") or "")
        subtype = event.get("subtype")
        if subtype == "message_deleted":
            if rules.is_ts(event.get("deleted_ts")):
                rules.message_deleted(self.deps.db, channel_id, event["deleted_ts"])
            return
        if subtype == "message_changed":
            changed = event.get("message") or {}
            if changed.get("subtype") == "tombstone" and rules.is_ts(changed.get("ts")):
                rules.message_deleted(self.deps.db, channel_id, changed["ts"])  # thread parent
                return
            if not is_real_edit(event):
                return  # link previews were added: the entry stays as it was
            message = parse_message(changed, channel_id)
            if message is not None and rules.message_edited(self.deps.db, self.deps.clock,
                                                           message, team_id):
                rules.refresh_entries(self.deps.db, channel_id, message.ts,
                                     self.readable(client, message))
            return
        if subtype in CONTENT_SUBTYPES and not is_thread_notice(event):
            message = parse_message(event, channel_id)
            if message is not None:
                rules.remember(self.deps.db, self.deps.clock, message, team_id)

    def on_reaction_added(self, client: WebClient, body: dict[str, Any],
                          event: dict[str, Any], workspace_url: str | None) -> Outcome:
        item = event.get("item") or {}
        channel_id, ts, user_id = item.get("channel"), item.get("ts"), event.get("user")
        if (not rules.is_timeline_emoji(event.get("reaction"), self.emoji)
                or item.get("type") != "message" or not rules.is_ts(ts) or not user_id):
            return Outcome("ignored")
        target = rules.pin_target(self.deps.db, channel_id, ts, str(body.get("team_id") or ""))
        if target.incident is None:
            return Outcome("ignored")
        message = target.message
        if message is None:
            message = read_message(client, channel_id, ts)
            if message is None:
                return Outcome("ignored", target.incident)
            rules.remember_any(self.deps.db, self.deps.clock, message)
        outcome = rules.pin(
            self.deps.db, self.deps.clock, event_id=body.get("event_id"),
            event_ts=reaction_time(body, event),
            incident_id=target.incident.id, message=message, user_id=user_id,
            author_name=self.author_name(client, message), text=self.readable(client, message),
            link=self.link(client, workspace_url, message))
        if outcome.status in ("added", "already") and outcome.incident and outcome.entry:
            self.confirm(client, channel_id, user_id,
                         message.thread_ts if message.in_thread else None,
                         render.added_text(outcome.incident, outcome.entry,
                                           self.deps.settings.timezone,
                                           outcome.status == "added"))
        return outcome

    def on_reaction_removed(self, client: WebClient, body: dict[str, Any],
                            event: dict[str, Any]) -> Outcome:
        item = event.get("item") or {}
        channel_id, ts, user_id = item.get("channel"), item.get("ts"), event.get("user")
        if (not rules.is_timeline_emoji(event.get("reaction"), self.emoji)
                or item.get("type") != "message" or not rules.is_ts(ts) or not user_id):
            return Outcome("ignored")
        outcome = rules.unpin(self.deps.db, self.deps.clock, event_id=body.get("event_id"),
                             event_ts=reaction_time(body, event),
                             channel_id=channel_id, ts=ts, user_id=user_id,
                             team_id=str(body.get("team_id") or ""))
        if outcome.status == "removed" and outcome.incident and outcome.entry:
            self.confirm(client, channel_id, user_id, outcome.entry.thread_ts,
                         render.removed_text(outcome.incident, self.emoji))
        return outcome

    # -- the message shortcut -------------------------------------------------------------
    def prepare_shortcut(self, client: WebClient, body: dict[str, Any]) -> Message | None:
        """Keep the message the shortcut was used on and warm the names it needs.

        The payload carries the whole message, so no read is needed; warming the caches
        here keeps the modal submission (answered within Slack's 3 seconds) off the Web API.
        """
        channel_id = (body.get("channel") or {}).get("id") or ""
        message = parse_message(body.get("message") or {}, channel_id)
        if message is None:
            return None
        rules.remember_any(self.deps.db, self.deps.clock, message)
        self.author_name(client, message)
        self.readable(client, message)
        return message

    def add_from_shortcut(self, client: WebClient, incident_id: int, message: Message,
                          user_id: str, workspace_url: str | None) -> Outcome:
        return rules.pin(
            self.deps.db, self.deps.clock, event_id=None, incident_id=incident_id,
            message=message, user_id=user_id, author_name=self.author_name(client, message),
            text=self.readable(client, message), link=self.link(client, workspace_url, message),
            source="shortcut")

    # -- confirmations ---------------------------------------------------------------------
    def confirm(self, client: WebClient, channel_id: str, user_id: str,
                thread_ts: str | None, text: str) -> None:
        """An ephemeral note only ``user_id`` sees. Events are applied by the inbox's worker,
        after Slack has its answer, so it is sent from there: event work never takes a
        worker that commands need."""
        try:
            args: dict[str, Any] = {"channel": channel_id, "user": user_id, "text": text}
            if thread_ts:
                args["thread_ts"] = thread_ts
            client.chat_postEphemeral(**args)
        except SlackApiError as exc:
            log.info("confirmation to %s not sent: %s", user_id, error_code(exc))
        except Exception:
            log.exception("confirmation to %s failed", user_id)
