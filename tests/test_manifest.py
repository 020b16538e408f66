"""manifest.yml grants what the code uses: scopes for every Web API call, every event."""

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
    "conversations.history": {"channels:history"},
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
#: Bolt event type → the subscription(s) that deliver it.
EVENT_SUBSCRIPTIONS = {
    "message": {"message.channels"},
    "reaction_added": {"reaction_added"},
    "reaction_removed": {"reaction_removed"},
}


def _code() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py")
                     if p.name != "simulator.py" and "fakeslack" not in p.parts)


def called_methods() -> set[str]:
    """Web API methods the bot calls (``client.chat_postMessage(`` → ``chat.postMessage``)."""
    found = set()
    for name in re.findall(r"client\.([a-z]+_[A-Za-z_]+)\(", _code()):
        if name == "files_upload_v2":
            found.add(name)
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


def test_every_event_listened_to_is_subscribed() -> None:
    subscribed = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    events = set(re.findall(r"app\.event\(\s*[\"']([a-z_]+)[\"']", _code()))
    for event in events:
        assert EVENT_SUBSCRIPTIONS[event] & subscribed, f"subscribe to {event}"


def test_command_shortcuts_and_interactivity_are_declared() -> None:
    features = MANIFEST["features"]
    assert [c["command"] for c in features["slash_commands"]] == [COMMAND]
    assert features["slash_commands"][0]["should_escape"] is True
    shortcuts = {s["callback_id"] for s in features.get("shortcuts", [])}
    for callback_id in re.findall(r"app\.shortcut\(\s*[\"']([a-z_]+)[\"']", _code()):
        assert callback_id in shortcuts
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is False
