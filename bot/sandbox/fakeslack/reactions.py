"""``reactions.*``: the bot's reactions on a message (people react through ``messages.py``)."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.fakeslack.args import Arguments
from bot.sandbox.fakeslack.common import SlackError, answers


class Reactions(Arguments):
    """``reactions.add``, ``reactions.remove`` and ``reactions.get``."""

    def _reaction_target(self, args: dict[str, Any]) -> tuple[str, str]:
        if not args.get("channel") or not args.get("timestamp"):
            raise SlackError("no_item_specified")
        return self._channel_arg(args), str(args["timestamp"])

    @answers("reactions.add")
    def _reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, ts = self._reaction_target(args)
        self._react(cid, ts, args.get("name"), self.bot_user_id, add=True)
        return {"ok": True}

    @answers("reactions.remove")
    def _reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, ts = self._reaction_target(args)
        self._react(cid, ts, args.get("name"), self.bot_user_id, add=False)
        return {"ok": True}

    @answers("reactions.get")
    def _reactions_get(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, ts = self._reaction_target(args)
        msg = self._message_arg(cid, ts)
        return {"ok": True, "type": "message", "channel": cid, "message": copy.deepcopy(msg)}
