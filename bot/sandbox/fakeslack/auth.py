"""``api.test`` and ``auth.test``: the methods that echo a call and say who the caller is."""

from __future__ import annotations

from typing import Any

from bot.sandbox.fakeslack.common import SlackError, answers
from bot.sandbox.fakeslack.state import Workspace


class Auth(Workspace):
    """``api.test`` and ``auth.test``."""

    @answers("api.test")
    def _api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("error"):
            raise SlackError(str(args["error"]), args=args)
        return {"ok": True, "args": args}

    @answers("auth.test")
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
