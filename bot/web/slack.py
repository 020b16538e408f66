"""The web view's one Web API client (channel members, ``auth.test``, ``users.info``)."""

from __future__ import annotations

from flask import current_app
from slack_sdk import WebClient

from bot.slack.client import make_client


def slack_client() -> WebClient:
    """The bot's Web API client, made once per app and shared by every page and sign-in."""
    client = current_app.extensions.get("sitrep_slack")
    if client is None:
        deps = current_app.extensions["sitrep"]
        client = make_client(deps.settings, deps.slack_health)
        current_app.extensions["sitrep_slack"] = client
    return client
