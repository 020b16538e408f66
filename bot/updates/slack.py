"""``/incident update``: post a status update for stakeholders (the Slack side).

The update is recorded first (``rules.post_update``: one transaction), then posted after the
ack: in the incident's channel; in ``ANNOUNCE_CHANNEL``; and in the channel the incident was
declared in (unless ``UPDATES_TO_ORIGIN=false``). A private incident's updates stay in its
own channel (``access.may_post_in``).

Outside the incident's channel, updates go in one thread per channel, under Sitrep's first
message there about the incident (``announcements``): the start announcement in
``ANNOUNCE_CHANNEL``, recorded when it was posted. The announcement where ``/incident
start`` was typed went through the command's response URL, which gives no ``ts``; there
(and wherever no announcement was recorded) the first update is posted at the top level and
becomes the thread root. An update that changes the status is also broadcast to the channel
(``reply_broadcast``): a resolution is what people skimming the channel need to see, while
routine updates stay in the thread.

Every post carries message metadata naming the incident, the update and the channel
(``UPDATE``), so a post whose answer was lost is looked up before it is repeated
(``bot.slack.client.post_once``).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.common.errors import UserError
from bot.common.text import clean
from bot.common.timeparse import format_time
from bot.deps import Deps
from bot.incidents import access, privacy
from bot.incidents import channel as incident_channel
from bot.incidents import rules as incidents
from bot.incidents import slack as incident_slack
from bot.nudges import blocks as nudge_blocks
from bot.nudges import slack as nudges
from bot.postmortem import slack as postmortem
from bot.slack import limits
from bot.slack.client import UNREACHABLE_ERRORS, error_code, join_and_post, reason
from bot.slack.commands import COMMAND, Ctx, subcommand
from bot.slack.router import guarded
from bot.updates import blocks, rules
from storage.models import Incident

log = logging.getLogger(__name__)
#: Metadata event type of a posted status update.
UPDATE = "sitrep_status_update"
WHAT = "post status updates"


@subcommand("update", "update [<status>] <text>",
            "Post a status update here, in the announcement channel and where the incident "
            "was declared (no text opens a form)", order=9)
def update(ctx: Ctx) -> str | None:
    inc = ctx.require_incident()
    draft = rules.parse(ctx.args)
    incident_slack.require_may_change(ctx, WHAT)
    if not draft.text:
        if not ctx.trigger_id:
            raise UserError(f"Say what is happening: {rules.USAGE}.")
        open_form(ctx.deps, ctx.client, ctx.trigger_id, inc, ctx.user_id, draft.status)
        return None
    posted = rules.post_update(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                               impact=draft.text, status=draft.status,
                               every=ctx.deps.settings.update_every)
    return publish(ctx.deps, ctx.client, posted, ctx.user_id)


def open_form(deps: Deps, client: WebClient, trigger_id: str, incident: Incident,
              user_id: str, status: str | None = None) -> None:
    """Open the update form for ``incident`` (``status`` preselected, else its own).

    Raises ``UserError`` (saying who may) when ``INCIDENT_RESTRICT`` does not let
    ``user_id`` post updates; the update nudge's *Post an update* button calls this too.
    """
    incident_slack.refuse_unless_may_change(deps, incident, user_id, WHAT)
    client.views_open(trigger_id=trigger_id,
                      view=blocks.update_form(incident, deps.settings.update_every, status))


def update_reason(incident: Incident, posted: rules.Posted, channel_id: str) -> dict[str, Any]:
    """The metadata of an update's message in ``channel_id``: which incident, which update
    (its number, and its timeline entry's, which is never reused), where."""
    return reason(UPDATE, incident=incident.ref, update=posted.number, entry=posted.seq,
                  channel=channel_id)


def outside_channels(deps: Deps, client: WebClient, incident: Incident) -> list[str]:
    """Where an update goes besides the incident's channel: ``ANNOUNCE_CHANNEL``, then the
    channel it was declared in (``UPDATES_TO_ORIGIN``); never elsewhere for a private one."""
    found: list[str] = []
    configured = deps.settings.announce_channel
    if configured:
        try:
            target = deps.channels.resolve(client, configured)
        except SlackApiError as exc:
            log.warning("ANNOUNCE_CHANNEL %s not found: %s", configured, error_code(exc))
            target = None
        if target:
            found.append(target)
    origin = incident.origin_channel_id
    # A DM between people (``D…``) never has Sitrep in it: its start announcement went
    # through the command's response URL, and nothing later can follow it there.
    if deps.settings.updates_to_origin and origin and not origin.startswith("D"):
        found.append(origin)
    kept = []
    for channel in found:
        if (channel not in kept and channel != incident.channel_id
                and access.may_post_in(incident, channel)):
            kept.append(channel)
    return kept


def publish(deps: Deps, client: WebClient, posted: rules.Posted, actor: str) -> str:
    """Post a recorded update everywhere it goes, refresh the card; the confirmation for the
    person who posted it (what went where, what could not)."""
    incident, tz = posted.incident, deps.settings.timezone
    incident_channel.refresh_card(deps, client, incident)
    done: list[str] = []
    trouble: list[str] = []
    if incident.channel_id:
        text, content = blocks.update_message(incident, posted, actor, tz, outside=False)
        if _post(client, incident.channel_id, trouble, text=text, blocks=content,
                 metadata=update_reason(incident, posted, incident.channel_id)):
            done.append("here")
    for channel in outside_channels(deps, client, incident):
        text, content = blocks.update_message(incident, posted, actor, tz, outside=True)
        root = incidents.announcement_root(deps.db, incident.id, channel)
        thread: dict[str, Any] = {}
        if root:
            thread = {"thread_ts": root, "reply_broadcast": posted.status_changed}
        sent = _post(client, channel, trouble, text=text, blocks=content,
                     metadata=update_reason(incident, posted, channel), **thread)
        if sent is None:
            continue
        if not root:  # the first message about it here: later updates thread under it
            incidents.record_announcement(deps.db, deps.clock, incident.id, channel,
                                          sent["ts"])
        done.append(f"in <#{channel}>")
    nudges.withdraw(deps, client, incident, actor)  # the pending nudge is answered
    if posted.resolved_now:
        postmortem.prompt_after_resolve(deps, client, incident)
    return confirmation(posted, done, trouble, tz)


def _post(client: WebClient, channel: str, trouble: list[str], **message: Any
          ) -> dict[str, Any] | None:
    """One post (joining a public channel first if need be); a refusal is noted, not raised:
    the update is recorded, and the other channels still get it."""
    try:
        return join_and_post(client, channel, **message)
    except SlackApiError as exc:
        code = error_code(exc)
        log.warning("status update in %s refused: %s", channel, code)
        hint = (" (invite Sitrep there)" if code in ("channel_not_found", "not_in_channel")
                else "")
        trouble.append(f"<#{channel}>: Slack refused it (`{code}`){hint}")
    except UNREACHABLE_ERRORS as exc:
        log.warning("status update in %s: no answer from Slack (%s)", channel,
                    exc.__class__.__name__)
        trouble.append(f"<#{channel}>: Slack did not answer; check there before posting again")
    return None


def confirmation(posted: rules.Posted, done: list[str], trouble: list[str], tz: Any) -> str:
    """``Update #2 of INC-7 posted here and in #incidents. Next update by … CET.``"""
    where = (", ".join(done[:-1]) + " and " + done[-1]) if len(done) > 1 else \
        (done[0] if done else "nowhere")
    text = f":white_check_mark: Update #{posted.number} of {posted.incident.ref} posted {where}."
    if posted.status_change:
        text += f" {posted.status_change}."
    inc = posted.incident
    if posted.resolved_now and inc.ended_at and not inc.ended_at_set:
        text += (f" Impact end recorded as {format_time(inc.ended_at, tz)} "
                 f"(`{COMMAND} ended &lt;time&gt;` corrects it).")
    text += f" {blocks.when_next(posted.next_update_at, posted.status, tz)}."
    if trouble:
        text += "\n:warning: Not posted in " + "; ".join(trouble) + "."
    return limits.fit(text, limits.READABLE_TEXT)


def _value(view: dict[str, Any], block: str) -> Any:
    value = view.get("state", {}).get("values", {}).get(block, {}).get("value", {})
    if value.get("type") == "static_select":
        return (value.get("selected_option") or {}).get("value")
    return value.get("value")


def register(app: App, deps: Deps) -> None:
    @app.action(nudge_blocks.POST_UPDATE)
    def on_nudge_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """A nudge's *Post an update*: the form (``views.open`` within the trigger's 3 s)."""
        ack()
        deps.run_after_ack(run_nudge_button, body, client)

    def run_nudge_button(body: dict[str, Any], client: WebClient) -> None:
        team_id = str((body.get("team") or {}).get("id") or "")

        def work() -> str | None:
            incident = incidents.get(deps.db, nudges.button_incident(body), team_id)
            open_form(deps, client, body["trigger_id"], incident, body["user"]["id"])
            return None

        guarded(Respond(response_url=body.get("response_url")), work)

    @app.view(blocks.FORM)
    def on_form(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                client: WebClient) -> None:
        """Mistakes are shown in the form (no I/O before the ack); the rest runs after it."""
        incident_id, severity = blocks.form_metadata(view.get("private_metadata"))
        status = _value(view, "status") or ""
        errors: dict[str, str] = {}
        if not clean(_value(view, "impact") or ""):
            errors["impact"] = "Say what is happening for the people affected."
        try:
            chosen = rules.parse_choice(_value(view, "next_in"))
            problem = rules.check_next(status, severity or "", deps.settings.update_every,
                                       chosen)
        except UserError as exc:
            problem = exc.message
        if problem:
            errors["next_in"] = problem
        if errors:
            ack(response_action="errors",
                errors={k: limits.fit(v, 150) for k, v in errors.items()})
            return
        ack()
        if incident_id is None:
            log.warning("update form without its incident; nothing posted")
            return
        deps.run_after_ack(run_form, body, view, client, incident_id)

    def run_form(body: dict[str, Any], view: dict[str, Any], client: WebClient,
                 incident_id: int) -> None:
        user_id = body["user"]["id"]
        incident = incidents.get(deps.db, incident_id, body["team"]["id"])

        def respond(text: str, **_: Any) -> None:
            """Only the person who posted sees it, in the incident's channel."""
            if incident.channel_id:
                client.chat_postEphemeral(channel=incident.channel_id, user=user_id, text=text)

        def work() -> str | None:
            if not privacy.can_see(deps, client, incident, user_id):
                log.warning("update form for %s from a non-member; refused", incident.ref)
                return None  # a private incident does not exist for them: say nothing
            incident_slack.refuse_unless_may_change(deps, incident, user_id, WHAT)
            posted = rules.post_update(
                deps.db, deps.clock, incident.id, user_id, impact=_value(view, "impact") or "",
                status=_value(view, "status"), next_steps=_value(view, "next_steps"),
                next_in=rules.parse_choice(_value(view, "next_in")),
                every=deps.settings.update_every)
            return publish(deps, client, posted, user_id)

        guarded(respond, work)

