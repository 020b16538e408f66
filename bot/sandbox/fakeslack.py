"""A local, in-memory fake of the Slack Web API.

Used by the zero-config demo and by every end-to-end test.  It speaks real HTTP so the real
``slack_sdk.WebClient`` / ``slack_bolt`` code paths run unchanged: point ``base_url`` (or
``SLACK_API_URL``) at :attr:`FakeSlack.url`.  Responses follow the shapes documented at
api.slack.com (``ok``/``error``, channel objects, ``ts`` strings, ``response_metadata``).

Only the standard library is used.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import itertools
import json
import logging
import mimetypes
import random
import re
import string
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Call", "FakeSlack"]

log = logging.getLogger(__name__)

# Arguments Slack expects as JSON-encoded strings in form posts; decoded for inspection.
JSON_ARGS = ("blocks", "attachments", "view", "files", "metadata")
# Methods that answer without a token (as on real Slack).
NO_AUTH_METHODS = frozenset({"api.test"})
# Error returned when a deactivated user is the target of a DM.
DELETED_USER_ERROR = "account_inactive"

_ID_CHARS = string.ascii_uppercase + string.digits
_NAME_CHARS = frozenset(string.ascii_lowercase + string.digits + "-_")
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

_JSON_TYPE = "application/json; charset=utf-8"
Reply = tuple[int, bytes, str, dict[str, str]]  # status, body, content type, extra headers


@dataclass
class Call:
    """One Web API request as the fake received it."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float


@dataclass
class _Failure:
    error: str
    remaining: int  # -1 = until clear_failures()
    retry_after: int


class SlackError(Exception):
    """A Slack ``{"ok": false, "error": ...}`` answer raised inside a method handler."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _ts_num(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _text_reply(status: int, text: str) -> Reply:
    return status, text.encode(), "text/plain; charset=utf-8", {}


def _disp_param(disposition: str, name: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{name}="([^"]*)"', disposition)
    return match.group(1) if match else None


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Split a multipart/form-data body into text fields and ``name -> (filename, bytes)``."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if not match:
        return fields, files
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        disposition = ""
        for line in head.decode("latin-1").split("\r\n"):
            if line.lower().startswith("content-disposition:"):
                disposition = line.split(":", 1)[1]
        name = _disp_param(disposition, "name") or "file"
        filename = _disp_param(disposition, "filename")
        if filename is not None:
            files[name] = (filename, content)
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files


# --------------------------------------------------------------------------- block checks


def _check_text(obj: Any, ptr: str, limit: int, errors: list[str], plain: bool = False) -> None:
    kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        errors.append(f"[ERROR] must be a valid {' or '.join(kinds)} object [json-pointer:{ptr}]")
        return
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"[ERROR] must be more than 0 characters [json-pointer:{ptr}/text]")
    elif len(text) > limit:
        errors.append(f"[ERROR] must be less than {limit + 1} characters [json-pointer:{ptr}/text]")


def _check_len(value: Any, ptr: str, limit: int, errors: list[str]) -> None:
    if value is not None and len(str(value)) > limit:
        errors.append(f"[ERROR] must be less than {limit + 1} characters [json-pointer:{ptr}]")


def _check_element(el: Any, ptr: str, errors: list[str]) -> None:
    if not isinstance(el, dict) or not isinstance(el.get("type"), str):
        errors.append(f"[ERROR] missing required field: type [json-pointer:{ptr}]")
        return
    _check_len(el.get("action_id"), f"{ptr}/action_id", 255, errors)
    if el["type"] == "button":
        _check_text(el.get("text"), f"{ptr}/text", 75, errors, plain=True)
        _check_len(el.get("value"), f"{ptr}/value", 2000, errors)
        _check_len(el.get("url"), f"{ptr}/url", 3000, errors)


def block_errors(blocks: Any, max_blocks: int = 50, ptr: str = "/blocks") -> list[str]:
    """Return Slack-style ``[ERROR] ...`` messages for Block Kit limits that Slack enforces."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{ptr}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:{ptr}]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        p = f"{ptr}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"[ERROR] missing required field: type [json-pointer:{p}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            _check_len(block_id, f"{p}/block_id", 255, errors)
            if str(block_id) in seen:
                errors.append(f"[ERROR] duplicate block_id [json-pointer:{p}/block_id]")
            seen.add(str(block_id))
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                errors.append(f"[ERROR] must provide text or fields [json-pointer:{p}]")
            if "text" in block:
                _check_text(block["text"], f"{p}/text", 3000, errors)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(
                        f"[ERROR] no more than 10 items allowed [json-pointer:{p}/fields]"
                    )
                else:
                    for j, fld in enumerate(fields):
                        _check_text(fld, f"{p}/fields/{j}", 2000, errors)
            if "accessory" in block:
                _check_element(block["accessory"], f"{p}/accessory", errors)
        elif kind == "header":
            _check_text(block.get("text"), f"{p}/text", 150, errors, plain=True)
        elif kind in ("context", "actions"):
            elements = block.get("elements")
            limit = 10 if kind == "context" else 25
            if not isinstance(elements, list) or not elements or len(elements) > limit:
                errors.append(
                    f"[ERROR] must contain 1 to {limit} items [json-pointer:{p}/elements]"
                )
            elif kind == "actions":
                for j, el in enumerate(elements):
                    _check_element(el, f"{p}/elements/{j}", errors)
    return errors


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeSlack) -> None:
        super().__init__(address, _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fakeslack: " + format, *args)

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = _int(self.headers.get("Content-Length"), 0)
        return self.rfile.read(length) if length > 0 else b""

    def _route(self) -> None:
        fake = self.server.fake
        try:
            body = self._read_body()
            parts = urlsplit(self.path)
            path = parts.path
            ctype = self.headers.get("Content-Type", "")
            auth = self.headers.get("Authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
            if path.startswith("/api/") and len(path) > 5:
                reply = fake._api_request(path[5:], parts.query, ctype, body, token)
            elif path.startswith("/upload/") and self.command == "POST":
                reply = fake._upload_request(path[8:], ctype, body)
            elif path.startswith("/response/") and self.command == "POST":
                reply = fake._response_request(path, ctype, body)
            elif path.startswith("/files/") and self.command == "GET":
                reply = fake._download_request(path[7:], token)
            else:
                reply = _text_reply(404, "Not Found")
        except Exception:  # a bug in the fake must not hang the client
            log.exception("fakeslack: failed to handle %s %s", self.command, self.path)
            reply = (500, _json_bytes({"ok": False, "error": "fatal_error"}), _JSON_TYPE, {})
        status, payload, content_type, headers = reply
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # client gave up (e.g. its timeout)
            self.close_connection = True


# --------------------------------------------------------------------------- the fake


class FakeSlack:
    """In-memory Slack workspace served over HTTP; see the module docstring."""

    def __init__(
        self,
        team_id: str = "T0001",
        bot_user_id: str = "U0BOT",
        bot_token: str = "xoxb-fake",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
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
        # Tunables (plain attributes, settable by tests).
        self.strict_membership = False  # Slack's not_in_channel / invisible private channels
        self.validate_blocks = True  # enforce Block Kit limits (invalid_blocks)
        self.timeout_seconds: float = 5.0  # delay used by fail(..., "timeout")
        self.latency: float = 0.0  # extra delay before every Web API answer

        self.calls: list[Call] = []
        self.channels: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.responses: list[dict] = []
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, dict] = {}
        self.views: dict[str, dict] = {}
        self.ephemerals: list[dict] = []

        self._lock = threading.RLock()
        self._rng = random.Random(seed)  # a seed makes ids repeatable (the demo)
        self._ids: set[str] = set()
        self._last_ts = 0
        self._members: dict[str, list[str]] = {}
        self._messages: dict[str, list[dict]] = {}
        self._pins: dict[str, list[str]] = {}
        self._dms: dict[tuple[str, ...], str] = {}
        self._pending_files: dict[str, dict] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._response_ids = itertools.count(1)
        self._issued_responses: dict[str, str | None] = {}
        self._home_views: dict[str, str] = {}
        self._last_modal: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.create": self._conv_create,
            "conversations.invite": self._conv_invite,
            "conversations.join": self._conv_join,
            "conversations.leave": self._conv_leave,
            "conversations.kick": self._conv_kick,
            "conversations.info": self._conv_info,
            "conversations.list": self._conv_list,
            "conversations.members": self._conv_members,
            "conversations.history": self._conv_history,
            "conversations.replies": self._conv_replies,
            "conversations.open": self._conv_open,
            "conversations.setTopic": self._conv_set_topic,
            "conversations.setPurpose": self._conv_set_purpose,
            "conversations.rename": self._conv_rename,
            "conversations.archive": self._conv_archive,
            "conversations.unarchive": self._conv_unarchive,
            "pins.add": self._pins_add,
            "pins.remove": self._pins_remove,
            "pins.list": self._pins_list,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "reactions.get": self._reactions_get,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
            "files.upload": self._files_upload_v1,
        }
        self.add_user(bot_user_id, self.bot_name, real_name="Sitrep", is_bot=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Bind and serve in a daemon thread; returns ``self``."""
        if self._server is None:
            self._server = _Server((self.host, self.port), self)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"fakeslack:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base(self) -> str:
        """``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """Web API base URL for ``WebClient(base_url=...)``; ends with ``/``."""
        return f"{self.base}/api/"

    # ------------------------------------------------------------------ call log & faults

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls to ``method``, oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        """Forget recorded calls (state such as channels and messages is kept)."""
        with self._lock:
            self.calls.clear()

    def fail(self, method: str, error: str, times: int = 1, retry_after: int = 1) -> None:
        """Make the next ``times`` calls to ``method`` fail (``times=-1``: until cleared).

        ``error`` is ``"ratelimited"`` (HTTP 429 + Retry-After), ``"http_500"``, ``"timeout"``
        (answer normally after ``timeout_seconds``) or any Slack error code (HTTP 200).
        ``method="*"`` applies to every method without its own failure queued.
        Failures queued for the same method are consumed in order.
        """
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            queue.append(_Failure(error, times, retry_after))

    def clear_failures(self) -> None:
        """Drop all queued failures."""
        with self._lock:
            self._failures.clear()

    def _take_failure(self, method: str) -> _Failure | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            while queue:
                failure = queue[0]
                if failure.remaining == 0:
                    queue.popleft()
                    continue
                if failure.remaining > 0:
                    failure.remaining -= 1
                    if failure.remaining == 0:
                        queue.popleft()
                return failure
        return None

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll ``predicate`` until true or ``timeout`` seconds pass; returns the last result."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return bool(predicate())

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least ``count`` calls to ``method`` were recorded and return them."""
        if self.wait_for(lambda: len(self.calls_to(method)) >= count, timeout):
            return self.calls_to(method)
        with self._lock:
            seen = Counter(c.method for c in self.calls)
            got = seen.get(method, 0)
        summary = ", ".join(f"{m} x{n}" for m, n in seen.items()) or "none"
        raise AssertionError(
            f"expected at least {count} call(s) to {method} within {timeout}s, got {got}; "
            f"recorded methods: {summary}"
        )

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

    def _open_dm(self, users: list[str]) -> tuple[str, bool]:
        """Return ``(conversation id, already_open)`` for a DM/MPIM with ``users`` + the bot."""
        others = sorted({u for u in users if u != self.bot_user_id}) or [self.bot_user_id]
        key = tuple(others)
        if key in self._dms:
            return self._dms[key], True
        if len(others) == 1:
            now = int(self.now())
            channel: dict[str, Any] = {
                "id": self._new_id("D"),
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
                "user": others[0],
                "is_user_deleted": self.users[others[0]]["deleted"],
                "is_open": True,
                "last_read": "0000000000.000000",
                "priority": 0,
            }
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

    def add_file(
        self, name: str, content: bytes, title: str | None = None, user: str | None = None
    ) -> dict:
        """Register a file (as if uploaded by ``user``) and return its file object."""
        with self._lock:
            fid = self._new_id("F")
            self.uploads[fid] = content
            info = self._file_object(fid, name, title or name, len(content), user)
            self.files[fid] = info
            return copy.deepcopy(info)

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

    def response_url(self, channel: str | None = None) -> str:
        """A fresh response URL; JSON POSTed to it is appended to :attr:`responses`.

        With ``channel``, an ``in_channel`` response also lands in that channel's messages,
        as Slack posts it there (an ephemeral one is seen only by the person).
        """
        with self._lock:
            path = f"/response/{next(self._response_ids)}"
            self._issued_responses[path] = channel
        return self.base + path

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

    # ------------------------------------------------------------------ request handling

    def _api_request(
        self, method: str, query: str, content_type: str, body: bytes, token: str | None
    ) -> Reply:
        args: dict[str, Any] = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        bad_request: str | None = None
        kind = content_type.split(";")[0].strip().lower()
        if body:
            if kind == "application/json":
                try:
                    data = json.loads(body)
                except ValueError:
                    data = None
                if isinstance(data, dict):
                    args.update(data)
                else:
                    bad_request = "invalid_json"
            elif kind == "multipart/form-data":
                fields, files = _parse_multipart(content_type, body)
                args.update(fields)
                args.update({k: content for k, (_name, content) in files.items()})
            else:
                form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                args.update({k: v[0] for k, v in form.items()})
        for key in JSON_ARGS:
            if isinstance(args.get(key), str):
                with contextlib.suppress(ValueError):  # else left as sent; the method complains
                    args[key] = json.loads(args[key])
        arg_token = args.pop("token", None)
        token = token or (str(arg_token) if arg_token else None)
        call = Call(method=method, args=args, token=token, at=time.time())
        with self._lock:
            self.calls.append(call)
            failure = self._take_failure(method)
            latency = self.latency
        if latency > 0:
            time.sleep(latency)
        headers: dict[str, str] = {}
        if failure is not None:
            if failure.error == "ratelimited":
                headers["Retry-After"] = str(failure.retry_after)
                return 429, _json_bytes({"ok": False, "error": "ratelimited"}), _JSON_TYPE, headers
            if failure.error == "http_500":
                return 500, _json_bytes({"ok": False, "error": "internal_error"}), _JSON_TYPE, {}
            if failure.error == "timeout":
                time.sleep(self.timeout_seconds)
            else:
                return 200, _json_bytes({"ok": False, "error": failure.error}), _JSON_TYPE, {}
        handler = self._methods.get(method)
        if bad_request is not None:
            result: dict[str, Any] = {"ok": False, "error": bad_request}
        elif handler is None:
            result = {"ok": False, "error": "unknown_method"}
        elif method not in NO_AUTH_METHODS and token != self.bot_token:
            result = {"ok": False, "error": "invalid_auth"}
        else:
            with self._lock:
                try:
                    result = handler(copy.deepcopy(args))
                except SlackError as exc:
                    result = {"ok": False, "error": exc.error, **exc.extra}
                payload = _json_bytes(result)  # serialise under the lock: results share state
            if method == "auth.test" and result.get("ok"):
                headers["X-OAuth-Scopes"] = "chat:write,channels:manage,channels:read,users:read"
            return 200, payload, _JSON_TYPE, headers
        return 200, _json_bytes(result), _JSON_TYPE, headers

    def _upload_request(self, file_id: str, content_type: str, body: bytes) -> Reply:
        if content_type.split(";")[0].strip().lower() == "multipart/form-data":
            fields, files = _parse_multipart(content_type, body)
            if files:
                body = next(iter(files.values()))[1]
            elif fields:
                body = next(iter(fields.values())).encode()
        with self._lock:
            if file_id not in self._pending_files:
                return _text_reply(404, "Not Found")
            self.uploads[file_id] = body
        return _text_reply(200, f"OK - {len(body)}")

    def _response_request(self, path: str, content_type: str, body: bytes) -> Reply:
        text = body.decode("utf-8", "replace")
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            form = parse_qs(text)
            try:
                data = json.loads(form["payload"][0]) if "payload" in form else {"raw": text}
            except ValueError:
                data = {"raw": text}
        if not isinstance(data, dict):
            data = {"raw": data}
        with self._lock:
            if path not in self._issued_responses:
                return _text_reply(404, "no_service")
            channel = self._issued_responses[path]
            self.responses.append({**data, "url": self.base + path, "channel": channel})
            if channel and data.get("response_type") == "in_channel" and channel in self._messages:
                content = {k: v for k, v in data.items() if k in ("text", "blocks")}
                self._store_message(channel, self._bot_message(content), None)
        return _text_reply(200, "ok")

    def _download_request(self, rest: str, token: str | None) -> Reply:
        file_id = rest.split("/", 1)[0]
        if token != self.bot_token:
            return _text_reply(403, "Forbidden")
        with self._lock:
            content = self.uploads.get(file_id)
            info = self.files.get(file_id, {})
        if content is None:
            return _text_reply(404, "Not Found")
        mimetype = info.get("mimetype") or "application/octet-stream"
        return 200, content, mimetype, {}

    # ------------------------------------------------------------------ arg helpers

    def _resolve(self, ref: Any, *, by_name: bool = True, open_dm: bool = False) -> str | None:
        if not ref:
            return None
        ref = str(ref)
        if ref in self.channels:
            return ref
        if open_dm and ref in self.users:
            if self.users[ref]["deleted"]:
                raise SlackError(DELETED_USER_ERROR)
            return self._open_dm([ref])[0]
        if by_name:
            channel = self.channel_by_name(ref)
            return channel["id"] if channel else None
        return None

    def _is_dm(self, cid: str) -> bool:
        channel = self.channels[cid]
        return bool(channel.get("is_im") or channel.get("is_mpim"))

    def _channel_arg(
        self,
        args: dict[str, Any],
        key: str = "channel",
        *,
        by_name: bool = False,
        open_dm: bool = False,
        need_member: bool = False,
        writable: bool = False,
    ) -> str:
        cid = self._resolve(args.get(key), by_name=by_name, open_dm=open_dm)
        if cid is None:
            raise SlackError("channel_not_found")
        channel = self.channels[cid]
        is_member = self.bot_user_id in self._members[cid]
        if self.strict_membership and not self._is_dm(cid):
            if channel["is_private"] and not is_member:
                raise SlackError("channel_not_found")
            if need_member and not is_member:
                raise SlackError("not_in_channel")
        if writable and channel["is_archived"]:
            raise SlackError("is_archived")
        return cid

    def _message_arg(self, cid: str, ts: Any) -> dict:
        if not ts:
            raise SlackError("message_not_found")
        msg = self._find(cid, str(ts))
        if msg is None:
            raise SlackError("message_not_found")
        return msg

    def _page(self, items: list, args: dict[str, Any], default: int = 100) -> tuple[list, str]:
        start = 0
        cursor = args.get("cursor")
        if cursor:
            try:
                start = int(base64.b64decode(str(cursor)).decode().split(":", 1)[1])
            except (ValueError, IndexError, UnicodeDecodeError) as exc:
                raise SlackError("invalid_cursor") from exc
        limit = _int(args.get("limit"), default)
        if limit <= 0:
            limit = default
        end = start + limit
        cursor_out = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
        return items[start:end], cursor_out

    def _conversation(self, cid: str, num_members: bool = False) -> dict:
        channel = copy.deepcopy(self.channels[cid])
        if num_members:
            channel["num_members"] = len(self._members[cid])
        return channel

    def _content(self, args: dict[str, Any], *, required: bool) -> dict[str, Any]:
        """Validated text/blocks/attachments/metadata of a chat.* request."""
        content: dict[str, Any] = {}
        for key in ("text", "blocks", "attachments", "metadata"):
            if args.get(key) not in (None, ""):
                content[key] = args[key]
        if "text" in content:
            content["text"] = str(content["text"])
        if required and not any(content.get(k) for k in ("text", "blocks", "attachments")):
            raise SlackError("no_text")
        blocks = content.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
                raise SlackError("invalid_blocks_format")
            if self.validate_blocks:
                errors = block_errors(blocks)
                if errors:
                    raise SlackError(
                        "invalid_blocks", errors=errors, response_metadata={"messages": errors}
                    )
        attachments = content.get("attachments")
        if attachments is not None and not isinstance(attachments, list):
            raise SlackError("invalid_attachments")
        return content

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

    # ------------------------------------------------------------------ api / auth

    def _api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("error"):
            raise SlackError(str(args["error"]), args=args)
        return {"ok": True, "args": args}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    # ------------------------------------------------------------------ chat.*

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, by_name=True, open_dm=True, need_member=True, writable=True)
        content = self._content(args, required=True)
        msg = self._bot_message(content)
        thread_ts = args.get("thread_ts") or None
        if thread_ts and _truthy(args.get("reply_broadcast")):
            msg["subtype"] = "thread_broadcast"
        self._store_message(cid, msg, thread_ts)
        return {"ok": True, "channel": cid, "ts": msg["ts"], "message": copy.deepcopy(msg)}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, by_name=True, writable=True)
        user = args.get("user")
        if not user or user not in self.users:
            raise SlackError("user_not_found")
        content = self._content(args, required=True)
        ts = self._next_ts()
        record = {"channel": cid, "user": user, "message_ts": ts, **content}
        if args.get("thread_ts"):
            record["thread_ts"] = args["thread_ts"]
        self.ephemerals.append(record)
        return {"ok": True, "message_ts": ts}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        msg = self._message_arg(cid, args.get("ts"))
        if msg.get("user") != self.bot_user_id:
            raise SlackError("cant_update_message")
        content = self._content(args, required=False)
        msg.update(content)
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": cid,
            "ts": msg["ts"],
            "text": msg.get("text", ""),
            "message": copy.deepcopy(msg),
        }

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        msg = self._message_arg(cid, args.get("ts"))
        if msg.get("user") != self.bot_user_id:
            raise SlackError("cant_delete_message")
        self._delete(cid, msg["ts"])
        return {"ok": True, "channel": cid, "ts": msg["ts"]}

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        msg = self._message_arg(cid, args.get("message_ts"))
        link = f"https://{self.team_domain}.slack.com/archives/{cid}/p{msg['ts'].replace('.', '')}"
        root = msg.get("thread_ts")
        if root and root != msg["ts"]:
            link += f"?thread_ts={root}&cid={cid}"
        return {"ok": True, "channel": cid, "permalink": link}

    # ------------------------------------------------------------------ conversations.*

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

    def _conv_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = self._check_name(args.get("name"))
        channel = self._create_channel(
            name, _truthy(args.get("is_private")), self.bot_user_id, [self.bot_user_id]
        )
        return {"ok": True, "channel": self._conversation(channel["id"])}

    def _conv_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, need_member=True, writable=True)
        if self._is_dm(cid):
            raise SlackError("method_not_supported_for_channel_type")
        raw = args.get("users")
        users = raw if isinstance(raw, list) else str(raw or "").split(",")
        users = [u.strip() for u in users if u and u.strip()]
        if not users:
            raise SlackError("no_user")
        if self.bot_user_id in users:
            raise SlackError("cant_invite_self")
        for uid in users:
            if uid not in self.users:
                raise SlackError("user_not_found")
            if self.users[uid]["deleted"]:
                raise SlackError("cant_invite")
        new = [u for u in users if u not in self._members[cid]]
        if not new:
            errors = [{"user": u, "ok": False, "error": "already_in_channel"} for u in users]
            raise SlackError("already_in_channel", errors=errors)
        for uid in new:
            self._add_member(cid, uid)
        return {"ok": True, "channel": self._conversation(cid)}

    def _conv_join(self, args: dict[str, Any]) -> dict[str, Any]:
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

    def _conv_leave(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        if self._is_dm(cid):
            raise SlackError("method_not_supported_for_channel_type")
        if self.bot_user_id not in self._members[cid]:
            return {"ok": True, "not_in_channel": True}
        self._remove_member(cid, self.bot_user_id)
        return {"ok": True}

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

    def _conv_info(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        return {
            "ok": True,
            "channel": self._conversation(cid, _truthy(args.get("include_num_members"))),
        }

    def _conv_list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = set(str(args.get("types") or "public_channel").split(","))
        exclude_archived = _truthy(args.get("exclude_archived"))
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

    def _conv_members(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        page, cursor = self._page(list(self._members[cid]), args)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _ts_range(self, args: dict[str, Any]) -> tuple[Decimal, Decimal, bool]:
        oldest = _ts_num(args.get("oldest") or "0")
        if oldest is None:
            raise SlackError("invalid_ts_oldest")
        latest = _ts_num(args.get("latest") or "9999999999.999999")
        if latest is None:
            raise SlackError("invalid_ts_latest")
        return oldest, latest, _truthy(args.get("inclusive"))

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
        return {
            "ok": True,
            "messages": copy.deepcopy(page),
            "has_more": bool(cursor),
            "pin_count": len(self._pins[cid]),
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

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
        return {
            "ok": True,
            "messages": copy.deepcopy(page),
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

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
                    raise SlackError(DELETED_USER_ERROR)
            cid, already = self._open_dm(users)
        result: dict[str, Any] = {"ok": True}
        if already:
            result.update(no_op=True, already_open=True)
        full = _truthy(args.get("return_im")) or already
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

    def _conv_set_topic(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._set_text_field(args, "topic")

    def _conv_set_purpose(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._set_text_field(args, "purpose")

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

    def _conv_unarchive(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        if not self.channels[cid]["is_archived"]:
            raise SlackError("not_archived")
        self.channels[cid]["is_archived"] = False
        return {"ok": True}

    # ------------------------------------------------------------------ pins.* / reactions.*

    def _pins_add(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, need_member=True)
        if not args.get("timestamp"):
            raise SlackError("no_item_specified")
        msg = self._message_arg(cid, args["timestamp"])
        if msg["ts"] in self._pins[cid]:
            raise SlackError("already_pinned")
        self._pins[cid].append(msg["ts"])
        msg["pinned_to"] = [cid]
        return {"ok": True}

    def _pins_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args, need_member=True)
        if not args.get("timestamp"):
            raise SlackError("no_item_specified")
        msg = self._message_arg(cid, args["timestamp"])
        if msg["ts"] not in self._pins[cid]:
            raise SlackError("no_pin")
        self._pins[cid].remove(msg["ts"])
        msg.pop("pinned_to", None)
        return {"ok": True}

    def _pins_list(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_arg(args)
        items = []
        for ts in self._pins[cid]:
            msg = self._find(cid, ts)
            if msg is not None:
                items.append(
                    {
                        "type": "message",
                        "created": int(Decimal(ts)),
                        "created_by": self.bot_user_id,
                        "channel": cid,
                        "message": copy.deepcopy(msg),
                    }
                )
        return {"ok": True, "items": items}

    def _reaction_target(self, args: dict[str, Any]) -> tuple[str, str]:
        if not args.get("channel") or not args.get("timestamp"):
            raise SlackError("no_item_specified")
        return self._channel_arg(args), str(args["timestamp"])

    def _reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, ts = self._reaction_target(args)
        self._react(cid, ts, args.get("name"), self.bot_user_id, add=True)
        return {"ok": True}

    def _reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, ts = self._reaction_target(args)
        self._react(cid, ts, args.get("name"), self.bot_user_id, add=False)
        return {"ok": True}

    def _reactions_get(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, ts = self._reaction_target(args)
        msg = self._message_arg(cid, ts)
        return {"ok": True, "type": "message", "channel": cid, "message": copy.deepcopy(msg)}

    # ------------------------------------------------------------------ users.*

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        page, cursor = self._page(list(self.users.values()), args, default=1000)
        return {
            "ok": True,
            "members": copy.deepcopy(page),
            "cache_ts": int(self.now()),
            "response_metadata": {"next_cursor": cursor},
        }

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").lower()
        for user in self.users.values():
            if email and str(user["profile"].get("email", "")).lower() == email:
                return {"ok": True, "user": copy.deepcopy(user)}
        raise SlackError("users_not_found")

    # ------------------------------------------------------------------ views.*

    def _view_arg(self, args: dict[str, Any], kinds: tuple[str, ...]) -> dict[str, Any]:
        view = args.get("view")
        if view is None:
            raise _invalid_arguments("[ERROR] missing required field: view")
        if not isinstance(view, dict):
            raise _invalid_arguments(
                "[ERROR] failed to match all allowed schemas [json-pointer:/view]"
            )
        if view.get("type") not in kinds:
            raise _invalid_arguments(
                f"[ERROR] must be one of {', '.join(kinds)} [json-pointer:/view/type]"
            )
        errors: list[str] = []
        if self.validate_blocks:
            errors += block_errors(view.get("blocks", []), 100, "/view/blocks")
            if view["type"] == "modal":
                _check_text(view.get("title"), "/view/title", 24, errors, plain=True)
                for key in ("submit", "close"):
                    if view.get(key) is not None:
                        _check_text(view[key], f"/view/{key}", 24, errors, plain=True)
            _check_len(view.get("private_metadata"), "/view/private_metadata", 3000, errors)
            _check_len(view.get("callback_id"), "/view/callback_id", 255, errors)
        if errors:
            raise _invalid_arguments(*errors)
        return view

    def _build_view(
        self, view: dict[str, Any], vid: str, root: str | None, previous: str | None
    ) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "id": vid,
            "team_id": self.team_id,
            "type": view["type"],
            "title": None,
            "submit": None,
            "close": None,
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "clear_on_close": False,
            "notify_on_close": False,
        }
        stored.update(copy.deepcopy(view))
        stored.update(
            id=vid,
            hash=f"{int(self.now())}.{self._rng.getrandbits(32):08x}",
            root_view_id=root or vid,
            previous_view_id=previous,
            app_id=self.app_id,
            app_installed_team_id=self.team_id,
            bot_id=self.bot_id,
        )
        self.views[vid] = stored
        return stored

    def _external_id_taken(self, view: dict[str, Any], own_id: str | None = None) -> None:
        ext = view.get("external_id")
        if ext and any(v.get("external_id") == ext and k != own_id for k, v in self.views.items()):
            raise SlackError("duplicate_external_id")

    def _trigger(self, args: dict[str, Any]) -> None:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            raise _invalid_arguments("[ERROR] missing required field: trigger_id")

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._trigger(args)
        view = self._view_arg(args, ("modal",))
        self._external_id_taken(view)
        stored = self._build_view(view, self._new_id("V"), None, None)
        self._last_modal = stored["id"]
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        self._trigger(args)
        view = self._view_arg(args, ("modal",))
        self._external_id_taken(view)
        previous = self.views.get(self._last_modal or "")
        root = previous["root_view_id"] if previous else None
        vid = self._new_id("V")
        stored = self._build_view(view, vid, root, previous["id"] if previous else None)
        self._last_modal = vid
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        vid = args.get("view_id")
        if not vid and args.get("external_id"):
            ext = args["external_id"]
            vid = next((k for k, v in self.views.items() if v.get("external_id") == ext), None)
        if not vid or vid not in self.views:
            raise SlackError("not_found")
        current = self.views[vid]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        view = self._view_arg(args, (current["type"],))
        self._external_id_taken(view, vid)
        stored = self._build_view(view, vid, current["root_view_id"], current["previous_view_id"])
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id") or "")
        if user not in self.users:
            raise SlackError("user_not_found")
        view = self._view_arg(args, ("home",))
        vid = self._home_views.get(user)
        if vid and args.get("hash") and args["hash"] != self.views[vid]["hash"]:
            raise SlackError("hash_conflict")
        vid = vid or self._new_id("V")
        self._home_views[user] = vid
        stored = self._build_view(view, vid, None, None)
        return {"ok": True, "view": copy.deepcopy(stored)}

    # ------------------------------------------------------------------ files.*

    def _file_object(
        self, fid: str, name: str, title: str, size: int, user: str | None = None
    ) -> dict[str, Any]:
        now = int(self.now())
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        owner = user or self.bot_user_id
        private = f"{self.base}/files/{fid}/{name}" if self._server else f"/files/{fid}/{name}"
        permalink = f"https://{self.team_domain}.slack.com/files/{owner}/{fid}/{name}"
        return {
            "id": fid,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title,
            "mimetype": mimetypes.guess_type(name)[0] or "text/plain",
            "filetype": ext or "text",
            "pretty_type": ext.upper() or "Plain Text",
            "user": owner,
            "user_team": self.team_id,
            "editable": False,
            "size": size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": private,
            "url_private_download": private + "?download=1",
            "permalink": permalink,
            "permalink_public": f"https://slack-files.com/{self.team_id}-{fid}-fake",
            "comments_count": 0,
            "is_starred": False,
            "shares": {},
            "channels": [],
            "groups": [],
            "ims": [],
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
        }

    def _files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = str(args.get("filename") or "")
        if not filename:
            raise _invalid_arguments("[ERROR] missing required field: filename")
        length = _int(args.get("length"), 0)
        if length <= 0:
            raise SlackError("missing_argument")
        fid = self._new_id("F")
        self._pending_files[fid] = {
            "filename": filename,
            "length": length,
            "alt_txt": args.get("alt_txt"),
            "snippet_type": args.get("snippet_type"),
        }
        return {"ok": True, "upload_url": f"{self.base}/upload/{fid}", "file_id": fid}

    def _files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise _invalid_arguments("[ERROR] missing required field: files")
        targets: list[str] = []
        if args.get("channel_id"):
            targets.append(self._channel_arg(args, "channel_id", open_dm=True, writable=True))
        raw_channels = args.get("channels")
        if raw_channels:
            for ref in str(raw_channels).split(","):
                targets.append(self._channel_arg({"c": ref.strip()}, "c", open_dm=True))
        infos = []
        for entry in entries:
            fid = entry.get("id") if isinstance(entry, dict) else None
            if fid not in self._pending_files or fid not in self.uploads:
                raise SlackError("file_not_found")
            pending = self._pending_files[fid]
            title = entry.get("title") or pending["filename"]
            info = self._file_object(fid, pending["filename"], title, len(self.uploads[fid]))
            if pending.get("alt_txt"):
                info["alt_txt"] = pending["alt_txt"]
            self.files[fid] = info
            infos.append(info)
        for cid in dict.fromkeys(targets):
            msg = self._bot_message({"text": str(args.get("initial_comment") or "")})
            msg.update(files=copy.deepcopy(infos), upload=True, display_as_bot=False)
            self._store_message(cid, msg, args.get("thread_ts") or None)
            share_kind = "public" if not self.channels[cid]["is_private"] else "private"
            for info in infos:
                bucket = "ims" if self._is_dm(cid) else "channels"
                info[bucket].append(cid)
                share = {"ts": msg["ts"], "channel_name": self.channels[cid].get("name", "")}
                info["shares"].setdefault(share_kind, {}).setdefault(cid, []).append(share)
        for info in infos:
            self._pending_files.pop(info["id"], None)
        return {"ok": True, "files": copy.deepcopy(infos)}

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        info = self.files.get(str(args.get("file") or ""))
        if info is None:
            raise SlackError("file_not_found")
        return {
            "ok": True,
            "file": copy.deepcopy(info),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _files_upload_v1(self, args: dict[str, Any]) -> dict[str, Any]:
        raise SlackError("method_deprecated")


def _invalid_arguments(*messages: str) -> SlackError:
    return SlackError("invalid_arguments", response_metadata={"messages": list(messages)})


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.sandbox.fakeslack``: run the fake on its own (e.g. for a dev bot or a bench).

    Prints the ``SLACK_API_URL`` to use, then serves until interrupted.
    """
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="A local fake of the Slack Web API")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="xoxb-fake")
    parser.add_argument("--user", action="append", default=[], metavar="ID:NAME")
    parser.add_argument("--channel", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)
    fake = FakeSlack(bot_token=args.token, port=args.port).start()
    users = []
    for spec in args.user:
        user_id, _, name = spec.partition(":")
        fake.add_user(user_id, name or user_id.lower())
        users.append(user_id)
    for name in args.channel:
        fake.add_channel(name, members=users)
    print(fake.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
