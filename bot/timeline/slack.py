"""Timeline listeners: message events, 📌 reactions, the message shortcut, notes, the listing
and its corrections (``timeline edit|move|remove <n>``).

Events are answered once they are in the inbox (``bot.inbox``: one fsync'd local append)
and applied afterwards by its worker; the event id claimed with the change makes a
redelivery of an applied pin a no-op.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import metrics
from bot.common.errors import NotFound, UserError
from bot.common.text import mrkdwn
from bot.common.timeparse import (
    TIME_EXAMPLES,
    Frame,
    Reading,
    format_time,
    other_days_hint,
    parse_time,
    split_leading_time,
)
from bot.deps import Deps
from bot.incidents import privacy
from bot.incidents import rules as incidents
from bot.slack import limits
from bot.slack.commands import COMMAND, Ctx, subcommand
from bot.slack.router import guarded
from bot.timeline import render, rules
from bot.timeline.events import TimelineSlack
from storage.db import is_unavailable

log = logging.getLogger(__name__)

# Angle brackets are escaped: in Slack text a bare ``<text>`` would be read as markup.
NOTE_USAGE = (f"Usage: `{COMMAND} note [&lt;time&gt;] &lt;text&gt;` — the time is optional "
              f"({TIME_EXAMPLES}).")
TIMELINE_USAGE = (f"Usage: `{COMMAND} timeline` (only you see it), "
                  f"`{COMMAND} timeline &lt;page&gt;`, "
                  f"`{COMMAND} timeline edit &lt;n&gt; &lt;text&gt;`, "
                  f"`{COMMAND} timeline move &lt;n&gt; &lt;time&gt;` or "
                  f"`{COMMAND} timeline remove &lt;n&gt;`.")
_REMOVE = re.compile(r"^(?:remove|rm|delete|del)\s+#?(\d+)$", re.I)
_EDIT = re.compile(r"^edit(?:\s+#?(\d+))?(?:\s+(.*))?$", re.I | re.S)
_MOVE = re.compile(r"^(?:move|mv)(?:\s+#?(\d+))?(?:\s+(.*))?$", re.I | re.S)
#: A first word that was surely meant as a time: a typo in it is an error, not note text.
_TIMEISH = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}:\d{2}(:\d{2})?(am|pm)?|-\d+[a-z]*)$", re.I)


def leading_time(args: str, tz: Any, now: Any,
                 frame: Frame | None = None) -> tuple[Reading | None, str]:
    """``"10:05 restarted db"`` → ``(10:05 in tz, "restarted db")``; no time → ``None``.

    A bare time is placed by the incident's ``frame`` (see ``timeparse.read_time``).
    ``"25:00 x"`` or ``"2024-02-30 x"`` raise the time parser's explanation instead of
    quietly becoming a note that starts with a bad time.
    """
    reading, text = split_leading_time(args, tz, now, frame)
    head = args.split(maxsplit=1)[0] if args.split() else ""
    if reading is None and _TIMEISH.match(head):
        parse_time(head, tz, now)  # raises a UserError that says what is wrong
    return reading, text


def workspace_url(context: BoltContext) -> str | None:
    """The workspace URL when Bolt's authorization carries it (OAuth installations)."""
    result = context.authorize_result
    return getattr(result, "url", None) if result is not None else None


@subcommand("note", "note [<time>] <text>",
            "Add a line to the timeline (a leading time such as 10:05 or -15m backdates it)",
            order=40)
def note(ctx: Ctx) -> str | None:
    if not ctx.args.strip():
        raise UserError(NOTE_USAGE)
    inc = ctx.require_incident()
    frame = incidents.time_frame(ctx.deps.db, inc, ctx.tz)
    reading, text = leading_time(ctx.args, ctx.tz, ctx.deps.clock.now(), frame)
    entry = rules.add_note(ctx.deps.db, ctx.deps.clock, incident_id=inc.id, user_id=ctx.user_id,
                          author_name=ctx.deps.people.name(ctx.client, ctx.user_id),
                          text=text, when=reading.when if reading else None)
    hint = other_days_hint(reading, ctx.tz) if reading else ""
    ctx.respond(text=f"<@{ctx.user_id}> noted on the timeline at "
                     f"{format_time(entry.occurred_at, ctx.tz)} (entry {entry.seq}): "
                     f"{limits.fit(mrkdwn(entry.text), limits.READABLE_TEXT - 300)}{hint}",
                response_type="in_channel")
    return None


@subcommand("timeline", "timeline [<page>] | timeline edit|move|remove <n> …",
            "Show the timeline (only you see it); correct or remove entry n", order=41)
def timeline(ctx: Ctx) -> str | None:
    args = ctx.args.strip()
    inc = ctx.require_incident()
    removal = _REMOVE.match(args)
    if removal:
        n = int(removal.group(1))
        entry = rules.remove(ctx.deps.db, inc.id, n)
        ctx.respond(text=render.removed_entry_text(ctx.user_id, n, entry, ctx.tz),
                    response_type="in_channel")
        return None
    edit = _EDIT.match(args)
    if edit:
        return edit_entry(ctx, edit.group(1), edit.group(2))
    move = _MOVE.match(args)
    if move:
        return move_entry(ctx, move.group(1), move.group(2))
    if args and not args.isdigit():
        raise UserError(TIMELINE_USAGE)
    tl = rules.timeline(ctx.deps.db, inc.id)
    return render.timeline_page(tl, ctx.tz, int(args) if args else 1)


def edit_entry(ctx: Ctx, number: str | None, text: str | None) -> None:
    """``timeline edit <n> <text>``: new words for a note or a pinned message."""
    if not number or not (text or "").strip():
        raise UserError(f"Usage: `{COMMAND} timeline edit &lt;n&gt; &lt;text&gt;` — "
                        f"`{COMMAND} timeline` shows the numbers.")
    inc = ctx.require_incident()
    entry = rules.edit(ctx.deps.db, ctx.deps.clock, incident_id=inc.id, number=int(number),
                       user_id=ctx.user_id, text=text or "")
    ctx.respond(text=render.edited_entry_text(ctx.user_id, entry, ctx.tz),
                response_type="in_channel")


def move_entry(ctx: Ctx, number: str | None, when: str | None) -> None:
    """``timeline move <n> <time>``: put an entry at the time it really happened."""
    if not number or not (when or "").strip():
        raise UserError(f"Usage: `{COMMAND} timeline move &lt;n&gt; &lt;time&gt;` "
                        f"({TIME_EXAMPLES}) — `{COMMAND} timeline` shows the numbers.")
    inc = ctx.require_incident()
    reading = incidents.read_time(ctx.deps.db, inc, when or "", ctx.tz, ctx.deps.clock.now())
    entry = rules.move(ctx.deps.db, ctx.deps.clock, incident_id=inc.id, number=int(number),
                       user_id=ctx.user_id, when=reading.when, tz=ctx.tz)
    ctx.respond(text=render.moved_entry_text(ctx.user_id, entry, ctx.tz)
                + other_days_hint(reading, ctx.tz), response_type="in_channel")


def register(app: App, deps: Deps) -> None:
    flows = TimelineSlack(deps)

    inbox = deps.inbox
    assert inbox is not None, "build_app makes the inbox before registering listeners"

    # Each event is answered once it is in the inbox; the worker applies it (``bot.inbox``).
    @app.event("message")
    def on_message(body: dict[str, Any]) -> None:
        """Every subtype lands here (so Bolt logs no "unhandled request")."""
        inbox.accept(body)

    @app.event("reaction_added")
    def on_reaction_added(body: dict[str, Any], context: BoltContext) -> None:
        inbox.accept(body, workspace_url(context))

    @app.event("reaction_removed")
    def on_reaction_removed(body: dict[str, Any]) -> None:
        inbox.accept(body)

    inbox.handle("message", lambda client, body, event, hint: flows.on_message(
        client, event, str(body.get("team_id") or "")))
    inbox.handle("reaction_added", flows.on_reaction_added)
    inbox.handle("reaction_removed",
                 lambda client, body, event, hint: flows.on_reaction_removed(client, body, event))

    @app.shortcut("add_to_timeline")
    def on_shortcut(ack: Ack, body: dict[str, Any], client: WebClient,
                    context: BoltContext) -> None:
        ack()
        deps.run_after_ack(run_shortcut, body, client, workspace_url(context))

    def run_shortcut(body: dict[str, Any], client: WebClient, url: str | None) -> None:
        """In an incident channel: add at once. Elsewhere: ask which open incident."""
        respond = Respond(response_url=body.get("response_url"))
        user_id = body["user"]["id"]
        team_id = (body.get("team") or {}).get("id", "")
        channel_id = (body.get("channel") or {}).get("id", "")

        def work() -> str | None:
            incident = incidents.for_channel(deps.db, channel_id, team_id)
            if incident is not None:
                message = flows.prepare_shortcut(client, body)
                if message is None:
                    return "I couldn't read that message, so nothing was added."
                outcome = flows.add_from_shortcut(client, incident.id, message, user_id, url)
                if outcome.incident is None or outcome.entry is None:
                    return "That message is gone, so nothing was added."
                return render.added_text(outcome.incident, outcome.entry,
                                         deps.settings.timezone, outcome.status == "added")
            found = privacy.visible(deps, client, incidents.list_open(deps.db, team_id),
                                    user_id)
            if not found:
                return (f"There is no open incident to add this to. Open one with "
                        f"`{COMMAND} start &lt;title&gt;`.")
            ts = (body.get("message") or {}).get("ts") or body.get("message_ts")
            metadata = json.dumps({"channel": channel_id, "ts": ts})
            # The trigger expires in 3 s: open the modal first, then keep the message.
            client.views_open(trigger_id=body["trigger_id"],
                              view=render.choose_incident_modal(found, metadata))
            flows.prepare_shortcut(client, body)
            return None

        guarded(respond, work)

    @app.view("timeline_choose")
    def on_choose(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                  context: BoltContext) -> None:
        """Add the message to the chosen incident; errors are shown in the modal itself."""
        try:
            text = _add_chosen(flows, client, body, view, workspace_url(context))
        except UserError as exc:
            ack(response_action="errors", errors={"incident": limits.fit(exc.message, 150)})
            return
        except Exception as exc:
            if is_unavailable(exc):
                log.warning("database unavailable: %s", exc.__class__.__name__)
                metrics.DATABASE_UNAVAILABLE.inc()
                message = "Sitrep's database is unavailable right now; please try again."
            else:
                log.exception("adding a shortcut message failed")
                message = "Something went wrong on Sitrep's side; please try again."
            ack(response_action="errors", errors={"incident": message})
            return
        ack(response_action="update", view=render.added_modal(text))


def _add_chosen(flows: TimelineSlack, client: WebClient, body: dict[str, Any],
                view: dict[str, Any], url: str | None) -> str:
    deps = flows.deps
    meta = json.loads(view.get("private_metadata") or "{}")
    state = view.get("state", {}).get("values", {}).get("incident", {}).get("value", {})
    choice = (state.get("selected_option") or {}).get("value", "")
    if not str(choice).isdigit():
        raise UserError("Choose an incident.")
    incident = incidents.get(deps.db, int(choice), str((body.get("team") or {}).get("id")))
    if not privacy.can_see(deps, client, incident, body["user"]["id"]):
        # A forged or stale choice: answered as for an incident that does not exist.
        raise NotFound("That incident no longer exists.")
    message = rules.known_message(deps.db, str(meta.get("channel", "")), str(meta.get("ts", "")))
    if message is None:
        raise UserError("I couldn't keep that message; close this and try the shortcut again.")
    outcome = flows.add_from_shortcut(client, incident.id, message, body["user"]["id"], url)
    if outcome.incident is None or outcome.entry is None:
        raise UserError("That message is gone, so nothing was added.")
    return render.added_text(outcome.incident, outcome.entry, deps.settings.timezone,
                             outcome.status == "added")
