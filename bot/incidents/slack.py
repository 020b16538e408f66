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
from bot.incidents import access, blocks, privacy
from bot.incidents import channel as incident_channel
from bot.incidents import rules as incidents
from bot.incidents.rules import Change
from bot.nudges import slack as nudges
from bot.postmortem import slack as postmortem
from bot.slack import limits
from bot.slack.client import error_code, invite, post_once
from bot.slack.commands import COMMAND, REGISTRY, Ctx, subcommand
from bot.slack.router import guarded
from storage.models import Incident

log = logging.getLogger(__name__)
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def parse_start(args: str) -> tuple[str, str, bool]:
    """``"private sev1 Login failures"`` → ``("sev1", "Login failures", True)``;
    ``private`` and the severity are optional, in that order."""
    text = args.strip()
    head, _, rest = text.partition(" ")
    private = head.lower() == "private" and bool(rest.strip())
    if private:
        text = rest.strip()
        head, _, rest = text.partition(" ")
    try:
        return incidents.normalize_severity(head), rest.strip(), private
    except UserError:
        return incidents.DEFAULT_SEVERITY, text, private


@subcommand("start", "start [private] [sev1|sev2|sev3|sev4] <title>",
            "Open an incident with its own channel (`private`: a private channel, announced "
            "nowhere; no title opens a form)",
            needs_incident=False, order=1)
def start(ctx: Ctx) -> str | None:
    if not ctx.args.strip():
        ctx.client.views_open(trigger_id=ctx.trigger_id,
                              view=blocks.start_modal(ctx.channel_id, ctx.response_url))
        return None
    severity, title, private = parse_start(ctx.args)
    if not title:
        raise UserError(f"Give the incident a title too, e.g. `{COMMAND} start {severity} "
                        "Login failures`.")
    incident = incident_channel.open_incident(
        ctx.deps, ctx.client, team_id=ctx.team_id, user_id=ctx.user_id, title=title,
        severity=severity, origin_channel_id=ctx.channel_id, respond=ctx.respond,
        private=private,
    )
    if incident.channel_id == ctx.channel_id or not incident.channel_id:
        return None
    kind = "private " if incident.is_private else ""
    return (f"{incident.ref} is open. I've added you to the {kind}channel "
            f"<#{incident.channel_id}> as lead."
            + (" It is announced nowhere; invite the people who need it." if private else ""))


@subcommand("list", "list", "Open incidents in this workspace", needs_incident=False, order=2)
def list_open(ctx: Ctx) -> str:
    found = privacy.visible(ctx.deps, ctx.client, incidents.list_open(ctx.deps.db, ctx.team_id),
                            ctx.user_id)
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
    if inc.status != ctx.require_incident().status:  # a status change answers a nudge too
        nudges.withdraw(ctx.deps, ctx.client, inc, ctx.user_id)
    just_resolved = inc.status == "resolved" and ctx.require_incident().status != "resolved"
    if just_resolved and inc.ended_at and not inc.ended_at_set:  # resolving stored the end
        hint += (f" Impact end recorded as {format_time(inc.ended_at, ctx.tz)} "
                 f"(`{COMMAND} ended &lt;time&gt;` corrects it).")
    ctx.respond(text=f"<@{ctx.user_id}>: {change.message}.{hint}", response_type="in_channel")
    if just_resolved:
        postmortem.prompt_after_resolve(ctx.deps, ctx.client, change.incident)
    return None


def require_may_change(ctx: Ctx, what: str) -> None:
    """Under ``INCIDENT_RESTRICT=roles``, refuse (naming who can) unless the person holds a
    role of this incident (``access.may_change``)."""
    refuse_unless_may_change(ctx.deps, ctx.require_incident(), ctx.user_id, what)


def refuse_unless_may_change(deps: Deps, inc: Incident, user_id: str, what: str) -> None:
    """``require_may_change`` for an incident and person known otherwise (a form, a button)."""
    if access.may_change(inc, user_id, deps.settings.incident_restrict):
        return
    who = ", ".join(f"<@{user}> ({incidents.role_label(role).lower()})"
                    for role, user in access.who_may_change(inc))
    raise UserError(f"Only the people holding a role of {inc.ref} may {what} here: {who}. "
                    f"Anyone can still add notes, pins and tasks; ask one of them, or "
                    f"`{COMMAND} roles` to see who holds what.")


def _every(ctx: Ctx) -> incidents.UpdateEvery:
    """``UPDATE_EVERY``: status and severity changes keep the update clock right."""
    return ctx.deps.settings.update_every


def _one_arg(ctx: Ctx, usage: str) -> str:
    if not ctx.args.strip():
        raise UserError(f"Usage: `{COMMAND} {usage}`")
    return ctx.args.strip()


@subcommand("status", "status investigating|identified|monitoring|resolved",
            "Set the incident's status", order=10)
def status(ctx: Ctx) -> str | None:
    value = _one_arg(ctx, "status investigating|identified|monitoring|resolved")
    require_may_change(ctx, "change the status")
    inc = ctx.require_incident()
    return _apply(ctx, incidents.set_status(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                                            value, update_every=_every(ctx)))


@subcommand("severity", "severity sev1|sev2|sev3|sev4", "Set the severity", aliases=("sev",),
            order=11)
def severity(ctx: Ctx) -> str | None:
    value = _one_arg(ctx, "severity sev1|sev2|sev3|sev4")
    require_may_change(ctx, "change the severity")
    inc = ctx.require_incident()
    return _apply(ctx, incidents.set_severity(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                                              value, update_every=_every(ctx)))


@subcommand("lead", "lead @user", "Hand the lead to someone (short for `role lead @user`)",
            order=12)
def lead(ctx: Ctx) -> str | None:
    match = _MENTION.match(ctx.args.strip())
    if not match:
        raise UserError(f"Mention the new lead, e.g. `{COMMAND} lead @alice`.")
    return _assign(ctx, "lead", match.group(1))


@subcommand("role", "role <role> [@user]",
            "Give a role to someone (they're added to the channel); no one clears it",
            order=13)
def role(ctx: Ctx) -> str | None:
    roles = ctx.deps.settings.incident_roles
    head, _, rest = ctx.args.strip().partition(" ")
    if not head:
        raise UserError(f"Usage: `{COMMAND} role &lt;role&gt; [@user]`; the roles are "
                        f"{', '.join(f'`{r}`' for r in roles)}.")
    name = incidents.normalize_role(head, roles)
    rest = rest.strip()
    if not rest:
        return _assign(ctx, name, None)
    match = _MENTION.match(rest)
    if not match:
        raise UserError(f"Mention who takes the role, e.g. `{COMMAND} role {name} @alice`, "
                        f"or give no one to clear it.")
    return _assign(ctx, name, match.group(1))


@subcommand("roles", "roles", "Who holds which role of this incident", order=14)
def roles_(ctx: Ctx) -> str:
    inc = ctx.require_incident()
    held = access.holders(inc)
    lines = [f"*Roles of {inc.ref}:*"]
    for name in ctx.deps.settings.incident_roles:
        who = f"<@{held[name]}>" if name in held else "_none_"
        lines.append(f"• {incidents.role_label(name)}: {who}")
    lines += [f"• {incidents.role_label(r)}: <@{u}>" for r, u in held.items()
              if r not in ctx.deps.settings.incident_roles]
    if ctx.deps.settings.incident_restrict == access.RESTRICT_ROLES:
        lines.append("Only they may change the severity, status or roles, resolve or reopen.")
    lines.append(f"`{COMMAND} role &lt;role&gt; @someone` assigns one; "
                 f"`{COMMAND} role &lt;role&gt;` clears it.")
    return "\n".join(lines)


def _assign(ctx: Ctx, name: str, user_id: str | None) -> str | None:
    """Record the role change, then invite the person to the channel."""
    require_may_change(ctx, "change the roles")
    if user_id and ctx.deps.people.get(ctx.client, user_id).deleted:
        raise UserError("I can't find that person in this workspace; mention someone active.")
    inc = ctx.require_incident()
    change = incidents.set_role(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id, name, user_id)
    trouble = None
    if change.changed and user_id and inc.channel_id:
        try:
            invite(ctx.client, inc.channel_id, user_id)
        except SlackApiError as exc:  # the role is recorded: say what did not happen
            trouble = (f":warning: Slack would not add <@{user_id}> to this channel "
                       f"(`{error_code(exc)}`); please invite them yourself.")
        ctx.deps.members.forget(inc.channel_id)
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
    require_may_change(ctx, "resolve the incident")
    inc = ctx.require_incident()
    return _apply(ctx, incidents.resolve(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                                         ctx.args.strip() or None, update_every=_every(ctx)))


@subcommand("reopen", "reopen", "Reopen a resolved incident", order=34)
def reopen(ctx: Ctx) -> str | None:
    require_may_change(ctx, "reopen the incident")
    inc = ctx.require_incident()
    return _apply(ctx, incidents.reopen(ctx.deps.db, ctx.deps.clock, inc.id, ctx.user_id,
                                        update_every=_every(ctx)))


def _input(view: dict[str, Any], block: str) -> Any:
    value = view["state"]["values"].get(block, {}).get("value", {})
    if value.get("type") == "static_select":
        return (value.get("selected_option") or {}).get("value")
    if value.get("type") == "checkboxes":
        return [o.get("value") for o in value.get("selected_options") or []]
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
            incident = incident_channel.open_incident(
                deps, client, team_id=body["team"]["id"], user_id=user_id,
                title=_input(view, "title") or "",
                severity=_input(view, "severity") or "sev3",
                description=_input(view, "description") or "", origin_channel_id=origin,
                respond=respond, private="private" in (_input(view, "private") or []),
            )
            if incident.is_private and incident.channel_id:  # announced nowhere: tell only them
                return (f"{incident.ref} is open. I've added you to the private channel "
                        f"<#{incident.channel_id}> as lead. It is announced nowhere; invite "
                        "the people who need it.")
            return None

        guarded(respond, work)
