"""The ``/incident`` slash command: ack at once, then run the subcommand after the ack.

Nothing here may show a traceback in Slack: bad input becomes a friendly ephemeral message,
a database outage a "try again", and anything unexpected a short apology with a log entry.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.common.errors import OperatorError, UserError
from bot.common.text import from_slack
from bot.deps import Deps
from bot.slack.client import UNREACHABLE_ERRORS, error_code, is_timeout
from bot.slack.commands import COMMAND, REGISTRY, Ctx, split
from storage import incidents as incident_repo
from storage.db import is_unavailable

log = logging.getLogger(__name__)

DB_DOWN = (":warning: Sitrep's database is unavailable right now, so nothing was changed. "
           "Please try again in a moment.")
NOT_IN_INCIDENT = (
    "`{cmd} {name}` works in an incident's channel, and this channel isn't one. "
    "Run it in the incident's channel (`{cmd} list` shows them), "
    "or open a new incident with `{cmd} start <title>`."
)


def guarded(respond: Callable[..., Any], work: Callable[[], str | None]) -> None:
    """Run ``work`` and answer with its reply, or with a friendly message if it fails."""
    try:
        reply = work()
    except UserError as exc:
        reply = exc.message
    except SlackApiError as exc:
        log.warning("Slack API error: %s", error_code(exc))
        reply = (f":warning: Slack refused that (`{error_code(exc)}`). Nothing else was "
                 "changed; please try again.")
    except UNREACHABLE_ERRORS as exc:
        # Only network failures of a Web API call land here: other OSErrors (a missing
        # file, jinja2's TemplateNotFound) are not Slack's doing.
        if is_timeout(exc):
            log.warning("Slack did not answer in time: %s", exc)
            reply = (":warning: Slack did not answer in time. What was recorded is kept; "
                     "please check and try again.")
        else:
            log.warning("Slack could not be reached: %s", exc)
            reply = (":warning: Sitrep could not reach Slack just now. What was recorded is "
                     "kept; please check and try again.")
    except OperatorError as exc:
        ref = uuid.uuid4().hex[:8]
        log.error("%s (ref %s)", exc, ref, exc_info=exc)
        reply = (f":warning: Sitrep is not installed or configured correctly: {exc.message}. "
                 f"Nothing you recorded is lost; please tell whoever runs Sitrep (ref `{ref}`).")
    except Exception as exc:
        if is_unavailable(exc):
            log.warning("database unavailable: %s", exc.__class__.__name__)
            metrics.DATABASE_UNAVAILABLE.inc()
            reply = DB_DOWN
        else:
            ref = uuid.uuid4().hex[:8]
            log.exception("unexpected error (ref %s)", ref)
            reply = (f":warning: Something went wrong on Sitrep's side (ref `{ref}`). "
                     "Nothing you already recorded is lost; please try again.")
    if reply:
        try:
            respond(text=reply, response_type="ephemeral")
        except Exception:
            log.exception("could not deliver a reply")


def register(app: App, deps: Deps) -> None:
    @app.command(COMMAND)
    def on_incident(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        """Answer inside Slack's 3 seconds; everything needing I/O runs after the ack.

        Help and typos are answered in the ack itself; the rest runs after it. The text is
        decoded from Slack's markup here, once: subcommands see it as the person typed it.
        """
        inv = split(from_slack(command.get("text", "")))
        if inv.name in ("", "help"):
            ack(text=REGISTRY.help_text(), response_type="ephemeral")
            return
        if REGISTRY.find(inv.name) is None:
            ack(text=REGISTRY.unknown_text(inv.name), response_type="ephemeral")
            return
        ack()
        deps.run_after_ack(run_incident, command, client)

    def run_incident(command: dict[str, Any], client: WebClient) -> None:
        inv = split(from_slack(command.get("text", "")))
        sub = REGISTRY.find(inv.name)
        if sub is None:
            return
        respond = Respond(response_url=command.get("response_url"))
        ctx = Ctx(
            deps=deps, client=client, team_id=command.get("team_id", ""),
            user_id=command.get("user_id", ""), channel_id=command.get("channel_id", ""),
            args=inv.args, respond=respond, trigger_id=command.get("trigger_id"),
            response_url=command.get("response_url"),
        )

        def work() -> str | None:
            if sub.needs_incident:
                with deps.db.session() as s:
                    ctx.incident = incident_repo.by_channel(s, ctx.channel_id,
                                                           team_id=ctx.team_id)
                if ctx.incident is None or ctx.incident.team_id != ctx.team_id:
                    return NOT_IN_INCIDENT.format(cmd=COMMAND, name=sub.name)
            return sub.handler(ctx)

        guarded(respond, work)
