"""``views.*``: modals (open, push, update) and Home tabs (publish), validated like Slack.

A view's blocks and its title, buttons, metadata and callback id are checked against Slack's
limits (``blockkit.py``: slack_sdk's models and hand checks) and refused with
``invalid_arguments`` as Slack refuses them.
"""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.fakeslack.blockkit import view_errors
from bot.sandbox.fakeslack.common import SlackError, answers, invalid_arguments
from bot.sandbox.fakeslack.state import Workspace


class Views(Workspace):
    """``views.open``, ``views.push``, ``views.update`` and ``views.publish``."""

    def _view_arg(self, args: dict[str, Any], kinds: tuple[str, ...]) -> dict[str, Any]:
        view = args.get("view")
        if view is None:
            raise invalid_arguments("[ERROR] missing required field: view")
        if not isinstance(view, dict):
            raise invalid_arguments(
                "[ERROR] failed to match all allowed schemas [json-pointer:/view]"
            )
        if view.get("type") not in kinds:
            raise invalid_arguments(
                f"[ERROR] must be one of {', '.join(kinds)} [json-pointer:/view/type]"
            )
        # https://api.slack.com/methods/views.open#errors: invalid_arguments, with Slack's
        # "[ERROR] … [json-pointer:…]" messages (Block Kit and view limits: blockkit.py)
        errors = view_errors(view) if self.validate_blocks else []
        if errors:
            raise invalid_arguments(*errors)
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
            raise invalid_arguments("[ERROR] missing required field: trigger_id")

    @answers("views.open")
    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._trigger(args)
        view = self._view_arg(args, ("modal",))
        self._external_id_taken(view)
        stored = self._build_view(view, self._new_id("V"), None, None)
        self._last_modal = stored["id"]
        return {"ok": True, "view": copy.deepcopy(stored)}

    @answers("views.push")
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

    @answers("views.update")
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

    @answers("views.publish")
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
