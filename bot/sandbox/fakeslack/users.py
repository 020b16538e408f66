"""``users.*``: profiles of the workspace's members (seeded by ``Workspace.add_user``)."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.fakeslack.args import Arguments
from bot.sandbox.fakeslack.common import SlackError, answers


class Users(Arguments):
    """``users.info``, ``users.list`` and ``users.lookupByEmail``."""

    @answers("users.info")
    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    @answers("users.list")
    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        page, cursor = self._page(list(self.users.values()), args, default=1000)
        return {
            "ok": True,
            "members": copy.deepcopy(page),
            "cache_ts": int(self.now()),
            "response_metadata": {"next_cursor": cursor},
        }

    @answers("users.lookupByEmail")
    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").lower()
        for user in self.users.values():
            if email and str(user["profile"].get("email", "")).lower() == email:
                return {"ok": True, "user": copy.deepcopy(user)}
        raise SlackError("users_not_found")
