"""``pins.*``: pinning and unpinning messages, and listing a channel's pins."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from bot.sandbox.fakeslack.args import Arguments
from bot.sandbox.fakeslack.common import SlackError, answers


class Pins(Arguments):
    """``pins.add``, ``pins.remove`` and ``pins.list``."""

    @answers("pins.add")
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

    @answers("pins.remove")
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

    @answers("pins.list")
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
