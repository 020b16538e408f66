"""What every Web API method handler shares: reading its arguments the way Slack does.

A channel argument that must name a conversation the bot may see (and be in, when
``strict_membership`` is on, the default), a message by ``ts``, cursor paging, a conversation
object, and the text/blocks/attachments of a message checked against Block Kit and message
limits (``blockkit.py``).
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from bot.sandbox.fakeslack.blockkit import MESSAGE_TEXT, block_errors, text_error
from bot.sandbox.fakeslack.common import SlackError, as_int
from bot.sandbox.fakeslack.messages import Messages
from bot.sandbox.fakeslack.metadata import checked_metadata


class Arguments(Messages):
    """Argument helpers for the families of Web API methods."""

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
        if self.strict_membership:
            # https://api.slack.com/methods/chat.postMessage#errors: channel_not_found for a
            # private channel or DM the app is not in (it cannot see it at all)
            if (channel["is_private"] or self._is_dm(cid)) and not is_member:
                raise SlackError("channel_not_found")
            # https://api.slack.com/methods/conversations.history#errors: not_in_channel
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
        limit = as_int(args.get("limit"), default)
        if limit <= 0:
            limit = default
        if self.page_cap is not None:
            # https://docs.slack.dev/apis/web-api/pagination: "fewer than the requested number
            # of items may be returned, even if the end of the list hasn't been reached"
            limit = min(limit, self.page_cap)
        end = start + limit
        cursor_out = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
        return items[start:end], cursor_out

    def _conversation(self, cid: str, num_members: bool = False) -> dict:
        channel = copy.deepcopy(self.channels[cid])
        if num_members:
            channel["num_members"] = len(self._members[cid])
        return channel

    def _content(self, args: dict[str, Any], *, required: bool,
                 max_text: int = MESSAGE_TEXT) -> dict[str, Any]:
        """Validated text/blocks/attachments/metadata of a chat.* request."""
        content: dict[str, Any] = {}
        for key in ("text", "blocks", "attachments", "metadata"):
            if args.get(key) not in (None, ""):
                content[key] = args[key]
        if "text" in content:
            content["text"] = str(content["text"])
        if required and not any(content.get(k) for k in ("text", "blocks", "attachments")):
            raise SlackError("no_text")
        # https://api.slack.com/methods/chat.postMessage#errors (and chat.update): msg_too_long
        too_long = text_error(content.get("text"), max_text) if self.validate_blocks else None
        if too_long:
            raise SlackError(too_long)
        blocks = content.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
                raise SlackError("invalid_blocks_format")
            if self.validate_blocks:
                # https://api.slack.com/methods/chat.postMessage#errors: invalid_blocks
                errors = block_errors(blocks)
                if errors:
                    raise SlackError(
                        "invalid_blocks", errors=errors, response_metadata={"messages": errors}
                    )
        attachments = content.get("attachments")
        if attachments is not None and not isinstance(attachments, list):
            raise SlackError("invalid_attachments")
        if "metadata" in content:
            content["metadata"], warning = checked_metadata(content["metadata"])
            if content["metadata"] is None:
                del content["metadata"]
            if warning:
                content["_warning"] = warning
        return content
