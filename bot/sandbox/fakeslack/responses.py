"""``response_url``: the URLs Slack hands with a command or an action, and what is POSTed to them.

Each URL is issued by :meth:`Responses.response_url`; a POST to it is recorded in
``responses``, and an ``in_channel`` one lands in the channel as a message from the bot
(even a private channel or DM the bot is not in: the URL belongs to the command). What
Slack refuses is refused, and recorded in ``refused_responses``: invalid blocks, too much
text, a URL used more than five times or after thirty minutes.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from bot.sandbox.fakeslack.blockkit import block_errors, text_error
from bot.sandbox.fakeslack.common import Reply, text_reply
from bot.sandbox.fakeslack.messages import Messages
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
            self._response_uses[path] = (self.now(), 0)
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
            issued, uses = self._response_uses[path]
            refusal = self._refusal(data, issued, uses)
            if refusal is not None:
                self.refused_responses.append({**data, "url": self.base + path,
                                               "error": refusal[1]})
                return text_reply(*refusal)
            self._response_uses[path] = (issued, uses + 1)
            self.responses.append({**data, "url": self.base + path, "channel": channel})
            if channel and data.get("response_type") == "in_channel" and channel in self._messages:
                content = {k: v for k, v in data.items() if k in ("text", "blocks")}
                self._store_message(channel, self._bot_message(content), None)
        return text_reply(200, "ok")

    def _refusal(self, data: dict, issued: float, uses: int) -> tuple[int, str] | None:
        """Why Slack would refuse this POST to a response URL (status, body), if it would."""
        # https://api.slack.com/interactivity/handling#message_responses: "up to 5 times
        # within 30 minutes"
        if uses >= 5 or self.now() - issued > 30 * 60:
            return 404, "expired_url"
        if not self.validate_blocks:
            return None
        # https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks:
        # a payload Slack cannot accept is answered 400 with the reason as the body
        if data.get("blocks") is not None and block_errors(data["blocks"]):
            return 400, "invalid_blocks"
        # https://api.slack.com/methods/chat.postMessage#truncating (response URLs alike)
        too_long = text_error(data.get("text"))
        return (400, too_long) if too_long else None
