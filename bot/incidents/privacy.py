"""The Slack side of ``bot.incidents.access``: the rule, with the channel members read from
Slack (``Deps.members``, cached) only when an incident is private."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from slack_sdk import WebClient

from bot.deps import Deps
from bot.incidents import access
from storage.models import Incident

T = TypeVar("T")


def members_of(deps: Deps, client: WebClient) -> access.Members:
    return lambda channel_id: deps.members.get(client, channel_id)


def can_see(deps: Deps, client: WebClient, incident: Incident, user_id: str) -> bool:
    """Whether ``user_id`` may see ``incident`` (``access.may_see``)."""
    members = (deps.members.get(client, str(incident.channel_id))
               if access.members_needed(incident) else None)
    return access.may_see(incident, user_id, members)


def visible(deps: Deps, client: WebClient, items: Iterable[T], user_id: str,
            incident_of: Callable[[T], Incident] | None = None) -> list[T]:
    """The items whose incident ``user_id`` may see (``access.visible``)."""
    return access.visible(items, user_id, members_of(deps, client), incident_of)
