"""``files.*``: Slack's two-step upload, file objects and shares, and the HTTP side of files.

An upload is ``files.getUploadURLExternal``, a POST of the bytes to ``/upload/<id>``, then
``files.completeUploadExternal``, which shares the file in channels; ``/files/<id>/<name>``
serves the bytes back to the bot's token. Tests register a file with :meth:`Files.add_file`.
"""

from __future__ import annotations

import copy
import mimetypes
from typing import Any

from bot.sandbox.fakeslack.args import Arguments
from bot.sandbox.fakeslack.common import (
    Reply,
    SlackError,
    answers,
    as_int,
    invalid_arguments,
    text_reply,
)
from bot.sandbox.fakeslack.server import Server, parse_multipart


class Files(Arguments, Server):
    """The ``files.*`` methods, uploads to ``/upload/`` and downloads from ``/files/``."""

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

    # ------------------------------------------------------------------ uploads & downloads

    def _upload_request(self, file_id: str, content_type: str, body: bytes) -> Reply:
        if content_type.split(";")[0].strip().lower() == "multipart/form-data":
            fields, files = parse_multipart(content_type, body)
            if files:
                body = next(iter(files.values()))[1]
            elif fields:
                body = next(iter(fields.values())).encode()
        with self._lock:
            if file_id not in self._pending_files:
                return text_reply(404, "Not Found")
            self.uploads[file_id] = body
        return text_reply(200, f"OK - {len(body)}")

    def _download_request(self, rest: str, token: str | None) -> Reply:
        file_id = rest.split("/", 1)[0]
        if token != self.bot_token:
            return text_reply(403, "Forbidden")
        with self._lock:
            content = self.uploads.get(file_id)
            info = self.files.get(file_id, {})
        if content is None:
            return text_reply(404, "Not Found")
        mimetype = info.get("mimetype") or "application/octet-stream"
        return 200, content, mimetype, {}

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

    @answers("files.getUploadURLExternal")
    def _files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = str(args.get("filename") or "")
        if not filename:
            raise invalid_arguments("[ERROR] missing required field: filename")
        length = as_int(args.get("length"), 0)
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

    @answers("files.completeUploadExternal")
    def _files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise invalid_arguments("[ERROR] missing required field: files")
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

    @answers("files.info")
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

    @answers("files.upload")
    def _files_upload_v1(self, args: dict[str, Any]) -> dict[str, Any]:
        raise SlackError("method_deprecated")
