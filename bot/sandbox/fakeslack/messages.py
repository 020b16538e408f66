"""Messages in the fake: how they are stored, threaded and reacted to, and seeded by tests.

The Web API families (``chat.py``, ``pins.py``, ``reactions.py``, ``files.py``, …) store and
find messages through these internals; tests post as a person or as another integration,
edit, delete and react through the public helpers, which return the event Slack would send.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from decimal import Decimal
from typing import Any

from bot.sandbox.fakeslack.common import SlackError
from bot.sandbox.fakeslack.state import Workspace


class Messages(Workspace):
    """Stored messages, threads and reactions, and the helpers that seed them."""

    def messages(self, channel: str) -> list[dict]:
        """Copies of all stored messages (top-level and replies) in ts order."""
        with self._lock:
            cid = self._resolve(channel) or channel
            msgs = self._messages.get(cid, [])
            return copy.deepcopy(sorted(msgs, key=lambda m: Decimal(m["ts"])))

    def pinned(self, channel_id: str) -> list[str]:
        """Timestamps pinned in a channel."""
        with self._lock:
            return list(self._pins.get(channel_id, []))

    def user_message(
        self,
        channel: str,
        user: str,
        text: str,
        thread_ts: str | None = None,
        files: list[dict] | None = None,
    ) -> dict:
        """Store a message posted by a human and return it as a ``message`` event carries it."""
        with self._lock:
            try:
                cid = self._resolve(channel, open_dm=True)
            except SlackError as exc:
                raise ValueError(f"{exc.error}: {channel}") from exc
            if cid is None:
                raise ValueError(f"unknown channel: {channel}")
            if user not in self.users:
                raise ValueError(f"unknown user: {user}")
            msg: dict[str, Any] = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": self._next_ts(),
                "team": self.team_id,
                "client_msg_id": str(uuid.uuid4()),
            }
            if files:
                msg.update(subtype="file_share", files=copy.deepcopy(files), upload=True)
                msg["display_as_bot"] = False
                for f in files:
                    if isinstance(f, dict) and f.get("id"):
                        self.files.setdefault(f["id"], copy.deepcopy(f))
            self._store_message(cid, msg, thread_ts)
            return copy.deepcopy(msg)

    def integration_message(
        self,
        channel: str,
        username: str,
        text: str,
        attachments: list[dict] | None = None,
        thread_ts: str | None = None,
    ) -> dict:
        """Store a message posted by another integration (an alerting tool's webhook).

        Returned as a ``bot_message`` event carries it: no ``user``, a ``bot_id`` of its own
        and the ``username`` it posted as.
        """
        with self._lock:
            cid = self._resolve(channel)
            if cid is None:
                raise ValueError(f"unknown channel: {channel}")
            msg: dict[str, Any] = {
                "type": "message",
                "subtype": "bot_message",
                "text": text,
                "ts": self._next_ts(),
                "bot_id": "B" + hashlib.sha1(username.encode()).hexdigest()[:10].upper(),
                "username": username,
                "icons": {},
            }
            if attachments:
                msg["attachments"] = copy.deepcopy(attachments)
            self._store_message(cid, msg, thread_ts)
            return copy.deepcopy(msg)

    def edit_message(self, channel: str, ts: str, text: str) -> dict:
        """Edit a stored message's text as its author would; returns the edited message."""
        with self._lock:
            cid = self._resolve(channel) or channel
            msg = self._find(cid, ts)
            if msg is None:
                raise ValueError(f"message not found: {channel} {ts}")
            msg["text"] = text
            msg["edited"] = {"user": msg.get("user", self.bot_user_id), "ts": self._next_ts()}
            return copy.deepcopy(msg)

    def unfurl(self, channel: str, ts: str, url: str, title: str, text: str) -> dict:
        """Slack adds a link preview to a stored message; returns the message as it is now.

        The preview is one more attachment carrying the link it shows (``from_url``); the
        message gets no ``edited`` field: nobody edited it
        (https://api.slack.com/reference/messaging/link-unfurling).
        """
        with self._lock:
            cid = self._resolve(channel) or channel
            msg = self._find(cid, ts)
            if msg is None:
                raise ValueError(f"message not found: {channel} {ts}")
            attachments = msg.setdefault("attachments", [])
            attachments.append({
                "id": len(attachments) + 1, "from_url": url, "original_url": url,
                "title": title, "title_link": url, "text": text, "fallback": title,
                "service_name": url.split("/")[2] if "//" in url else url,
            })
            return copy.deepcopy(msg)

    def delete_message(self, channel: str, ts: str) -> None:
        """Remove a stored message (as if its author deleted it)."""
        with self._lock:
            cid = self._resolve(channel) or channel
            if self._find(cid, ts) is None:
                raise ValueError(f"message not found: {channel} {ts}")
            self._delete(cid, ts)

    def add_reaction(self, channel: str, ts: str, name: str, user: str) -> dict:
        """Simulate ``user`` reacting; returns the matching ``reaction_added`` event."""
        return self._react_helper(channel, ts, name, user, add=True)

    def remove_reaction(self, channel: str, ts: str, name: str, user: str) -> dict:
        """Simulate ``user`` removing a reaction; returns the ``reaction_removed`` event."""
        return self._react_helper(channel, ts, name, user, add=False)

    def _react_helper(self, channel: str, ts: str, name: str, user: str, add: bool) -> dict:
        with self._lock:
            cid = self._resolve(channel) or channel
            try:
                msg = self._react(cid, ts, name, user, add)
            except SlackError as exc:
                raise ValueError(exc.error) from exc
            return {
                "type": "reaction_added" if add else "reaction_removed",
                "user": user,
                "reaction": name.strip(":"),
                "item": {"type": "message", "channel": cid, "ts": ts},
                "item_user": msg.get("user"),
                "event_ts": self._next_ts(),
            }

    # ------------------------------------------------------------------ message internals

    def _find(self, cid: str, ts: Any) -> dict | None:
        for msg in self._messages.get(cid, []):
            if msg["ts"] == ts:
                return msg
        return None

    def _store_message(self, cid: str, msg: dict, thread_ts: str | None) -> None:
        if thread_ts:
            parent = self._find(cid, str(thread_ts))
            root = parent.get("thread_ts", parent["ts"]) if parent else str(thread_ts)
            msg["thread_ts"] = root
            root_msg = self._find(cid, root)
            if root_msg is not None:
                msg["parent_user_id"] = root_msg.get("user")
        self._messages[cid].append(msg)
        if thread_ts:
            self._refresh_thread(cid, msg["thread_ts"])

    def _refresh_thread(self, cid: str, root_ts: str) -> None:
        parent = self._find(cid, root_ts)
        if parent is None:
            return
        replies = [
            m for m in self._messages[cid] if m.get("thread_ts") == root_ts and m["ts"] != root_ts
        ]
        if not replies:
            for key in ("thread_ts", "reply_count", "reply_users", "reply_users_count"):
                parent.pop(key, None)
            parent.pop("latest_reply", None)
            return
        users = list(dict.fromkeys(m.get("user") for m in replies if m.get("user")))
        parent.update(
            thread_ts=root_ts,
            reply_count=len(replies),
            reply_users=users,
            reply_users_count=len(users),
            latest_reply=replies[-1]["ts"],
        )

    def _delete(self, cid: str, ts: str) -> None:
        msg = self._find(cid, ts)
        if msg is None:
            return
        self._messages[cid].remove(msg)
        if ts in self._pins[cid]:
            self._pins[cid].remove(ts)
        root = msg.get("thread_ts")
        if root and root != ts:
            self._refresh_thread(cid, root)

    def _top_level(self, cid: str) -> list[dict]:
        return [
            m
            for m in self._messages[cid]
            if m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast"
        ]

    def _react(self, cid: str, ts: Any, name: Any, user: str, add: bool) -> dict:
        if cid not in self.channels:
            raise SlackError("channel_not_found")
        msg = self._find(cid, ts)
        if msg is None:
            raise SlackError("message_not_found")
        name = str(name or "").strip(":")
        if not name:
            raise SlackError("invalid_name")
        reactions: list[dict] = msg.get("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if add:
            if entry is not None and user in entry["users"]:
                raise SlackError("already_reacted")
            if entry is None:
                entry = {"name": name, "users": [], "count": 0}
                reactions.append(entry)
            entry["users"].append(user)
            entry["count"] = len(entry["users"])
        else:
            if entry is None or user not in entry["users"]:
                raise SlackError("no_reaction")
            entry["users"].remove(user)
            entry["count"] = len(entry["users"])
            if not entry["users"]:
                reactions.remove(entry)
        if reactions:
            msg["reactions"] = reactions
        else:
            msg.pop("reactions", None)
        return msg

    def _bot_message(self, content: dict[str, Any]) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": content.get("text", ""),
            "ts": self._next_ts(),
            "team": self.team_id,
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": "Sitrep",
                "deleted": False,
                "team_id": self.team_id,
            },
        }
        msg.update({k: v for k, v in content.items() if k != "text"})
        return msg
