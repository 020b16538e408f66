"""``/incident postmortem [publish]`` and the nudge to finish the postmortem on resolve.

The core compiles and renders; this module turns the Slack rendering into messages within
Slack's limits, posts them, uploads the Markdown (``files_upload_v2``: the
``files.getUploadURLExternal`` + ``files.completeUploadExternal`` flow) and tells people
what is still missing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from pathlib import Path

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.common import links
from bot.common.errors import UserError
from bot.common.splitting import pack, sections, split_text
from bot.common.text import escape
from bot.deps import Deps
from bot.incidents import access
from bot.postmortem import compile as postmortem
from bot.postmortem.compile import Missing, Postmortem
from bot.postmortem.templates import Rendered, Templates
from bot.slack import limits
from bot.slack.client import error_code
from bot.slack.commands import COMMAND, REGISTRY, Ctx, subcommand
from storage.db import is_unavailable
from storage.models import Incident

log = logging.getLogger(__name__)

USAGE = "postmortem [publish]"
#: At most this many users.info look-ups for names Sitrep has never cached (the rest show
#: their stored name or id); the cache makes the next compile free.
MAX_NAME_LOOKUPS = 25
#: Timeline entries posted to Slack; a longer timeline is cut in the middle (the file has all).
SLACK_TIMELINE_ENTRIES = 120
#: A publish never posts more messages than this; the rest is in the uploaded file.
MAX_MESSAGES = 10
REST_IN_FILE = "_… the rest of this postmortem is in the Markdown file below._"


@functools.cache
def templates_for(custom_dir: Path | None) -> Templates:
    """One ``Templates`` (and its compiled-template cache) per ``TEMPLATES_DIR``."""
    return Templates(custom_dir)


def compile_postmortem(deps: Deps, client: WebClient, incident: Incident) -> Postmortem:
    """The incident's postmortem, with names from the cache or (for a few) ``users.info``."""

    def resolve_names(user_ids: list[str]) -> Mapping[str, str]:
        return {uid: deps.people.name(client, uid) for uid in user_ids[:MAX_NAME_LOOKUPS]}

    return postmortem.compile_incident(deps.db, incident.id, deps.settings.timezone,
                                       now=deps.clock.now(), resolve_names=resolve_names)


def missing_lines(items: list[Missing]) -> list[str]:
    """``• No root cause yet: `/incident cause <text>` `` (only subcommands that exist)."""
    lines = []
    for item in items:
        commands = [f"`{COMMAND} {escape(c)}`" for c in item.commands
                    if REGISTRY.find(c.split()[0])]
        lines.append(f"• {item.what}" + (f": {' or '.join(commands)}" if commands else ""))
    return lines


def template_notes(*rendered: Rendered) -> list[str]:
    """Tell the user a custom template failed (and that the built-in one was used)."""
    return [
        f":warning: Your template `{escape(r.template)}` in `TEMPLATES_DIR` failed "
        f"({escape(r.error)}), so this uses Sitrep's built-in one. The error is in Sitrep's log."
        for r in rendered if r.error
    ]


def _slack_rendering(deps: Deps, pm: Postmortem) -> Rendered:
    templates = templates_for(deps.settings.templates_dir)
    return postmortem.render(postmortem.for_slack(pm, SLACK_TIMELINE_ENTRIES), templates, "slack")


def preview(ctx: Ctx) -> None:
    """The compiled postmortem, to the person who asked only, with what is still missing."""
    incident = ctx.require_incident()
    pm = compile_postmortem(ctx.deps, ctx.client, incident)
    slack = _slack_rendering(ctx.deps, pm)
    items = missing_lines(postmortem.missing(pm, ctx.deps.settings.timeline_emoji))
    head = template_notes(slack)
    if items:
        head.append("*Still missing from this postmortem:*\n" + "\n".join(items))
    else:
        head.append(":white_check_mark: Everything a postmortem needs is recorded.")
    footer = (f"`{COMMAND} postmortem publish` posts it here and uploads it as Markdown"
              + (f" (as version {pm.last_version + 1})." if pm.last_version else "."))
    head_chunks = [c for text in head for c in split_text(text, limits.SECTION_TEXT)]
    room_blocks = limits.MESSAGE_BLOCKS - len(head_chunks) - 2  # a divider and the footer
    room_chars = limits.MESSAGE_BLOCK_CHARS - sum(map(len, head_chunks)) - 400
    body = pack(split_text(slack.text, limits.SECTION_TEXT), room_blocks, room_chars)
    if len(body) > 1:
        footer = ("This is the beginning; the whole postmortem is too long to show here. "
                  + footer)
    blocks = [*sections(head_chunks), {"type": "divider"}, *sections(body[0] if body else []),
              {"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]}]
    ctx.respond(text=f"{pm.ref} postmortem (draft)", blocks=blocks, response_type="ephemeral")


def publish(ctx: Ctx) -> str:
    """Store a new version, post it in the incident channel, upload it as a Markdown file."""
    incident = ctx.require_incident()
    deps = ctx.deps
    channel = incident.channel_id or ctx.channel_id
    if not access.may_post_in(incident, channel):
        raise UserError(f"{incident.ref} is private: its postmortem is published only in its "
                        "own channel.")
    pm = compile_postmortem(deps, ctx.client, incident)
    published = postmortem.publish(
        deps.db, deps.clock, templates_for(deps.settings.templates_dir), pm,
        user_id=ctx.user_id, user_name=deps.people.name(ctx.client, ctx.user_id))
    numbered = published.postmortem
    version = numbered.version
    slack = _slack_rendering(deps, numbered)
    # With WEB_BASE_URL, the first message ends with a link to this version's web page.
    page = links.postmortem_page(deps.settings.web_base_url, pm.ref, version)
    room = 1 if page else 0
    messages = pack(split_text(slack.text, limits.SECTION_TEXT), limits.MESSAGE_BLOCKS - room,
                    limits.MESSAGE_BLOCK_CHARS - 300 * room)
    if len(messages) > MAX_MESSAGES:
        messages = [*messages[: MAX_MESSAGES - 1], [REST_IN_FILE]]
    label = f"{pm.ref} postmortem, version {version}"
    step = "post it"
    try:
        for i, chunks in enumerate(messages, 1):
            part = f" (part {i} of {len(messages)})" if len(messages) > 1 else ""
            blocks = sections(chunks)
            if page and i == 1:
                on_web = f"<{page}|Read it on the web> (version {version})"
                blocks.append({"type": "context",
                               "elements": [{"type": "mrkdwn", "text": on_web}]})
            ctx.client.chat_postMessage(channel=channel, text=label + part,
                                        blocks=blocks, unfurl_links=False)
        step = "upload the Markdown file"
        ctx.client.files_upload_v2(
            channel=channel, content=published.markdown.text,
            filename=f"{pm.ref.lower()}-postmortem-v{version}.md", title=label,
            initial_comment=f"{label}, as Markdown." + (f" On the web: {page}" if page else ""),
        )
    except SlackApiError as exc:
        log.warning("publishing %s failed: %s", label, error_code(exc))
        return (f":warning: Version {version} of the {pm.ref} postmortem is saved, but Slack "
                f"refused to {step} (`{error_code(exc)}`). Run `{COMMAND} postmortem publish` "
                "again in a moment.")
    again = f" (it replaces version {version - 1})" if version and version > 1 else ""
    lines = [f"Published version {version} of the {pm.ref} postmortem{again}: "
             f"{len(messages)} message{'s' if len(messages) != 1 else ''} and the Markdown file."
             + (f" On the web: {page}" if page else "")]
    lines += template_notes(slack, published.markdown)
    items = missing_lines(postmortem.missing(numbered, deps.settings.timeline_emoji))
    if items:
        lines.append("Still missing (publish again once it is recorded):\n" + "\n".join(items))
    return "\n".join(lines)


@subcommand("postmortem", USAGE,
            "Show the postmortem compiled so far (only you see it); `publish` posts it here",
            order=40)
def postmortem_command(ctx: Ctx) -> str | None:
    action = ctx.args.strip().lower()
    if action == "":
        preview(ctx)
        return None
    if action == "publish":
        return publish(ctx)
    raise UserError(f"Usage: `{COMMAND} postmortem` to see it, "
                    f"`{COMMAND} postmortem publish` to post it in this channel.")


def prompt_after_resolve(deps: Deps, client: WebClient, incident: Incident) -> None:
    """Right after resolving: what the postmortem still lacks, and the commands for it.

    A failure here is logged, never raised: the incident is resolved either way.
    """
    if not incident.channel_id:
        return
    try:
        pm = compile_postmortem(deps, client, incident)
        items = missing_lines(postmortem.missing(pm, deps.settings.timeline_emoji))
        how = (f"Review it with `{COMMAND} postmortem` (only you see it) and post it here "
               f"with `{COMMAND} postmortem publish`.")
        if items:
            text = (f":memo: *{pm.ref} is resolved: time for the postmortem.* Sitrep has "
                    "compiled it from what was recorded. Still empty:\n"
                    + "\n".join(items) + "\n" + how)
        else:
            text = (f":memo: *{pm.ref} is resolved.* Everything its postmortem needs is "
                    "recorded. " + how)
        client.chat_postMessage(channel=incident.channel_id, text=text)
    except SlackApiError as exc:
        log.warning("postmortem prompt for %s failed: %s", incident.ref, error_code(exc))
    except Exception as exc:  # the incident is resolved either way; say why in the log
        if is_unavailable(exc):
            log.warning("postmortem prompt for %s skipped: database unavailable", incident.ref)
        else:
            log.exception("postmortem prompt for %s failed", incident.ref)


def register(app: App, deps: Deps) -> None:
    """Nothing to register with Bolt: the subcommand registers itself on import."""
