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

The scope table is Slack's "any one of these" list per method; for the methods that act on
one conversation, Slack narrows it by the conversation's kind, and so does the fake
(``KIND_SCOPES``): ``conversations.create`` with ``is_private`` needs ``groups:write``
(https://docs.slack.dev/reference/methods/conversations.create), ``conversations.members``
of a private channel ``groups:read`` (https://docs.slack.dev/reference/methods/conversations.members),
the history of a private channel ``groups:history``
(https://docs.slack.dev/reference/methods/conversations.history); a public channel needs the
``channels:`` scope instead.
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


#: (method, kind of conversation) → the scopes that allow it there (any one). Kinds: public,
#: private, im, mpim. https://docs.slack.dev/reference/scopes: ``channels:*`` are public
#: channels, ``groups:*`` private channels, ``im:*`` DMs, ``mpim:*`` group DMs.
_KINDS = {"public": "channels", "private": "groups", "im": "im", "mpim": "mpim"}
_MANAGE_KIND = {"public": "channels:manage", "private": "groups:write", "im": "im:write",
                "mpim": "mpim:write"}
KIND_SCOPES: dict[tuple[str, str], frozenset[str]] = {}
for _kind, _family in _KINDS.items():
    for _method in ("conversations.info", "conversations.members"):
        KIND_SCOPES[(_method, _kind)] = frozenset({f"{_family}:read"})
    for _method in ("conversations.history", "conversations.replies"):
        KIND_SCOPES[(_method, _kind)] = frozenset({f"{_family}:history"})
    KIND_SCOPES[("conversations.create", _kind)] = frozenset({_MANAGE_KIND[_kind]})
# https://docs.slack.dev/reference/methods/conversations.invite: channels:manage or
# channels:write.invites for public channels, groups:write or groups:write.invites for private.
KIND_SCOPES[("conversations.invite", "public")] = frozenset(
    {"channels:manage", "channels:write.invites"})
KIND_SCOPES[("conversations.invite", "private")] = frozenset(
    {"groups:write", "groups:write.invites"})
#: Event subscription → the bot scope Slack requires for it
#: (https://docs.slack.dev/reference/events/<event>).
EVENT_SCOPES = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
}
#: A message event's ``channel_type`` → the subscription that delivers it
#: (https://docs.slack.dev/reference/events/message.groups: "A message was posted to a
#: private channel", channel_type "group"; message.channels: "channel").
MESSAGE_SUBSCRIPTIONS = {"channel": "message.channels", "group": "message.groups",
                         "im": "message.im", "mpim": "message.mpim"}


@dataclass(frozen=True)
class AppManifest:
    """What Slack would know of the installed app (change it with ``dataclasses.replace``)."""

    bot_scopes: frozenset[str]
    bot_events: frozenset[str] = frozenset()
    messages_tab_enabled: bool = False  # the Messages tab is opt-in (Slack's default: off)
    messages_tab_read_only: bool = False
    #: ``oauth_config.redirect_urls``: where Sign in with Slack may send people back
    #: (https://docs.slack.dev/reference/app-manifest; openid.py checks them).
    redirect_urls: tuple[str, ...] = ()
    #: ``oauth_config.scopes.user``: the user scopes (Sign in with Slack: openid, profile, email).
    user_scopes: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path | str = PROJECT_MANIFEST) -> AppManifest:
        """Read a ``manifest.yml`` (YAML or JSON, as Slack takes either)."""
        return cls.from_dict(yaml.safe_load(Path(path).read_text()))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppManifest:
        home = (data.get("features") or {}).get("app_home") or {}
        settings = data.get("settings") or {}
        oauth = data.get("oauth_config") or {}
        return cls(
            bot_scopes=frozenset((oauth.get("scopes") or {}).get("bot") or ()),
            redirect_urls=tuple(oauth.get("redirect_urls") or ()),
            user_scopes=frozenset((oauth.get("scopes") or {}).get("user") or ()),
            bot_events=frozenset((settings.get("event_subscriptions") or {})
                                 .get("bot_events") or ()),
            messages_tab_enabled=bool(home.get("messages_tab_enabled", False)),
            messages_tab_read_only=bool(home.get("messages_tab_read_only_enabled", False)),
        )

    def delivers(self, subscription: str) -> bool:
        """Whether Slack sends this app the events of ``subscription``: subscribed, and the
        scope the event requires granted (https://docs.slack.dev/apis/events-api)."""
        scope = EVENT_SCOPES.get(subscription)
        return subscription in self.bot_events and (scope is None or scope in self.bot_scopes)

    def redirecting_to(self, *urls: str) -> AppManifest:
        """The same app with these redirect URLs instead (a test's own web view address)."""
        return dataclasses.replace(self, redirect_urls=tuple(urls))

    def without(self, *scopes: str) -> AppManifest:
        """The same app with ``scopes`` taken away (a test's misconfigured install)."""
        return dataclasses.replace(self, bot_scopes=self.bot_scopes - set(scopes))

    def missing_scope(self, method: str, kind: str | None = None) -> dict[str, Any] | None:
        """The ``missing_scope`` answer for ``method`` (on a conversation of ``kind``), or
        None if a granted scope allows it."""
        needed = METHOD_SCOPES.get(method)
        if kind is not None:
            needed = KIND_SCOPES.get((method, kind), needed)
        if not needed or needed & self.bot_scopes:
            return None
        return {"ok": False, "error": "missing_scope", "needed": sorted(needed)[0],
                "provided": ",".join(sorted(self.bot_scopes))}
