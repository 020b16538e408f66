"""Slack-side orchestration around the incident core: channel, card, announcements.

The card and each announcement carry message metadata naming them (``CARD``,
``ANNOUNCEMENT``), so a post whose answer was lost is checked before it is repeated
(``bot.slack.client.post_once``); a channel whose create was answered 5xx is looked up by
name before it is created again (``create_channel_once``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.common import links
from bot.common.errors import UserError
from bot.deps import Deps
from bot.incidents import access, blocks
from bot.incidents import rules as incidents
from bot.slack.client import (
    channel_named,
    create_channel_once,
    error_code,
    invite,
    join_and_post,
    post_once,
    reason,
)
from bot.slack.commands import COMMAND
from storage.db import is_unavailable
from storage.models import Incident

log = logging.getLogger(__name__)
MAX_NAME_ATTEMPTS = 10
#: Metadata event types of the incident card and of an announcement of a new incident.
CARD = "sitrep_incident_card"
ANNOUNCEMENT = "sitrep_incident_announced"


def open_incident(
    deps: Deps, client: WebClient, *, team_id: str, user_id: str, title: str, severity: str,
    description: str | None = None, origin_channel_id: str | None = None,
    respond: Callable[..., Any] | None = None, private: bool = False,
) -> Incident:
    """Store the incident, then set up its channel, card and announcements.

    The incident is stored first: if Slack fails afterwards, nothing is lost and the
    person is told what did not happen. A start cut short by a database outage (the
    channel created, but not yet recorded) is reported as such, and the same start run
    again resumes that incident: its channel, found by name, is attached instead of a
    second incident and channel being opened.
    """
    incident = incidents.unfinished_start(deps.db, deps.clock, team_id=team_id,
                                          user_id=user_id, title=title)
    if incident is None:
        incident = incidents.open_incident(
            deps.db, deps.clock, team_id=team_id, user_id=user_id, title=title,
            severity=severity, description=description, origin_channel_id=origin_channel_id,
            private=private, update_every=deps.settings.update_every,
        )
    else:
        log.info("resuming the unfinished start of %s", incident.ref)
    try:
        return _set_up(deps, client, incident, user_id, respond)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning("database unavailable while setting up %s: %s", incident.ref,
                    exc.__class__.__name__)
        metrics.DATABASE_UNAVAILABLE.inc()
        raise UserError(
            f":warning: {incident.ref} was opened but not finished: Sitrep's database became "
            f"unavailable while setting it up. Run the same `{COMMAND} start` again in a "
            "moment to finish it; it will not open a second incident.") from exc


def _set_up(deps: Deps, client: WebClient, incident: Incident, user_id: str,
            respond: Callable[..., Any] | None) -> Incident:
    """The steps after the incident is stored, skipping those an earlier try finished."""
    if not incident.channel_id:
        try:
            channel_id, name = create_channel(deps, client, incident)
        except SlackApiError as exc:
            log.warning("could not create channel for %s: %s", incident.ref, error_code(exc))
            if respond:
                respond(f":warning: {incident.ref} is recorded, but Slack refused to create "
                        f"its channel (`{error_code(exc)}`). Try `/incident list` in a "
                        "moment, or ask an admin to check Sitrep's permissions.")
            return incident
        incidents.attach_channel(deps.db, incident.id, channel_id, name)
        incident.channel_id, incident.channel_name = channel_id, name
        try:
            invite(client, channel_id, user_id)
        except SlackApiError as exc:
            log.warning("invite to %s failed: %s", name, error_code(exc))
        deps.members.forget(channel_id)
    if not incident.card_ts:
        post_card(deps, client, incident)
        announce(deps, client, incident, respond)
    return incident


def create_channel(deps: Deps, client: WebClient, incident: Incident) -> tuple[str, str]:
    """Create ``<prefix>-<n>-<slug>``, adding ``-2``, ``-3`` … while the name is taken.

    A taken name may be this incident's own channel, created by an earlier try whose
    outcome was never recorded: a channel of that name that Sitrep is in and that no
    incident has is attached instead (the number in the name is this incident's).
    """
    prefix = deps.settings.channel_prefix
    for attempt in range(MAX_NAME_ATTEMPTS):
        name = incidents.channel_name(prefix, incident.number, incident.title, attempt)
        try:
            channel = create_channel_once(client, name, is_private=incident.is_private)
        except SlackApiError as exc:
            if error_code(exc) != "name_taken":
                raise
            found = channel_named(client, name, is_private=incident.is_private)
            if found is not None and incidents.for_channel(deps.db, found["id"], None) is None:
                log.info("attaching %s, left by an earlier try, to %s", name, incident.ref)
                return found["id"], found["name"]
            if attempt + 1 < MAX_NAME_ATTEMPTS:
                continue
            raise
        return channel["id"], channel["name"]
    raise AssertionError("unreachable")


def post_card(deps: Deps, client: WebClient, incident: Incident) -> None:
    """Post and pin the incident card in its channel."""
    text, card = card_content(deps, incident)
    resp = post_once(client, str(incident.channel_id), text=text, blocks=card,
                     metadata=card_reason(incident))
    incidents.set_card(deps.db, incident.id, resp["ts"])
    incident.card_ts = resp["ts"]
    try:
        client.pins_add(channel=incident.channel_id, timestamp=resp["ts"])
    except SlackApiError as exc:
        log.warning("pinning the card of %s failed: %s", incident.ref, error_code(exc))


def announce(deps: Deps, client: WebClient, incident: Incident,
             respond: Callable[..., Any] | None) -> None:
    """Say it where the command was typed, and in ``ANNOUNCE_CHANNEL`` when set; a private
    incident is announced nowhere (``access.may_post_in``)."""
    text = blocks.announcement(incident)
    metadata = reason(ANNOUNCEMENT, incident=incident.ref)
    if (respond and incident.origin_channel_id != incident.channel_id
            and access.may_post_in(incident, incident.origin_channel_id)):
        respond(text=text, response_type="in_channel", metadata=metadata)
    configured = deps.settings.announce_channel
    if not configured:
        return
    try:
        target = deps.channels.resolve(client, configured)
        if (target and target not in (incident.origin_channel_id, incident.channel_id)
                and access.may_post_in(incident, target)):
            posted = join_and_post(client, target, text=text, metadata=metadata)
            # Status updates go in this announcement's thread (``bot.updates``).
            incidents.record_announcement(deps.db, deps.clock, incident.id, target,
                                          posted["ts"])
    except SlackApiError as exc:
        log.warning("announcing %s in %s failed: %s", incident.ref, configured,
                    error_code(exc))


def refresh_card(deps: Deps, client: WebClient, incident: Incident) -> None:
    """Re-render the pinned card after a change (a failure is logged, never raised)."""
    if not (incident.channel_id and incident.card_ts):
        return
    try:
        text, card = card_content(deps, incident)
    except Exception as exc:  # the change is stored; the next refresh shows it
        if not is_unavailable(exc):
            raise
        log.warning("card of %s not refreshed: database unavailable", incident.ref)
        return
    try:
        client.chat_update(channel=incident.channel_id, ts=incident.card_ts, text=text,
                           blocks=card, metadata=card_reason(incident))
    except SlackApiError as exc:
        log.warning("updating the card of %s failed: %s", incident.ref, error_code(exc))


def card_content(deps: Deps, incident: Incident) -> tuple[str, list[dict[str, Any]]]:
    """The card's text and blocks, with the latest status update (one read)."""
    latest = incidents.latest_update(deps.db, incident.id)
    return blocks.incident_card(incident, deps.settings.timezone,
                                deps.settings.incident_roles, latest=latest,
                                page_url=links.incident_page(deps.settings.web_base_url,
                                                             incident.ref))


def card_reason(incident: Incident) -> dict[str, Any]:
    """The card's metadata: which incident it is the card of."""
    return reason(CARD, incident=incident.ref)
