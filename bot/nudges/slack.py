"""Slack side of update nudges: the pump's ``NudgeKind``, its buttons, and withdrawing one.

A nudge is posted in the incident's channel with message metadata naming the incident and
which nudge of it this is (``NUDGE``), so a pass that died after Slack accepted it is found
out (``find``) instead of nudging twice. A new nudge replaces the one still pending (that one
is deleted); an update answers it (``withdraw`` rewrites it without its buttons).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.common.errors import UserError
from bot.deps import Deps
from bot.due.outcome import Outcome, Retry, Sent
from bot.due.pump import Verdict
from bot.nudges import blocks
from bot.nudges import rules as nudges
from bot.slack.client import error_code, find_posted, is_timeout, join_and_post, reason
from bot.slack.router import guarded
from bot.tasks.notify import CLOCK_SKEW, classify
from storage import incidents as incident_repo
from storage.models import DueWork, Incident

log = logging.getLogger(__name__)
#: Metadata event type of a nudge: the incident and the nudge's number.
NUDGE = "sitrep_update_nudge"


def nudge_reason(incident: Incident, row: DueWork) -> dict[str, Any]:
    """A nudge's metadata: its incident and which nudge of it this is (``runs`` + 1)."""
    return reason(NUDGE, incident=incident.ref, nudge=row.runs + 1)


class NudgeKind:
    """Update nudges as a kind of due work (``bot.due.pump.Kind``)."""

    name = nudges.KIND

    def __init__(self, deps: Deps, client: WebClient) -> None:
        self.deps, self.client = deps, client
        self.every = deps.settings.update_every

    def _incident(self, row: DueWork) -> Incident | None:
        with self.deps.db.session() as s:
            return incident_repo.get(s, row.incident_id) if row.incident_id else None

    def ensure(self, session: Session, now: dt.datetime) -> None:
        nudges.backfill(session, self.every, now)

    def check(self, session: Session, row: DueWork, now: dt.datetime) -> Verdict:
        incident = incident_repo.get(session, row.incident_id) if row.incident_id else None
        return nudges.verdict(incident, self.every, now)

    def deliver(self, row: DueWork, now: dt.datetime) -> Outcome:
        incident = self._incident(row)
        step = nudges.interval(incident, self.every) if incident else None
        if incident is None or step is None or not incident.channel_id:
            return Retry("incident changed")  # the next claim's check says it is not due
        lead_gone = bool(incident.lead_user_id) and self.deps.people.get(
            self.client, incident.lead_user_id).deleted
        text, nudge_blocks = blocks.nudge(incident, nudges.since_update(incident, now), step,
                                          lead_gone)
        try:
            resp = join_and_post(self.client, incident.channel_id, text=text,
                                 blocks=nudge_blocks, metadata=nudge_reason(incident, row))
        except SlackApiError as exc:
            return classify(error_code(exc))
        except Exception as exc:  # a timed-out post may still land: ``find`` checks first
            return Retry(exc.__class__.__name__, uncertain=is_timeout(exc))
        if row.message_ts and row.message_channel_id:  # one pending nudge: the latest
            self._delete(row.message_channel_id, row.message_ts)
        return Sent(resp["channel"], resp["ts"])

    def find(self, row: DueWork, since: dt.datetime) -> Sent | None:
        incident = self._incident(row)
        if incident is None or not incident.channel_id:
            return None
        found = find_posted(self.client, incident.channel_id, nudge_reason(incident, row),
                            oldest=since.timestamp() - CLOCK_SKEW.total_seconds(),
                            keys=("incident", "nudge"))
        return Sent(incident.channel_id, found["ts"]) if found is not None else None

    def next_at(self, row: DueWork, now: dt.datetime) -> dt.datetime | None:
        incident = self._incident(row)
        return nudges.next_nudge(incident, self.every, now) if incident else None

    def superseded(self, row: DueWork, sent: Sent) -> None:
        """An update (or snooze) came while this nudge was being posted: take it back."""
        self._delete(sent.channel_id, sent.ts)

    def _delete(self, channel: str, ts: str) -> None:
        try:
            self.client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            if error_code(exc) != "message_not_found":
                log.warning("deleting a nudge in %s failed: %s", channel, error_code(exc))


def withdraw(deps: Deps, client: WebClient, incident: Incident, user_id: str | None) -> None:
    """An update was posted: the pending nudge, if any, is answered (its buttons go)."""
    found = nudges.pending(deps.db, incident.id)
    if found is None:
        return
    channel, ts = found
    text, answered = blocks.answered(incident, user_id)
    try:
        client.chat_update(channel=channel, ts=ts, text=text, blocks=answered)
    except SlackApiError as exc:
        log.warning("marking the nudge of %s answered failed: %s", incident.ref,
                    error_code(exc))
    nudges.answered(deps.db, incident.id, ts)


def register(app: App, deps: Deps) -> None:
    @app.action(re.compile(f"^({blocks.POST_UPDATE}|{blocks.SNOOZE})$"))
    def on_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.run_after_ack(run_button, body, client)

    def run_button(body: dict[str, Any], client: WebClient) -> None:
        respond = Respond(response_url=body.get("response_url"))
        action = body["actions"][0]
        user = body["user"]["id"]
        team_id = str((body.get("team") or {}).get("id") or "")
        container = body.get("container") or {}

        def work() -> str | None:
            try:
                incident_id = int(action.get("value", ""))
            except ValueError:
                raise UserError("That button no longer works; use `/incident update`.") \
                    from None
            if action.get("action_id") == blocks.POST_UPDATE:
                return open_update_form(deps, client, body, team_id, incident_id, user)
            incident, until = nudges.snooze(deps.db, deps.clock, team_id, incident_id)
            text, snoozed = blocks.snoozed(incident, user, until, deps.settings.timezone)
            channel, ts = container.get("channel_id"), container.get("message_ts")
            if channel and ts:
                client.chat_update(channel=channel, ts=ts, text=text, blocks=snoozed)
                nudges.answered(deps.db, incident.id, ts)
            return None

        guarded(respond, work)


def open_update_form(deps: Deps, client: WebClient, body: dict[str, Any], team_id: str,
                     incident_id: int, user_id: str) -> str | None:
    """The *Post an update* button: the same form as ``/incident update`` with no text."""
    from bot.incidents import rules as incidents
    from bot.updates import slack as updates

    incident = incidents.get(deps.db, incident_id, team_id)
    updates.open_form(deps, client, body["trigger_id"], incident, user_id)
    return None
