"""The app the fake answers for, as its manifest declares it: its scopes and its Messages tab.

Slack decides what an app may do from the configuration an admin installed, and so does the
fake, from the same ``manifest.yml`` (the project's by default; a test may start one with
the tab off or a scope missing):

- a Web API method needs one of the bot scopes its page lists, else ``missing_scope`` with
  ``needed`` and ``provided`` (https://docs.slack.dev/reference/scopes);
- posting in a public channel the bot is not in needs ``chat:write.public``
  (https://docs.slack.dev/reference/scopes/chat.write.public), else ``not_in_channel``;
- a DM from the app needs the App Home's Messages tab, off unless the manifest turns it on
  (https://docs.slack.dev/surfaces/app-home), else ``messages_tab_disabled``
  (https://docs.slack.dev/reference/methods/chat.postMessage).

The scope table is Slack's "any one of these" list per method, whatever the kind of
conversation; Slack narrows it by kind (``groups:read`` for a private channel, …), which the
fake does not model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


def _project_manifest() -> Path:
    """The copy a wheel ships beside this module (``setup.py``), else the checkout's own."""
    shipped = Path(__file__).with_name("manifest.yml")
    return shipped if shipped.is_file() else Path(__file__).resolve().parents[3] / "manifest.yml"


#: The manifest Sitrep is installed from (the repository's own).
PROJECT_MANIFEST = _project_manifest()

_READ = frozenset({"channels:read", "groups:read", "im:read", "mpim:read"})
_HISTORY = frozenset({"channels:history", "groups:history", "im:history", "mpim:history"})
_MANAGE = frozenset({"channels:manage", "groups:write", "im:write", "mpim:write"})

#: Web API method → the bot scopes that allow it (any one), from the "Scopes" box of each page
#: https://docs.slack.dev/reference/methods/<method>. Methods absent need no scope.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "conversations.create": _MANAGE,
    "conversations.invite": _MANAGE | {"channels:write.invites", "groups:write.invites"},
    "conversations.join": frozenset({"channels:join"}),
    "conversations.leave": _MANAGE,
    "conversations.kick": _MANAGE,
    "conversations.open": _MANAGE,
    "conversations.rename": _MANAGE,
    "conversations.archive": _MANAGE,
    "conversations.unarchive": _MANAGE,
    "conversations.setTopic": _MANAGE,
    "conversations.setPurpose": _MANAGE,
    "conversations.info": _READ,
    "conversations.list": _READ,
    "conversations.members": _READ,
    "conversations.history": _HISTORY,
    "conversations.replies": _HISTORY,
    "pins.add": frozenset({"pins:write"}),
    "pins.remove": frozenset({"pins:write"}),
    "pins.list": frozenset({"pins:read"}),
    "reactions.add": frozenset({"reactions:write"}),
    "reactions.remove": frozenset({"reactions:write"}),
    "reactions.get": frozenset({"reactions:read"}),
    "users.info": frozenset({"users:read"}),
    "users.list": frozenset({"users:read"}),
    "users.lookupByEmail": frozenset({"users:read.email"}),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "files.info": frozenset({"files:read"}),
}


@dataclass(frozen=True)
class AppManifest:
    """What Slack would know of the installed app (change it with ``dataclasses.replace``)."""

    bot_scopes: frozenset[str]
    bot_events: frozenset[str] = frozenset()
    messages_tab_enabled: bool = False  # the Messages tab is opt-in (Slack's default: off)
    messages_tab_read_only: bool = False

    @classmethod
    def load(cls, path: Path | str = PROJECT_MANIFEST) -> AppManifest:
        """Read a ``manifest.yml`` (YAML or JSON, as Slack takes either)."""
        return cls.from_dict(yaml.safe_load(Path(path).read_text()))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppManifest:
        home = (data.get("features") or {}).get("app_home") or {}
        settings = data.get("settings") or {}
        return cls(
            bot_scopes=frozenset(((data.get("oauth_config") or {}).get("scopes") or {})
                                 .get("bot") or ()),
            bot_events=frozenset((settings.get("event_subscriptions") or {})
                                 .get("bot_events") or ()),
            messages_tab_enabled=bool(home.get("messages_tab_enabled", False)),
            messages_tab_read_only=bool(home.get("messages_tab_read_only_enabled", False)),
        )

    def without(self, *scopes: str) -> AppManifest:
        """The same app with ``scopes`` taken away (a test's misconfigured install)."""
        return dataclasses.replace(self, bot_scopes=self.bot_scopes - set(scopes))

    def missing_scope(self, method: str) -> dict[str, Any] | None:
        """The ``missing_scope`` answer for ``method``, or None if a granted scope allows it."""
        needed = METHOD_SCOPES.get(method)
        if not needed or needed & self.bot_scopes:
            return None
        return {"ok": False, "error": "missing_scope", "needed": sorted(needed)[0],
                "provided": ",".join(sorted(self.bot_scopes))}
