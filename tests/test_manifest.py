"""manifest.yml grants exactly what the code uses: scopes for every Web API call and event
(and nothing more), every event subscribed, and the Messages tab for the DMs it sends."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.app import LISTENERS  # noqa: F401  (imports every listener module)
from bot.slack.commands import COMMAND

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())

#: Web API method → bot scopes that allow it (any one suffices), from api.slack.com/methods.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.getPermalink": set(),
    "conversations.create": {"channels:manage"},
    "conversations.invite": {"channels:manage"},
    "conversations.join": {"channels:join"},
    "conversations.info": {"channels:read"},
    "conversations.list": {"channels:read"},
    "conversations.members": {"channels:read", "groups:read"},
    "conversations.history": {"channels:history", "groups:history", "im:history"},
    "conversations.replies": {"channels:history"},
    "conversations.open": {"im:write"},
    "conversations.setTopic": {"channels:manage"},
    "pins.add": {"pins:write"},
    "reactions.get": {"reactions:read"},
    "users.info": {"users:read"},
    "views.open": set(),
    "views.update": set(),
    "views.push": set(),
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
    "files_upload_v2": {"files:write"},
}
#: Methods Sitrep calls on more than one kind of conversation → every scope that takes
#: (https://docs.slack.dev/reference/scopes: channels:* public, groups:* private channels):
#: incident channels are public or private (``/incident start private``), and membership is
#: read only for private ones.
KIND_NEEDS: dict[str, set[str]] = {
    "conversations.create": {"channels:manage", "groups:write"},
    "conversations.invite": {"channels:manage", "groups:write"},
    "conversations.members": {"groups:read"},
}
#: Bolt event type → the subscription(s) that deliver it.
EVENT_SUBSCRIPTIONS = {
    "message": {"message.channels", "message.groups"},
    "reaction_added": {"reaction_added"},
    "reaction_removed": {"reaction_removed"},
}
#: Event subscription → the bot scope it needs (https://docs.slack.dev/reference/events/<e>).
EVENT_SCOPES = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
}


def _code() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py")
                     if p.name != "simulator.py" and "fakeslack" not in p.parts)


def called_methods() -> set[str]:
    """Web API methods the bot calls (``client.chat_postMessage(`` → ``chat.postMessage``), also
    through the pagination helper (``pages(client.conversations_list,``)."""
    found = set()
    for name in re.findall(r"client\.([a-z]+_[A-Za-z0-9_]+)[(,]", _code()):
        if name == "files_upload_v2":  # slack_sdk's helper over the two upload methods
            found |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
            continue
        family, _, method = name.partition("_")
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), method)
        found.add(f"{family}.{camel}")
    return found


def test_every_called_method_is_known_and_granted() -> None:
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    methods = called_methods()
    assert {"chat.postMessage", "conversations.create", "pins.add"} <= methods
    for method in sorted(methods):
        assert method in METHOD_SCOPES, f"add {method} to METHOD_SCOPES with its scopes"
        needed = METHOD_SCOPES[method]
        assert not needed or needed & granted, f"{method} needs one of {needed}"
        missing = KIND_NEEDS.get(method, set()) - granted
        assert not missing, f"{method} needs {missing} for the conversations Sitrep uses"


def test_private_incidents_need_the_groups_scopes_and_message_groups() -> None:
    """Private incident channels: created and joined with groups:write, membership read with
    groups:read, their messages delivered as message.groups (needs groups:history)."""
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"groups:write", "groups:read", "groups:history"} <= granted
    assert "message.groups" in MANIFEST["settings"]["event_subscriptions"]["bot_events"]


def listened_events() -> set[str]:
    return set(re.findall(r"app\.event\(\s*[\"']([a-z_]+)[\"']", _code()))


def test_every_event_listened_to_is_subscribed() -> None:
    subscribed = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    for event in listened_events():
        assert EVENT_SUBSCRIPTIONS[event] & subscribed, f"subscribe to {event}"


def test_nothing_is_granted_or_subscribed_that_nothing_uses() -> None:
    """Each scope is needed by a method called, an event subscribed or the slash command."""
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    subscribed = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    delivered = set().union(*(EVENT_SUBSCRIPTIONS[e] for e in listened_events()))
    assert subscribed <= delivered, f"subscribed but not listened to: {subscribed - delivered}"
    needed = {"commands"} if MANIFEST["features"].get("slash_commands") else set()
    needed |= {EVENT_SCOPES[e] for e in subscribed}
    for method in called_methods():
        needed |= KIND_NEEDS.get(method) or METHOD_SCOPES[method]
    assert granted <= needed, f"granted but unused: {sorted(granted - needed)}"
    assert needed <= granted, f"needed but not granted: {sorted(needed - granted)}"


def test_the_messages_tab_is_on_because_the_bot_sends_dms() -> None:
    """Slack refuses an app's DMs (messages_tab_disabled) while its Messages tab is off."""
    assert "conversations.open" in called_methods()
    home = MANIFEST["features"]["app_home"]
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is False  # /incident works in the DM too


def test_readme_gives_the_reason_for_every_scope() -> None:
    readme = (ROOT / "README.md").read_text()
    setup = readme[readme.index("## Setting Sitrep up"):readme.index("## Commands")]
    for scope in MANIFEST["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in setup, f"README: say why {scope} is needed"
    assert "Messages Tab" in setup


def test_sign_in_with_slack_is_declared_as_the_web_view_asks_for_it() -> None:
    """The user scopes are exactly those the web view requests (openid always), and the
    redirect URL is its callback (https://docs.slack.dev/authentication/sign-in-with-slack)."""
    from bot.web.auth import CALLBACK_PATH, SCOPES

    oauth = MANIFEST["oauth_config"]
    assert "openid" in SCOPES
    assert sorted(oauth["scopes"]["user"]) == sorted(SCOPES)
    assert [url.split("/", 3)[3] for url in oauth["redirect_urls"]] == [CALLBACK_PATH[1:]]
    readme = (ROOT / "README.md").read_text()
    for scope in SCOPES:
        assert f"`{scope}`" in readme, f"README: say why the user scope {scope} is needed"


def test_command_shortcuts_and_interactivity_are_declared() -> None:
    features = MANIFEST["features"]
    assert [c["command"] for c in features["slash_commands"]] == [COMMAND]
    assert features["slash_commands"][0]["should_escape"] is True
    shortcuts = {s["callback_id"] for s in features.get("shortcuts", [])}
    for callback_id in re.findall(r"app\.shortcut\(\s*[\"']([a-z_]+)[\"']", _code()):
        assert callback_id in shortcuts
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is False
