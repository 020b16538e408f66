"""``chat.*``: posting, updating and deleting the bot's messages, ephemerals and permalinks."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.fakeslack.args import Arguments
from bot.sandbox.fakeslack.blockkit import UPDATE_TEXT
from bot.sandbox.fakeslack.common import SlackError, answers, truthy
from bot.sandbox.fakeslack.metadata import without_metadata


class Chat(Arguments):
    """``chat.postMessage``, ``chat.postEphemeral``, ``chat.update``, ``chat.delete``, …"""

    @answers("chat.postMessage")
    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        # Membership of a public channel is the chat:write.public rule (_check_app_may_post).
        cid = self._channel_arg(args, by_name=True, open_dm=True, writable=True)
        self._check_app_may_post(cid)
        content = self._content(args, required=True)
        warning = content.pop("_warning", None)
        msg = self._bot_message(content)
        thread_ts = args.get("thread_ts") or None
        if thread_ts and truthy(args.get("reply_broadcast")):
            msg["subtype"] = "thread_broadcast"
        self._store_message(cid, msg, thread_ts)
        result = {"ok": True, "channel": cid, "ts": msg["ts"],
                  "message": copy.deepcopy(without_metadata(msg))}
        return _warn(result, warning)

    def _check_app_may_post(self, cid: str) -> None:
        """What the app's configuration (``manifest.py``) allows a ``chat.postMessage``."""
        channel = self.channels[cid]
        if channel.get("is_im") and channel.get("user") != self.bot_user_id:
            if not self.manifest.messages_tab_enabled:
                # https://docs.slack.dev/reference/methods/chat.postMessage: messages_tab_disabled
                raise SlackError("messages_tab_disabled")
            return
        if (not self._is_dm(cid) and not channel["is_private"]
                and self.bot_user_id not in self._members[cid]
                and "chat:write.public" not in self.manifest.bot_scopes):
            # https://docs.slack.dev/reference/scopes/chat.write.public: without it, only
            # channels the bot is a member of
            raise SlackError("not_in_channel")

    @answers("chat.postEphemeral")
    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, by_name=True, writable=True)
        user = args.get("user")
        if not user or user not in self.users:
            raise SlackError("user_not_found")
        content = self._content(args, required=True)
        content.pop("_warning", None)
        ts = self._next_ts()
        record = {"channel": cid, "user": user, "message_ts": ts, **content}
        if args.get("thread_ts"):
            record["thread_ts"] = args["thread_ts"]
        self.ephemerals.append(record)
        return {"ok": True, "message_ts": ts}

    @answers("chat.update")
    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        msg = self._message_arg(cid, args.get("ts"))
        if msg.get("user") != self.bot_user_id:
            raise SlackError("cant_update_message")
        content = self._content(args, required=False, max_text=UPDATE_TEXT)
        warning = content.pop("_warning", None)
        msg.update(content)
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return _warn({
            "ok": True,
            "channel": cid,
            "ts": msg["ts"],
            "text": msg.get("text", ""),
            "message": copy.deepcopy(without_metadata(msg)),
        }, warning)

    @answers("chat.delete")
    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        msg = self._message_arg(cid, args.get("ts"))
        if msg.get("user") != self.bot_user_id:
            raise SlackError("cant_delete_message")
        self._delete(cid, msg["ts"])
        return {"ok": True, "channel": cid, "ts": msg["ts"]}

    @answers("chat.getPermalink")
    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        msg = self._message_arg(cid, args.get("message_ts"))
        link = f"https://{self.team_domain}.slack.com/archives/{cid}/p{msg['ts'].replace('.', '')}"
        root = msg.get("thread_ts")
        if root and root != msg["ts"]:
            link += f"?thread_ts={root}&cid={cid}"
        return {"ok": True, "channel": cid, "permalink": link}


def _warn(result: dict[str, Any], warning: str | None) -> dict[str, Any]:
    """Add Slack's ``warning`` and ``response_metadata.warnings`` to a successful answer."""
    if warning:
        result["warning"] = warning
        result["response_metadata"] = {"warnings": [warning]}
    return result
