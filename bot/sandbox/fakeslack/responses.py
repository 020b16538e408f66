"""``response_url``: the URLs Slack hands with a command or an action, and what is POSTed to them.

Each URL is issued by :meth:`Responses.response_url`; a POST to it is recorded in
``responses``, and an ``in_channel`` one lands in the channel as a message from the bot.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from bot.sandbox.fakeslack.common import Reply, SlackError, text_reply
from bot.sandbox.fakeslack.messages import Messages
from bot.sandbox.fakeslack.metadata import checked_metadata
from bot.sandbox.fakeslack.server import Server


class Responses(Messages, Server):
    """Issued response URLs and the replies POSTed to them."""

    def response_url(self, channel: str | None = None) -> str:
        """A fresh response URL; JSON POSTed to it is appended to :attr:`responses`.

        With ``channel``, an ``in_channel`` response also lands in that channel's messages,
        as Slack posts it there (an ephemeral one is seen only by the person).
        """
        with self._lock:
            path = f"/response/{next(self._response_ids)}"
            self._issued_responses[path] = channel
        return self.base + path

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
                return text_reply(404, "no_service")
            channel = self._issued_responses[path]
            self.responses.append({**data, "url": self.base + path, "channel": channel})
            if channel and data.get("response_type") == "in_channel" and channel in self._messages:
                content = {k: v for k, v in data.items() if k in ("text", "blocks")}
                # https://docs.slack.dev/messaging/message-metadata: response_url posts carry it
                if "metadata" in data:
                    try:
                        metadata, _warning = checked_metadata(data["metadata"])
                    except SlackError as exc:
                        return text_reply(400, exc.error)
                    if metadata is not None:
                        content["metadata"] = metadata
                self._store_message(channel, self._bot_message(content), None)
        return text_reply(200, "ok")
