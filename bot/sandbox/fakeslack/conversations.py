"""``conversations.*``: creating channels, membership, history and threads, DMs, topics.

Channel names are checked as Slack checks them; private channels and membership follow
``strict_membership`` (``args.py``).
"""

from __future__ import annotations

import copy
import string
from decimal import Decimal
from typing import Any

from bot.sandbox.fakeslack.args import Arguments
from bot.sandbox.fakeslack.common import (
    SlackError,
    answers,
    as_int,
    truthy,
    ts_num,
)
from bot.sandbox.fakeslack.metadata import without_metadata

_NAME_CHARS = frozenset(string.ascii_lowercase + string.digits + "-_")


class Conversations(Arguments):
    """``conversations.create``, ``.invite``, ``.history``, ``.open``, ``.archive``, …"""

    def _check_name(self, name: Any) -> str:
        name = str(name or "")
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not set(name) <= _NAME_CHARS:
            raise SlackError("invalid_name_specials")
        if not set(name) - set("-_"):
            raise SlackError("invalid_name_punctuation")
        if self.channel_by_name(name) is not None:
            raise SlackError("name_taken")
        return name

    @answers("conversations.create")
    def _conv_create(self, args: dict[str, Any]) -> dict[str, Any]:
        # https://docs.slack.dev/reference/methods/conversations.create: is_private creates
        # a private channel (needs groups:write, manifest.KIND_SCOPES); the app is its member.
        name = self._check_name(args.get("name"))
        channel = self._create_channel(
            name, truthy(args.get("is_private")), self.bot_user_id, [self.bot_user_id]
        )
        return {"ok": True, "channel": self._conversation(channel["id"])}

    @answers("conversations.invite")
    def _conv_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, need_member=True, writable=True)
        if self._is_dm(cid):
            raise SlackError("method_not_supported_for_channel_type")
        raw = args.get("users")
        users = raw if isinstance(raw, list) else str(raw or "").split(",")
        users = [u.strip() for u in users if u and u.strip()]
        if not users:
            raise SlackError("no_user")
        # https://docs.slack.dev/reference/methods/conversations.invite: every user is checked
        # (cant_invite_self, user_not_found, cant_invite, already_in_channel); with one
        # failing, nobody is invited and each failure is listed in ``errors``, unless
        # ``force`` asks to invite the valid ones anyway.
        failures = []
        valid = []
        for uid in dict.fromkeys(users):
            if uid == self.bot_user_id:
                error = "cant_invite_self"
            elif uid not in self.users:
                error = "user_not_found"
            elif self.users[uid]["deleted"]:
                error = "cant_invite"
            elif uid in self._members[cid]:
                error = "already_in_channel"
            else:
                valid.append(uid)
                continue
            failures.append({"user": uid, "ok": False, "error": error})
        if failures and not (truthy(args.get("force")) and valid):
            raise SlackError(failures[0]["error"], errors=failures)
        for uid in valid:
            self._add_member(cid, uid)
        result: dict[str, Any] = {"ok": True, "channel": self._conversation(cid)}
        if failures:
            result["errors"] = failures
        return result

    @answers("conversations.join")
    def _conv_join(self, args: dict[str, Any]) -> dict[str, Any]:
        # https://docs.slack.dev/reference/methods/conversations.join: "ID of conversation to
        # join"; a name is not resolved, it is channel_not_found.
        cid = self._channel_arg(args, writable=True)
        channel = self.channels[cid]
        if self._is_dm(cid) or channel["is_private"]:
            raise SlackError("method_not_supported_for_channel_type")
        result: dict[str, Any] = {"ok": True}
        if self.bot_user_id in self._members[cid]:
            result["warning"] = "already_in_channel"
            result["response_metadata"] = {"warnings": ["already_in_channel"]}
        self._add_member(cid, self.bot_user_id)
        result["channel"] = self._conversation(cid)
        return result

    @answers("conversations.leave")
    def _conv_leave(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        if self._is_dm(cid):
            raise SlackError("method_not_supported_for_channel_type")
        if self.bot_user_id not in self._members[cid]:
            return {"ok": True, "not_in_channel": True}
        self._remove_member(cid, self.bot_user_id)
        return {"ok": True}

    @answers("conversations.kick")
    def _conv_kick(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, need_member=True)
        user = args.get("user")
        if user == self.bot_user_id:
            raise SlackError("cant_kick_self")
        if user not in self.users:
            raise SlackError("user_not_found")
        if user not in self._members[cid]:
            raise SlackError("not_in_channel")
        self._remove_member(cid, str(user))
        return {"ok": True}

    @answers("conversations.info")
    def _conv_info(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        return {
            "ok": True,
            "channel": self._conversation(cid, truthy(args.get("include_num_members"))),
        }

    @answers("conversations.list")
    def _conv_list(self, args: dict[str, Any]) -> dict[str, Any]:
        # https://docs.slack.dev/reference/methods/conversations.list: limit "must be an
        # integer under 1000"
        if args.get("limit") not in (None, "") and not 0 < as_int(args["limit"], 0) < 1000:
            raise SlackError("invalid_limit")
        types = set(str(args.get("types") or "public_channel").split(","))
        exclude_archived = truthy(args.get("exclude_archived"))
        found = []
        for cid, channel in self.channels.items():
            if channel.get("is_im"):
                kind = "im"
            elif channel.get("is_mpim"):
                kind = "mpim"
            else:
                kind = "private_channel" if channel["is_private"] else "public_channel"
            if kind not in types or (exclude_archived and channel["is_archived"]):
                continue
            if kind == "private_channel" and self.bot_user_id not in self._members[cid]:
                continue
            found.append(self._conversation(cid, num_members=not self._is_dm(cid)))
        page, cursor = self._page(found, args)
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}}

    @answers("conversations.members")
    def _conv_members(self, args: dict[str, Any]) -> dict[str, Any]:
        # https://docs.slack.dev/reference/methods/conversations.members: paged with
        # limit/cursor; a private channel needs groups:read (manifest.KIND_SCOPES) and, the
        # app not being in it, does not exist for it (channel_not_found, _channel_arg).
        cid = self._channel_arg(args)
        page, cursor = self._page(list(self._members[cid]), args)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _ts_range(self, args: dict[str, Any]) -> tuple[Decimal, Decimal, bool]:
        oldest = ts_num(args.get("oldest") or "0")
        if oldest is None:
            raise SlackError("invalid_ts_oldest")
        latest = ts_num(args.get("latest") or "9999999999.999999")
        if latest is None:
            raise SlackError("invalid_ts_latest")
        return oldest, latest, truthy(args.get("inclusive"))

    @answers("conversations.history")
    def _conv_history(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, need_member=True)
        oldest, latest, inclusive = self._ts_range(args)
        selected = []
        for msg in self._top_level(cid):
            ts = Decimal(msg["ts"])
            if (oldest <= ts <= latest) if inclusive else (oldest < ts < latest):
                selected.append(msg)
        selected.sort(key=lambda m: Decimal(m["ts"]), reverse=True)
        page, cursor = self._page(selected, args)
        if not truthy(args.get("include_all_metadata")):
            page = [without_metadata(m) for m in page]
        return {
            "ok": True,
            "messages": copy.deepcopy(page),
            "has_more": bool(cursor),
            "pin_count": len(self._pins[cid]),
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    @answers("conversations.replies")
    def _conv_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, need_member=True)
        root = self._find(cid, str(args.get("ts") or ""))
        if root is None:
            raise SlackError("thread_not_found")
        root_ts = root.get("thread_ts", root["ts"])
        root = self._find(cid, root_ts) or root
        oldest, latest, inclusive = self._ts_range(args)
        thread = [root] + [
            m for m in self._messages[cid] if m.get("thread_ts") == root_ts and m is not root
        ]
        selected = [thread[0]]
        for msg in thread[1:]:
            ts = Decimal(msg["ts"])
            if (oldest <= ts <= latest) if inclusive else (oldest < ts < latest):
                selected.append(msg)
        page, cursor = self._page(selected, args, default=1000)
        if not truthy(args.get("include_all_metadata")):
            page = [without_metadata(m) for m in page]
        return {
            "ok": True,
            "messages": copy.deepcopy(page),
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    @answers("conversations.open")
    def _conv_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            cid = self._channel_arg(args)
            if not self._is_dm(cid):
                raise SlackError("method_not_supported_for_channel_type")
            already = True
        else:
            raw = args.get("users")
            users = raw if isinstance(raw, list) else str(raw or "").split(",")
            users = [u.strip() for u in users if u and u.strip()]
            if not users:
                raise SlackError("users_list_not_supplied")
            if len(users) > 8:
                raise SlackError("too_many_users")
            for uid in users:
                if uid not in self.users:
                    raise SlackError("user_not_found")
                if self.users[uid]["deleted"]:
                    # https://docs.slack.dev/reference/methods/conversations.open: user_disabled
                    raise SlackError("user_disabled")
            cid, already = self._open_dm(users)
        result: dict[str, Any] = {"ok": True}
        if already:
            result.update(no_op=True, already_open=True)
        full = truthy(args.get("return_im")) or already
        result["channel"] = self._conversation(cid) if full else {"id": cid}
        return result

    def _set_text_field(self, args: dict[str, Any], field: str) -> dict[str, Any]:
        cid = self._channel_arg(args, need_member=True, writable=True)
        value = str(args.get(field) or "")
        if len(value) > 250:
            raise SlackError("too_long")
        self.channels[cid][field] = {
            "value": value,
            "creator": self.bot_user_id,
            "last_set": int(self.now()),
        }
        return {"ok": True, "channel": self._conversation(cid)}

    @answers("conversations.setTopic")
    def _conv_set_topic(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._set_text_field(args, "topic")

    @answers("conversations.setPurpose")
    def _conv_set_purpose(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._set_text_field(args, "purpose")

    @answers("conversations.rename")
    def _conv_rename(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, need_member=True, writable=True)
        if self._is_dm(cid):
            raise SlackError("method_not_supported_for_channel_type")
        channel = self.channels[cid]
        if args.get("name") == channel["name"]:
            return {"ok": True, "channel": self._conversation(cid)}
        name = self._check_name(args.get("name"))
        channel["previous_names"].insert(0, channel["name"])
        channel.update(name=name, name_normalized=name)
        return {"ok": True, "channel": self._conversation(cid)}

    @answers("conversations.archive")
    def _conv_archive(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, need_member=True)
        if self._is_dm(cid):
            raise SlackError("method_not_supported_for_channel_type")
        if self.channels[cid]["is_archived"]:
            raise SlackError("already_archived")
        if self.channels[cid]["is_general"]:
            raise SlackError("cant_archive_general")
        self.channels[cid]["is_archived"] = True
        return {"ok": True}

    @answers("conversations.unarchive")
    def _conv_unarchive(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        if not self.channels[cid]["is_archived"]:
            raise SlackError("not_archived")
        self.channels[cid]["is_archived"] = False
        return {"ok": True}
