"""The fake's HTTP side: a threaded server on loopback, routing, and the Web API dispatch.

A call to ``/api/<method>`` is parsed the way Slack parses it (query string, form, JSON or
multipart body), recorded and perhaps failed (``failures.py``), then answered by the handler
that a family marked with ``@answers`` (``common.py``). ``/upload/`` and ``/files/`` go to
``files.py``, ``/response/`` to ``responses.py``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote_plus, urlsplit

from bot.sandbox.fakeslack.common import (
    JSON_TYPE,
    Call,
    Reply,
    SlackError,
    as_int,
    json_bytes,
    text_reply,
)
from bot.sandbox.fakeslack.failures import Failures
from bot.sandbox.fakeslack.openid import OpenID
from bot.sandbox.fakeslack.socket_mode import SocketMode

log = logging.getLogger(__name__)

# Arguments Slack expects as JSON-encoded strings in form posts; decoded for inspection.
JSON_ARGS = ("blocks", "attachments", "view", "files", "metadata")
#: The status ``_api_request`` gives for "close the connection without answering".
DROP = 0
# Methods that answer without a token (as on real Slack): openid.connect.token takes the
# app's client id and secret instead (https://docs.slack.dev/reference/methods/openid.connect.token).
NO_AUTH_METHODS = frozenset({"api.test", "openid.connect.token"})
# Methods that take a Sign in with Slack user token only (openid.py).
USER_TOKEN_METHODS = frozenset({"openid.connect.userInfo"})
# Methods that take the app-level token (xapp-…) and nothing else (socket_mode.py).
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


def _disp_param(disposition: str, name: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{name}="([^"]*)"', disposition)
    return match.group(1) if match else None


def parse_multipart(
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


def _basic_auth(header: str) -> tuple[str, str] | None:
    """``Authorization: Basic`` credentials (client_secret_basic), or None."""
    if not header.lower().startswith("basic "):
        return None
    try:
        user, sep, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (unquote_plus(user), unquote_plus(password)) if sep else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: Server) -> None:
        super().__init__(address, _Handler)
        self.fake = fake  # the whole FakeSlack: files.py and responses.py answer too


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
        length = as_int(self.headers.get("Content-Length"), 0)
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
            basic = _basic_auth(auth)
            openid = fake._openid_request(path, parts.query) if self.command == "GET" else None
            if openid is not None:
                reply = openid
            elif path.startswith("/api/") and len(path) > 5:
                reply = fake._api_request(path[5:], parts.query, ctype, body, token, basic)
            elif path.startswith("/upload/") and self.command == "POST":
                reply = fake._upload_request(path[8:], ctype, body)
            elif path.startswith("/response/") and self.command == "POST":
                reply = fake._response_request(path, ctype, body)
            elif path.startswith("/files/") and self.command == "GET":
                reply = fake._download_request(path[7:], token)
            else:
                reply = text_reply(404, "Not Found")
        except Exception:  # a bug in the fake must not hang the client
            log.exception("fakeslack: failed to handle %s %s", self.command, self.path)
            reply = (500, json_bytes({"ok": False, "error": "fatal_error"}), JSON_TYPE, {})
        status, payload, content_type, headers = reply
        if status == DROP:  # the call took effect; the connection closes with no answer
            self.close_connection = True
            return
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


class Server(OpenID, SocketMode, Failures):
    """Serving the fake over HTTP: start and stop, its URLs, and the ``/api/`` dispatch."""

    _server: _Server | None = None
    _thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
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
        """Stop serving and close the socket, Socket Mode's too (idempotent)."""
        self._sm_stop()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> Self:
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

    # ------------------------------------------------------------------ request handling

    def _api_request(
        self, method: str, query: str, content_type: str, body: bytes, token: str | None,
        basic: tuple[str, str] | None = None,
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
                fields, files = parse_multipart(content_type, body)
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
            failure = self._take_failure(method, args)
            latency = self.latency
        if latency > 0:
            time.sleep(latency)
        headers: dict[str, str] = {}
        # Slack carried the call out, then its answer was lost: the 500 hides a success.
        lost_answer = failure is not None and failure.error in ("http_500_after", "drop_after")
        if failure is not None and not lost_answer:
            if failure.error == "ratelimited":
                headers["Retry-After"] = str(failure.retry_after)
                return 429, json_bytes({"ok": False, "error": "ratelimited"}), JSON_TYPE, headers
            if failure.error == "http_500":
                return 500, json_bytes({"ok": False, "error": "internal_error"}), JSON_TYPE, {}
            if failure.error == "timeout":
                time.sleep(self.timeout_seconds)
            else:
                return 200, json_bytes({"ok": False, "error": failure.error}), JSON_TYPE, {}
        handler = self._methods.get(method)
        if bad_request is not None:
            result: dict[str, Any] = {"ok": False, "error": bad_request}
        elif handler is None:
            result = {"ok": False, "error": "unknown_method"}
        elif method in APP_TOKEN_METHODS and (error := self.app_token_error(token)):
            result = {"ok": False, "error": error}
        elif method in USER_TOKEN_METHODS and (error := self.user_token_error(token)):
            # https://docs.slack.dev/reference/methods/openid.connect.userInfo: a user token
            # from Sign in with Slack, nothing else
            result = {"ok": False, "error": error}
        elif (method not in NO_AUTH_METHODS | APP_TOKEN_METHODS | USER_TOKEN_METHODS
              and token != self.bot_token):
            # https://docs.slack.dev/authentication/tokens: an app-level token works only
            # for the few apps.* methods; elsewhere Slack refuses its type.
            is_app_token = token == getattr(self, "app_token", None)
            result = {"ok": False,
                      "error": "not_allowed_token_type" if is_app_token else "invalid_auth"}
        elif (refused := self.manifest.missing_scope(method)) is not None:
            # https://docs.slack.dev/reference/scopes: a method needs one of its listed scopes
            result = refused
        elif (refused := self.manifest.missing_scope(
                method, self.conversation_kind(method, args))) is not None:
            # ... and, on one conversation, the scope of its kind (manifest.KIND_SCOPES)
            result = refused
        else:
            handler_args = copy.deepcopy(args)
            if method in USER_TOKEN_METHODS:
                handler_args["_user_token"] = token
            if method == "openid.connect.token" and basic is not None:
                handler_args["_basic_auth"] = basic
            with self._lock:
                try:
                    result = handler(handler_args)
                except SlackError as exc:
                    result = {"ok": False, "error": exc.error, **exc.extra}
                payload = json_bytes(result)  # serialise under the lock: results share state
            if lost_answer:
                if failure is not None and failure.error == "drop_after":
                    return DROP, b"", "", {}
                return 500, json_bytes({"ok": False, "error": "internal_error"}), JSON_TYPE, {}
            if method == "auth.test" and result.get("ok"):
                headers["X-OAuth-Scopes"] = ",".join(sorted(self.manifest.bot_scopes))
            return 200, payload, JSON_TYPE, headers
        return 200, json_bytes(result), JSON_TYPE, headers
