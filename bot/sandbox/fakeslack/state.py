"""The fake Slack's workspace: its state, how ids and ``ts`` are made, and who is in it.

:class:`Workspace` holds every piece of state the fake keeps (users, channels and their
members, messages, pins, DMs, views, files, recorded calls, queued failures) behind one lock,
and the test helpers that seed people and channels. The families of Web API methods
(``chat.py``, ``conversations.py``, …) are mixins over it that read and change this state.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import random
import string
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from bot.sandbox.fakeslack.common import (
    Call,
    Failure,
    Handler,
    method_table,
    truthy,
)
from bot.sandbox.fakeslack.manifest import MESSAGE_SUBSCRIPTIONS, AppManifest

_ID_CHARS = string.ascii_uppercase + string.digits
_TZ_LABELS = {
    "UTC": "Coordinated Universal Time",
    "Etc/UTC": "Coordinated Universal Time",
    "Europe/London": "Greenwich Mean Time",
    "Europe/Berlin": "Central European Time",
    "Europe/Paris": "Central European Time",
    "America/New_York": "Eastern Standard Time",
    "America/Chicago": "Central Standard Time",
    "America/Denver": "Mountain Standard Time",
    "America/Los_Angeles": "Pacific Standard Time",
    "Asia/Kolkata": "India Standard Time",
    "Asia/Tokyo": "Japan Standard Time",
    "Australia/Sydney": "Australian Eastern Standard Time",
}


class Workspace:
    """In-memory Slack workspace: the state every family of Web API methods shares."""

    def __init__(
        self,
        team_id: str = "T0001",
        bot_user_id: str = "U0BOT",
        bot_token: str = "xoxb-fake",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
        manifest: AppManifest | None = None,
    ) -> None:
        self.team_id = team_id
        # Wall-clock seconds for message ``ts`` and object timestamps; the demo and tests can
        # give the sandbox's injectable clock so what the fake stamps follows the story's time.
        self.now = clock
        self.team_name = "Sitrep Demo"
        self.team_domain = "fake"
        self.bot_user_id = bot_user_id
        self.bot_id = "B" + bot_user_id[1:]
        self.app_id = "A" + bot_user_id[1:]
        self.bot_name = "sitrep"
        self.bot_token = bot_token
        self.host = host
        self.port = port
        # The installed app's scopes and Messages tab (manifest.py): the project's by default.
        self.manifest = manifest if manifest is not None else AppManifest.load()
        # Tunables (plain attributes, settable by tests).
        # Slack's not_in_channel, and channel_not_found for private channels and DMs the bot
        # is not in (off only for tests of the fake itself).
        self.strict_membership = True
        self.validate_blocks = True  # enforce Block Kit limits (invalid_blocks)
        self.timeout_seconds: float = 5.0  # delay used by fail(..., "timeout")
        self.latency: float = 0.0  # extra delay before every Web API answer
        self.page_cap: int | None = None  # serve at most this many items per page

        self.calls: list[Call] = []
        self.channels: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.responses: list[dict] = []
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, dict] = {}
        self.views: dict[str, dict] = {}
        self.ephemerals: list[dict] = []
        self.refused_responses: list[dict] = []  # POSTs to response URLs that Slack refuses

        self._lock = threading.RLock()
        self._rng = random.Random(seed)  # a seed makes ids repeatable (the demo)
        self._ids: set[str] = set()
        self._last_ts = 0
        self._members: dict[str, list[str]] = {}
        self._messages: dict[str, list[dict]] = {}
        self._pins: dict[str, list[str]] = {}
        self._dms: dict[tuple[str, ...], str] = {}
        self._pending_files: dict[str, dict] = {}
        self._failures: dict[str, deque[Failure]] = {}
        self._response_ids = itertools.count(1)
        self._issued_responses: dict[str, str | None] = {}
        self._response_uses: dict[str, tuple[float, int]] = {}  # path -> (issued at, uses)
        self._home_views: dict[str, str] = {}
        self._last_modal: str | None = None
        # Every family's handlers by Web API method name (``@answers`` in common.py).
        self._methods: dict[str, Handler] = method_table(self)
        self.add_user(bot_user_id, self.bot_name, real_name="Sitrep", is_bot=True)

    # ------------------------------------------------------------------ ids & time

    def _new_id(self, prefix: str) -> str:
        while True:
            candidate = prefix + "".join(self._rng.choices(_ID_CHARS, k=10))
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def _next_ts(self) -> str:
        with self._lock:
            self._last_ts = max(int(self.now() * 1_000_000), self._last_ts + 1)
            seconds, micros = divmod(self._last_ts, 1_000_000)
            return f"{seconds}.{micros:06d}"

    # ------------------------------------------------------------------ test helpers: state

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        display_name: str | None = None,
        tz: str = "UTC",
        tz_offset: int = 0,
        deleted: bool = False,
        is_bot: bool = False,
        email: str | None = None,
    ) -> dict:
        """Create (or replace) a workspace member and return its users.info object."""
        real = real_name if real_name is not None else name
        display = display_name if display_name is not None else ""
        image = f"https://avatars.fake.slack.com/{user_id}"
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": real,
            "real_name_normalized": real,
            "display_name": display,
            "display_name_normalized": display,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": "g" + hashlib.sha1(user_id.encode()).hexdigest()[:11],
            "first_name": real.split(" ")[0],
            "last_name": " ".join(real.split(" ")[1:]),
            "image_24": f"{image}_24.png",
            "image_32": f"{image}_32.png",
            "image_48": f"{image}_48.png",
            "image_72": f"{image}_72.png",
            "image_192": f"{image}_192.png",
            "image_512": f"{image}_512.png",
            "team": self.team_id,
        }
        if email:
            profile["email"] = email
        if is_bot and user_id == self.bot_user_id:
            profile.update(bot_id=self.bot_id, api_app_id=self.app_id, always_active=True)
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real,
            "tz": tz,
            "tz_label": _TZ_LABELS.get(tz, tz),
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(self.now()),
            "is_email_confirmed": bool(email),
        }
        with self._lock:
            self._ids.add(user_id)
            self.users[user_id] = user
        return copy.deepcopy(user)

    def add_channel(
        self, name: str, members: list[str] | None = None, is_private: bool = False
    ) -> str:
        """Create a pre-existing channel (the bot is a member only if listed); returns its id."""
        name = name.lstrip("#")
        with self._lock:
            if self.channel_by_name(name) is not None:
                raise ValueError(f"channel name already taken: {name}")
            members = list(dict.fromkeys(members or []))
            creator = members[0] if members else ""
            return self._create_channel(name, is_private, creator, members)["id"]

    def remove_member(self, channel_id: str, user_id: str) -> None:
        """``user_id`` leaves ``channel_id`` (or is removed from it by someone)."""
        with self._lock:
            self._remove_member(channel_id, user_id)

    def add_dm(self, user_a: str, user_b: str) -> str:
        """A direct message between two people, which the bot is not in; returns its id.

        A slash command typed there comes from it, but the bot cannot post in it.
        """
        with self._lock:
            channel = self._im_dict(self._new_id("D"), user_b)
            self._register(channel, [user_a, user_b])
            return channel["id"]

    def _channel_dict(self, cid: str, name: str, is_private: bool, creator: str) -> dict:
        now = int(self.now())
        empty = {"value": "", "creator": "", "last_set": 0}
        return {
            "id": cid,
            "name": name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "created": now,
            "is_archived": False,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "updated": now * 1000,
            "parent_conversation": None,
            "creator": creator,
            "shared_team_ids": [self.team_id],
            "pending_connected_team_ids": [],
            "is_member": False,
            "last_read": "0000000000.000000",
            "topic": dict(empty),
            "purpose": dict(empty),
            "previous_names": [],
            "priority": 0,
        }

    def _register(self, channel: dict, members: list[str]) -> dict:
        cid = channel["id"]
        self.channels[cid] = channel
        self._members[cid] = []
        self._messages[cid] = []
        self._pins[cid] = []
        for uid in members:
            self._add_member(cid, uid)
        return channel

    def _create_channel(
        self, name: str, is_private: bool, creator: str, members: list[str]
    ) -> dict:
        channel = self._channel_dict(self._new_id("C"), name, is_private, creator)
        return self._register(channel, members)

    def _add_member(self, cid: str, uid: str) -> None:
        if uid not in self._members[cid]:
            self._members[cid].append(uid)
        self._sync_is_member(cid)

    def _remove_member(self, cid: str, uid: str) -> None:
        if uid in self._members[cid]:
            self._members[cid].remove(uid)
        self._sync_is_member(cid)

    def _sync_is_member(self, cid: str) -> None:
        channel = self.channels[cid]
        if not channel.get("is_im"):  # Slack's IM objects carry no is_member flag
            channel["is_member"] = self.bot_user_id in self._members[cid]

    def _im_dict(self, cid: str, user: str) -> dict[str, Any]:
        """An IM conversation object as Slack shows it (``user``: the other person)."""
        now = int(self.now())
        return {
            "id": cid,
            "created": now,
            "is_archived": False,
            "is_channel": False,
            "is_group": False,
            "is_im": True,
            "is_mpim": False,
            "is_private": True,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "updated": now * 1000,
            "user": user,
            "is_user_deleted": self.users[user]["deleted"],
            "is_open": True,
            "last_read": "0000000000.000000",
            "priority": 0,
        }

    def _open_dm(self, users: list[str]) -> tuple[str, bool]:
        """Return ``(conversation id, already_open)`` for a DM/MPIM with ``users`` + the bot."""
        others = sorted({u for u in users if u != self.bot_user_id}) or [self.bot_user_id]
        key = tuple(others)
        if key in self._dms:
            return self._dms[key], True
        if len(others) == 1:
            channel: dict[str, Any] = self._im_dict(self._new_id("D"), others[0])
        else:
            names = [self.users[u]["name"] for u in [self.bot_user_id, *others]]
            name = "mpdm-" + "--".join(names) + "-1"
            channel = self._channel_dict(self._new_id("C"), name, True, self.bot_user_id)
            channel.update(is_channel=False, is_group=True, is_mpim=True)
        self._register(channel, [self.bot_user_id, *others])
        self._dms[key] = channel["id"]
        return channel["id"], False

    def dm_channel_id(self, user_id: str) -> str | None:
        """Id of the bot's DM with ``user_id`` if one has been opened."""
        with self._lock:
            return self._dms.get((user_id,))

    def channel(self, channel_id: str) -> dict | None:
        """The stored conversation object (live dict) or ``None``."""
        with self._lock:
            return self.channels.get(channel_id)

    def channel_by_name(self, name: str) -> dict | None:
        """Channel by name (``#`` optional), preferring unarchived channels."""
        name = name.lstrip("#")
        with self._lock:
            found = [c for c in self.channels.values() if c.get("name") == name]
        found.sort(key=lambda c: c["is_archived"])
        return found[0] if found else None

    def members(self, channel_id: str) -> list[str]:
        """Member user ids of a conversation (empty if unknown)."""
        with self._lock:
            return list(self._members.get(channel_id, []))

    # ------------------------------------------------------------------ arg helpers

    def _resolve(self, ref: Any, *, by_name: bool = True, open_dm: bool = False) -> str | None:
        if not ref:
            return None
        ref = str(ref)
        if ref in self.channels:
            return ref
        if open_dm and ref in self.users:
            # A deactivated person's DM still takes messages ("succeeds with no error"):
            # https://github.com/slackapi/python-slack-sdk/issues/1156 (answered by Slack)
            return self._open_dm([ref])[0]
        if by_name:
            channel = self.channel_by_name(ref)
            return channel["id"] if channel else None
        return None

    def kind_of(self, cid: str) -> str:
        """``public``, ``private``, ``im`` or ``mpim`` (the scope families of
        https://docs.slack.dev/reference/scopes)."""
        channel = self.channels[cid]
        if channel.get("is_im"):
            return "im"
        if channel.get("is_mpim"):
            return "mpim"
        return "private" if channel.get("is_private") else "public"

    def conversation_kind(self, method: str, args: dict[str, Any]) -> str | None:
        """The kind of conversation a call acts on, when its scopes depend on it."""
        if method == "conversations.create":
            return "private" if truthy(args.get("is_private")) else "public"
        if not method.startswith("conversations.") or method in ("conversations.list",
                                                                   "conversations.open"):
            return None
        with self._lock:
            cid = self._resolve(args.get("channel"), by_name=False)
            return self.kind_of(cid) if cid else None

    def channel_type(self, cid: str) -> str:
        """A message event's ``channel_type``: channel, group, im or mpim."""
        return {"public": "channel", "private": "group"}.get(self.kind_of(cid),
                                                              self.kind_of(cid))

    def delivers(self, event: dict[str, Any]) -> bool:
        """Whether Slack would send this event to the app at all.

        A message event comes through the subscription of its conversation's kind
        (``message.channels``, ``message.groups`` for a private channel:
        https://docs.slack.dev/reference/events/message.groups), which needs its scope; and
        a private channel's messages and reactions reach only an app that is a member
        (https://docs.slack.dev/apis/events-api: events are sent for conversations the app
        can see). Reactions come through ``reaction_added`` / ``reaction_removed``.
        """
        kind = event.get("type")
        if kind == "message":
            cid = str(event.get("channel") or "")
            with self._lock:
                if cid not in self.channels:
                    return True  # a channel this fake does not know: left to the test
                ctype = str(event.get("channel_type") or self.channel_type(cid))
                private = self.kind_of(cid) == "private"
                member = self.bot_user_id in self._members[cid]
            subscription = MESSAGE_SUBSCRIPTIONS.get(ctype)
            if subscription is not None and not self.manifest.delivers(subscription):
                return False
            return member or not private
        if kind in ("reaction_added", "reaction_removed"):
            if not self.manifest.delivers(str(kind)):
                return False
            cid = str((event.get("item") or {}).get("channel") or "")
            with self._lock:
                if cid in self.channels and self.kind_of(cid) == "private":
                    return self.bot_user_id in self._members[cid]
        return True

    def _is_dm(self, cid: str) -> bool:
        channel = self.channels[cid]
        return bool(channel.get("is_im") or channel.get("is_mpim"))
