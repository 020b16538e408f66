"""Incident subcommands: start, list, status, severity, lead, facts, times (started,
detected, ended), resolve, reopen."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.common.errors import UserError
from bot.common.timeparse import TIME_EXAMPLES, format_time, other_days_hint
from bot.deps import Deps
from bot.incidents import blocks
from bot.incidents import channel as incident_channel
from bot.incidents import rules as incidents
from bot.incidents.rules import Change
from bot.postmortem import slack as postmortem
from bot.slack import limits
from bot.slack.client import error_code, invite, post_once
from bot.slack.commands import COMMAND, REGISTRY, Ctx, subcommand
from bot.slack.router import guarded

log = logging.getLogger(__name__)
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def parse_start(args: str) -> tuple[str, str]:
    """``"sev1 Login failures"`` → ``("sev1", "Login failures")``; severity is optional."""
    head, _, rest = args.strip().partition(" ")
    try:
        return incidents.normalize_severity(head), rest.strip()
    except UserError:
        return incidents.DEFAULT_SEVERITY, args.strip()


@subcommand("start", "start [sev1|sev2|sev3|sev4] <title>",
            "Open an incident with its own channel (no title opens a form)",
            needs_incident=False, order=1)
def start(ctx: Ctx) -> str | None:
    if not ctx.args.strip():
        ctx.client.views_open(trigger_id=ctx.trigger_id,
                              view=blocks.start_modal(ctx.channel_id, ctx.response_url))
        return None
    severity, title = parse_start(ctx.args)
    if not title:
        raise UserError(f"Give the incident a title too, e.g. `{COMMAND} start {severity} "
                        "Login failures`.")
    incident = incident_channel.open_incident(
        ctx.deps, ctx.client, team_id=ctx.team_id, user_id=ctx.user_id, title=title,
        severity=severity, origin_channel_id=ctx.channel_id, respond=ctx.respond,
    )
    if incident.channel_id == ctx.channel_id or not incident.channel_id:
        return None
    return f"{incident.ref} is open. I've added you to <#{incident.channel_id}> as lead."


@subcommand("list", "list", "Open incidents in this workspace", needs_incident=False, order=2)
def list_open(ctx: Ctx) -> str:
    found = incidents.list_open(ctx.deps.db, ctx.team_id)
    if not found:
        return f"No open incidents. :tada: Start one with `{COMMAND} start <title>`."
    header = f"*{len(found)} open incident{'s' if len(found) != 1 else ''}:*"
    lines, left_out = limits.fit_lines([blocks.incident_line(i, ctx.tz) for i in found],
                                       limits.READABLE_TEXT - len(header) - 1)
    if left_out:
        lines.append(limits.and_more(left_out, "more (the oldest)"))
    return "\n".join([header, *lines])


@subcommand("help", "help", "This list", needs_incident=False, order=3)
def help_(ctx: Ctx) -> str:
    return REGISTRY.help_text()


def _apply(ctx: Ctx, change: Change, hint: str = "") -> str | None:
    """After a change: refresh the card and tell the channel; otherwise say why not."""
    if not change.changed:
        return change.message
    incident_channel.refresh_card(ctx.deps, ctx.client, change.incident)
    inc = change.incident
    just_resolved = inc.status == "resolved" and ctx.require_incident().status != "resolved"
    if just_resolved and inc.ended_at and not inc.ended_at_set:  # resolving stored the end
        hint += (f" Impact end recorded as {format_time(inc.ended_at, ctx.tz)} "
                 f"(`{COMMAND} ended &lt;time&gt;` corrects it).")
    ctx.respond(text=f"<@{ctx.user_id}>: {change.message}.{hint}", response_type="in_channel")
    if just_resolved:
        postmortem.prompt_after_resolve(ctx.deps, ctx.client, change.incident)
    return None


def _one_arg(ctx: Ctx, usage: str) -> str:
    if not ctx.args.strip():
        raise UserError(f"Usage: `{COMMAND} {usage}`")
    return ctx.args.strip()


@subcommand("status", "status investigating|identified|monitoring|resolved",
            "Set the incident's status", order=10)
def status(ctx: Ctx) -> str | None:
    value = _one_arg(ctx, "status investigating|identified|monitoring|resolved")
    inc = ctx.require_incident()
    return _apply(ctx, incidents.set_status(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                                            value))


@subcommand("severity", "severity sev1|sev2|sev3|sev4", "Set the severity", aliases=("sev",),
            order=11)
def severity(ctx: Ctx) -> str | None:
    value = _one_arg(ctx, "severity sev1|sev2|sev3|sev4")
    inc = ctx.require_incident()
    return _apply(ctx, incidents.set_severity(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                                              value))


@subcommand("lead", "lead @user", "Hand the lead to someone", order=12)
def lead(ctx: Ctx) -> str | None:
    match = _MENTION.match(ctx.args.strip())
    if not match:
        raise UserError(f"Mention the new lead, e.g. `{COMMAND} lead @alice`.")
    if ctx.deps.people.get(ctx.client, match.group(1)).deleted:
        raise UserError("I can't find that person in this workspace; mention someone active.")
    inc = ctx.require_incident()
    change = incidents.set_lead(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                                match.group(1))
    trouble = None
    if change.changed and inc.channel_id:
        try:
            invite(ctx.client, inc.channel_id, match.group(1))
        except SlackApiError as exc:  # the new lead is recorded: say what did not happen
            trouble = (f":warning: Slack would not add <@{match.group(1)}> to this channel "
                       f"(`{error_code(exc)}`); please invite them yourself.")
    return _apply(ctx, change) or trouble


def _fact_handler(fact: str):  # type: ignore[no-untyped-def]
    def handler(ctx: Ctx) -> str | None:
        inc = ctx.require_incident()
        return _apply(ctx, incidents.set_fact(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                                              fact, ctx.args))

    return handler


for _order, (_fact, _summary) in enumerate([
    ("summary", "Record a short summary"),
    ("impact", "Record the impact on users"),
    ("cause", "Record the root cause"),
    ("resolution", "Record how it was resolved"),
    ("detection", "Record how it was detected"),
    ("escalation", "Record how it was escalated"),
    ("misleading", "Record a misleading path the team went down"),
]):
    subcommand(_fact, f"{_fact} <text>", _summary, order=20 + _order)(_fact_handler(_fact))


def _set_time(ctx: Ctx, usage: str, setter, *,  # type: ignore[no-untyped-def]
              after_start: bool = False) -> str | None:
    """Read the time as the person means it for this incident, then ``setter`` stores it."""
    text = _one_arg(ctx, usage)
    inc = ctx.require_incident()
    reading = incidents.read_time(ctx.deps.db, inc, text, ctx.tz, ctx.deps.clock.now(),
                                  not_before=inc.started_at if after_start else None)
    change = setter(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id, reading.when, ctx.tz)
    return _apply(ctx, change, other_days_hint(reading, ctx.tz))


@subcommand("started", "started <time>", f"When the impact began ({TIME_EXAMPLES})", order=30)
def started(ctx: Ctx) -> str | None:
    return _set_time(ctx, "started <time>", incidents.set_started)


@subcommand("detected", "detected <time>", "When the problem was detected", order=31)
def detected(ctx: Ctx) -> str | None:
    return _set_time(ctx, "detected <time>", incidents.set_detected, after_start=True)


@subcommand("ended", "ended <time>", "When the impact ended", order=32)
def ended(ctx: Ctx) -> str | None:
    return _set_time(ctx, "ended <time>", incidents.set_ended, after_start=True)


@subcommand("resolve", "resolve [<resolution>]", "Resolve now (records the end time)",
            order=33)
def resolve(ctx: Ctx) -> str | None:
    inc = ctx.require_incident()
    return _apply(ctx, incidents.resolve(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                                         ctx.args.strip() or None))


@subcommand("reopen", "reopen", "Reopen a resolved incident", order=34)
def reopen(ctx: Ctx) -> str | None:
    inc = ctx.require_incident()
    return _apply(ctx, incidents.reopen(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id))


def _input(view: dict[str, Any], block: str) -> Any:
    value = view["state"]["values"].get(block, {}).get("value", {})
    if value.get("type") == "static_select":
        return (value.get("selected_option") or {}).get("value")
    return value.get("value")


def register(app: App, deps: Deps) -> None:
    @app.view("incident_start")
    def on_start(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                 client: WebClient) -> None:
        """A bad title is shown in the form; a good one closes it and the work follows."""
        title = _input(view, "title") or ""
        try:
            incidents.clean_title(title)  # form input arrives as typed, not in Slack's markup
        except UserError as exc:
            ack(response_action="errors", errors={"title": limits.fit(exc.message, 150)})
            return
        ack()
        deps.run_after_ack(run_start, body, view, client)

    def run_start(body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        origin, response_url = blocks.start_metadata(view.get("private_metadata"))

        def respond(text: str, response_type: str = "ephemeral",
                    metadata: dict[str, Any] | None = None, **_: Any) -> None:
            """Where the command was typed, through its response URL (which works in private
            channels and DMs the bot is not in); failing that, a DM to the person."""
            if response_url:
                try:
                    if Respond(response_url=response_url)(
                            text=text, response_type=response_type,
                            metadata=metadata).status_code == 200:
                        return
                except OSError as exc:
                    log.info("response URL of /incident start failed: %s", exc)
            try:
                post_once(client, user_id, text=text, metadata=metadata)
            except SlackApiError as exc:
                log.warning("could not tell %s about the incident: %s", user_id,
                            error_code(exc))

        def work() -> str | None:
            incident_channel.open_incident(
                deps, client, team_id=body["team"]["id"], user_id=user_id,
                title=_input(view, "title") or "",
                severity=_input(view, "severity") or "sev3",
                description=_input(view, "description") or "", origin_channel_id=origin,
                respond=respond,
            )
            return None

        guarded(respond, work)
