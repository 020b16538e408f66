"""Who may see an incident, where it may be shown, and who may change it. Pure.

Everything that lets an incident's data leave Sitrep asks here: ``/incident list``,
``mytasks``, task DMs, announcements, the postmortem's publication, the message shortcut's
choice of incidents and its modal. A private incident exists only for the members of its
channel; Slack is the authority on who they are, and the Slack side passes them in
(``bot.slack.members``, cached briefly), so the rule itself stays a plain function.

A private incident whose channel is unknown (Slack refused to create it) is seen by the
person who opened it only; when membership could not be read (``members`` is ``None``),
nobody else sees it: privacy fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TypeVar

from storage.models import Incident

#: ``INCIDENT_RESTRICT``: who may change severity, status, roles, resolve or reopen.
RESTRICT_ANYONE = "anyone"
RESTRICT_ROLES = "roles"
RESTRICT_MODES = (RESTRICT_ANYONE, RESTRICT_ROLES)
#: The role every incident has; stored as ``Incident.lead_user_id``.
LEAD = "lead"

Members = Callable[[str], "Collection[str] | None"]
T = TypeVar("T")


def may_see(incident: Incident, user_id: str, members: Collection[str] | None) -> bool:
    """Whether ``user_id`` may see ``incident``, given its channel's ``members``.

    A public incident: anyone in the workspace. A private one: the members of its channel
    (``None``: not known, so no one), or before it has a channel, the person who opened it.
    """
    if not incident.is_private:
        return True
    if not incident.channel_id:
        return bool(user_id) and user_id == incident.created_by
    return bool(user_id) and members is not None and user_id in members


def members_needed(incident: Incident) -> bool:
    """Whether deciding ``may_see`` needs the channel's members (only for a private one)."""
    return incident.is_private and bool(incident.channel_id)


def visible(items: Iterable[T], user_id: str, members: Members,
            incident_of: Callable[[T], Incident] | None = None) -> list[T]:
    """The items (incidents, or rows naming one) whose incident ``user_id`` may see.

    ``members(channel_id)`` is asked only for private incidents, once per channel.
    """
    known: dict[str, Collection[str] | None] = {}
    kept = []
    for item in items:
        incident = incident_of(item) if incident_of else item
        assert isinstance(incident, Incident)
        found: Collection[str] | None = None
        if members_needed(incident):
            channel = str(incident.channel_id)
            if channel not in known:
                known[channel] = members(channel)
            found = known[channel]
        if may_see(incident, user_id, found):
            kept.append(item)
    return kept


def may_act_on_task(incident: Incident, owner: str, user_id: str,
                    members: Collection[str] | None) -> bool:
    """Whether ``user_id`` may see and change a task of ``incident`` owned by ``owner``:
    anyone who may see the incident, and the task's owner (told of it without its name)."""
    return user_id == owner or may_see(incident, user_id, members)


def may_post_in(incident: Incident, channel_id: str | None) -> bool:
    """Whether a message about ``incident`` may be posted in ``channel_id``.

    A private incident is spoken of only in its own channel: never announced elsewhere, its
    postmortem published only there.
    """
    if not incident.is_private:
        return True
    return bool(channel_id) and channel_id == incident.channel_id


def holders(incident: Incident) -> dict[str, str]:
    """Role → user id for every role held, the lead first."""
    held = {LEAD: incident.lead_user_id} if incident.lead_user_id else {}
    for role, user in (incident.roles or {}).items():
        if user and role != LEAD:
            held[role] = str(user)
    return held  # type: ignore[return-value]


def may_change(incident: Incident, user_id: str, restrict: str) -> bool:
    """Whether ``user_id`` may change severity, status, roles, resolve or reopen.

    ``restrict`` is ``INCIDENT_RESTRICT``: ``anyone`` (everyone in the channel, the
    default) or ``roles`` (the lead and the holders of a role). An incident nobody holds a
    role of can be changed by anyone, so it is never stuck.
    """
    if restrict != RESTRICT_ROLES:
        return True
    people = set(holders(incident).values())
    return not people or user_id in people


def who_may_change(incident: Incident) -> Sequence[tuple[str, str]]:
    """``(role, user id)`` of everyone ``may_change`` lets through under ``roles``."""
    return list(holders(incident).items())
