"""Slack side of the postmortem follow-up (``followup.py``): the DM to the lead, the notice in
the incident's channel when there is no lead to tell, and the DM's *Publish* button.

``FollowupKind`` is the ``Kind`` the pump of due work (``bot.due.pump``) delivers through.
Each DM carries metadata naming the incident and which follow-up of it this is
(``FOLLOWUP``), so one whose pass died before recording it is found in the lead's DM, not
sent twice (``find``). The button runs the same publication as ``/incident postmortem
publish`` (``bot.postmortem.slack.publish``), in the incident's channel.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.common.errors import NotFound, UserError
from bot.common.text import mrkdwn
from bot.common.timeparse import format_time
from bot.deps import Deps
from bot.due.outcome import Later, Outcome, Retry, Sent, Unreachable
from bot.due.pump import Verdict
from bot.incidents import privacy
from bot.incidents import rules as incidents
from bot.postmortem import compile as postmortem
from bot.postmortem import followup
from bot.postmortem import slack as postmortem_slack
from bot.slack import limits
from bot.slack.client import error_code, find_posted, is_timeout, join_and_post, post_once, reason
from bot.slack.commands import COMMAND, Ctx
from bot.slack.router import guarded
from bot.tasks.notify import CLOCK_SKEW, classify
from storage import followups
from storage.models import DueWork, Incident

log = logging.getLogger(__name__)

#: Metadata event types: the DM to the lead (incident, n-th follow-up), and the notice in the
#: incident's channel when there is no lead to DM.
FOLLOWUP = "sitrep_postmortem_followup"
NO_LEAD = "sitrep_postmortem_no_lead"
#: The DM's button: publish the postmortem (its value is the incident's id).
PUBLISH_ACTION = "postmortem_publish"


def _day(moment: dt.datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}"


def followup_dm(incident: Incident, st: followup.State, missing: list[str], zone: ZoneInfo,
                days: int) -> tuple[str, list[dict[str, Any]]]:
    """The DM to the lead: what is overdue, what is still missing, and the *Publish* button."""
    title = limits.fit(mrkdwn(incident.title), 300)
    where = f" in <#{incident.channel_id}>" if incident.channel_id else ""
    head = (f":memo: *The postmortem of {incident.ref} ({title}) is not published yet.* "
            f"{incident.ref} was resolved on {_day(st.resolved_at, zone)}; its postmortem was "
            f"due {days} working day{'s' if days != 1 else ''} later, on "
            f"{_day(st.due_at, zone)}.")
    if missing:
        lines, left = limits.fit_lines(missing, limits.SECTION_TEXT - 300)
        if left:
            lines.append(limits.and_more(left))
        body = f"*Still missing* (record it{where}):\n" + "\n".join(lines)
    else:
        body = ":white_check_mark: Everything a postmortem needs is recorded: it only needs " \
               "publishing."
    note = (f"Publishing posts it{where} and uploads it as Markdown (`{COMMAND} postmortem`"
            f"{where} shows the draft first). Until it is published I'll remind you once a "
            "week.")
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": limits.fit(head, 3000)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": limits.fit(body, 3000)}},
        {"type": "actions", "block_id": "postmortem_followup", "elements": [
            {"type": "button", "action_id": PUBLISH_ACTION, "style": "primary",
             "text": {"type": "plain_text", "text": "Publish the postmortem"},
             "value": str(incident.id)}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]},
    ]
    return f"The {incident.ref} postmortem is not published yet", blocks


def no_lead_notice(incident: Incident, gone: str | None, code: str | None,
                   missing: list[str]) -> str:
    """What the incident's channel is told when there is no lead to remind."""
    who = (f"I can't reach its lead <@{gone}> any more (`{code}`)" if gone
           else "it has no lead to remind")
    lines, left = limits.fit_lines(missing, limits.READABLE_TEXT - 600)
    if left:
        lines.append(limits.and_more(left))
    still = ("\nStill missing:\n" + "\n".join(lines)) if lines else ""
    return (f":memo: The postmortem of *{incident.ref}* is overdue and not published, and "
            f"{who}.{still}\nPublish it with `{COMMAND} postmortem publish`, or hand the lead "
            f"to someone with `{COMMAND} lead @someone` and I'll remind them.")


class FollowupKind:
    """The postmortem follow-up as a kind of due work (``bot.due.pump.Kind``)."""

    name = followup.KIND

    def __init__(self, deps: Deps, client: WebClient) -> None:
        self.deps = deps
        self.client = client
        self.policy = followup.Policy.from_settings(deps.settings)
        #: Row id → when it is next due, worked out while delivering (``next_at`` asks).
        self._next: dict[int, dt.datetime | None] = {}

    def ensure(self, session: Session, now: dt.datetime) -> None:
        followup.backfill(session, now)

    def check(self, session: Session, row: DueWork, now: dt.datetime) -> Verdict:
        return followup.check(session, row, now, self.policy)

    def _state(self, row: DueWork) -> followup.State | None:
        with self.deps.db.session() as s:
            return followup.state(s, row.incident_id, self.policy)

    def _missing(self, incident: Incident) -> list[str]:
        pm = postmortem_slack.compile_postmortem(self.deps, self.client, incident)
        return postmortem_slack.missing_lines(
            postmortem.missing(pm, self.deps.settings.timeline_emoji))

    def deliver(self, row: DueWork, now: dt.datetime) -> Outcome:
        st = self._state(row)
        if st is None:  # published, reopened or gone since the claim
            return Later(None)
        incident, lead = st.incident, st.incident.lead_user_id
        n = row.runs + 1
        gone, code = None, None
        if lead:
            person = self.deps.people.get(self.client, lead)
            if person.deleted:
                # Slack accepts DMs to a deactivated person; only the profile tells.
                gone, code = lead, "user_disabled"
            else:
                zone = person.zone(self.deps.settings.timezone)
                slot = followup.slot_at_or_after(self.policy, zone,
                                                 max(st.due_at, row.due_at or st.due_at))
                if slot is None:
                    return Later(None)
                if slot > now:  # the cached zone was not the lead's: their slot is later
                    return Later(slot)
                text, blocks = followup_dm(incident, st, self._missing(incident), zone,
                                           self.policy.due_days)
                outcome = self._dm(lead, text, blocks, reason(FOLLOWUP, incident=incident.ref,
                                                              n=n))
                if isinstance(outcome, Sent):
                    self._next[row.id] = followup.next_week(self.policy, zone, slot, now)
                if not isinstance(outcome, Unreachable):
                    return outcome
                gone, code = lead, outcome.code
        return self._tell_channel(row, incident, gone, code, n)

    def _dm(self, user: str, text: str, blocks: list, metadata: dict) -> Outcome:
        try:
            channel = self.client.conversations_open(users=user)["channel"]["id"]
            resp = post_once(self.client, channel, text=text, blocks=blocks, metadata=metadata)
        except SlackApiError as exc:
            return classify(error_code(exc))
        except Exception as exc:  # a timed-out post may still land: ``find`` checks first
            return Retry(exc.__class__.__name__, uncertain=is_timeout(exc))
        return Sent(resp["channel"], resp["ts"])

    def _tell_channel(self, row: DueWork, incident: Incident, gone: str | None,
                      code: str | None, n: int) -> Outcome:
        """No lead to DM: say so in the incident's channel, once (then nothing more is due
        until someone is made lead)."""
        if not incident.channel_id:
            return Later(None)
        text = no_lead_notice(incident, gone, code, self._missing(incident))
        try:
            resp = join_and_post(self.client, incident.channel_id, text=text,
                                 metadata=reason(NO_LEAD, incident=incident.ref, n=n))
        except SlackApiError as exc:
            outcome = classify(error_code(exc))
            return outcome if not isinstance(outcome, Unreachable) else Later(None)
        except Exception as exc:
            return Retry(exc.__class__.__name__, uncertain=is_timeout(exc))
        self._next[row.id] = None
        return Sent(resp["channel"], resp["ts"])

    def find(self, row: DueWork, since: dt.datetime) -> Sent | None:
        """The DM (or the channel notice) of this follow-up, if it landed after ``since``."""
        st = self._state(row)
        if st is None:
            return None
        incident, n = st.incident, row.runs + 1
        oldest = since.timestamp() - CLOCK_SKEW.total_seconds()
        if incident.lead_user_id:
            channel = self.client.conversations_open(
                users=incident.lead_user_id)["channel"]["id"]
            found = find_posted(self.client, channel,
                                reason(FOLLOWUP, incident=incident.ref, n=n), oldest=oldest)
            if found is not None:
                zone = self.deps.people.get(self.client, incident.lead_user_id).zone(
                    self.deps.settings.timezone)
                slot = row.due_at or since
                self._next[row.id] = followup.next_week(self.policy, zone, slot, since)
                return Sent(channel, found["ts"])
        if incident.channel_id:
            found = find_posted(self.client, incident.channel_id,
                                reason(NO_LEAD, incident=incident.ref, n=n), oldest=oldest)
            if found is not None:
                self._next[row.id] = None
                return Sent(incident.channel_id, found["ts"])
        return None

    def next_at(self, row: DueWork, now: dt.datetime) -> dt.datetime | None:
        if row.id in self._next:
            return self._next.pop(row.id)
        return followup.next_week(self.policy, self.policy.zone, row.due_at or now, now)

    def superseded(self, row: DueWork, sent: Sent) -> None:
        """Published, reopened or handed over while the DM went out: it stays (it was true a
        moment ago), and the next claim sees the change."""


def register(app: App, deps: Deps) -> None:
    @app.action(PUBLISH_ACTION)
    def on_publish(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.run_after_ack(run_publish, body, client)

    def run_publish(body: dict[str, Any], client: WebClient) -> None:
        respond = Respond(response_url=body.get("response_url"))
        user = body["user"]["id"]
        team_id = str((body.get("team") or {}).get("id") or "")
        container = body.get("container") or {}
        dm_channel, dm_ts = container.get("channel_id"), container.get("message_ts")
        action = body["actions"][0]

        def work() -> str | None:
            try:
                incident_id = int(action.get("value", ""))
            except ValueError:
                raise UserError("That button no longer works; run "
                                f"`{COMMAND} postmortem publish` in the incident's channel.") \
                    from None
            incident = incidents.get(deps.db, incident_id, team_id)
            if not privacy.can_see(deps, client, incident, user):
                raise NotFound("That incident no longer exists.")
            if not incident.channel_id:
                raise UserError(f"{incident.ref} has no channel to publish its postmortem in.")
            ctx = Ctx(deps=deps, client=client, team_id=team_id, user_id=user,
                      channel_id=incident.channel_id, args="publish", respond=respond,
                      incident=incident, response_url=body.get("response_url"))
            reply = postmortem_slack.publish(ctx)
            _mark_published(deps, client, dm_channel, dm_ts, incident, user)
            return reply

        guarded(respond, work)


def _mark_published(deps: Deps, client: WebClient, channel: str | None, ts: str | None,
                    incident: Incident, user: str) -> None:
    """Turn the DM into a note that it was published (no button left to press twice)."""
    if not (channel and ts):
        return
    with deps.db.session() as s:
        found = followups.resolution(s, incident.id)
    if found is None or not found[2]:
        return
    zone = deps.people.get(client, user).zone(deps.settings.timezone)
    text = (f":white_check_mark: <@{user}> published the {incident.ref} postmortem in "
            f"<#{incident.channel_id}> ({format_time(deps.clock.now(), zone)}).")
    try:
        client.chat_update(channel=channel, ts=ts, text=text,
                           blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
    except SlackApiError as exc:
        log.warning("updating the follow-up DM of %s failed: %s", incident.ref, error_code(exc))
