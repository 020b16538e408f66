"""How the timeline reads in Slack: the ``/incident timeline`` pages, confirmations, modals.

Message entries are plain text written by anyone, so they are escaped; note and event
entries are stored as typed, with mentions (``bot.common.text``), and escaped with
``mrkdwn``. Each line is clipped and pages stay well under Slack's message size
(``bot.slack.limits``), so a 40,000-character message cannot break the listing.

The listing shows the story first (what the postmortem tells), then the audit trail
(what was recorded, and when), each entry under its own stable number.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from bot.common import text as slacktext
from bot.common.splitting import cut
from bot.common.timeparse import format_time
from bot.slack import limits
from bot.slack.blocks import modal
from bot.timeline.rules import Timeline, plain_text, split_story
from storage.models import Incident, TimelineEntry

#: Characters per page of ``/incident timeline`` (the header and footer take the rest).
PAGE_LIMIT = limits.READABLE_TEXT - 500
#: Characters of an entry's text shown in the listing.
CLIP = 280

EVENT_EMOJI = {
    "opened": ":rotating_light:",
    "status": ":arrows_counterclockwise:",
    "severity": ":warning:",
    "lead": ":bust_in_silhouette:",
    "role": ":busts_in_silhouette:",
    "resolved": ":white_check_mark:",
    "reopened": ":leftwards_arrow_with_hook:",
    "update": ":mega:",
    "started": ":clock1:",
    "detected": ":clock1:",
    "ended": ":clock1:",
    "task_added": ":ballot_box_with_check:",
    "task_done": ":heavy_check_mark:",
}
KIND_EMOJI = {"message": ":pushpin:", "note": ":memo:", "event": ":small_blue_diamond:"}
AUDIT_HEADING = "*Audit trail* _(what was recorded and when; not in the postmortem)_"


def clip(text: str, limit: int = CLIP) -> str:
    """One line of at most ``limit`` characters (newlines folded)."""
    return cut(re.sub(r"\s+", " ", text).strip(), limit)


def _body(entry: TimelineEntry) -> str:
    """The entry's text as safe mrkdwn, on one line."""
    if entry.kind == "message":
        return slacktext.escape(clip(entry.text))
    if len(entry.text) > CLIP or "\n" in entry.text:
        return slacktext.escape(clip(plain_text(entry)))  # never cut markup in half
    return slacktext.mrkdwn(entry.text)


def entry_line(n: int, entry: TimelineEntry, when: str, pinners: list[str],
               tz: ZoneInfo | None = None) -> str:
    """``3. 10:02 CEST :pushpin: *lee*: we see 502s (message) — pinned by <@U…>``.

    An entry corrected by hand says by whom and when (in ``tz``).
    """
    if entry.kind == "event":
        emoji = EVENT_EMOJI.get(entry.event_type or "", KIND_EMOJI["event"])
        line = f"{emoji} {_body(entry)}"
        if entry.actor_user_id and f"<@{entry.actor_user_id}>" not in entry.text:
            line += f" — <@{entry.actor_user_id}>"
    else:
        author = slacktext.escape(clip(entry.author_name or "someone", 80))
        line = f"{KIND_EMOJI.get(entry.kind, '•')} *{author}*: {_body(entry) or '_(no text)_'}"
    if entry.kind == "message":
        if entry.permalink:
            label = "in thread" if entry.thread_ts else "message"
            line += f" (<{entry.permalink}|{label}>)"
        who = pinners or ([entry.actor_user_id] if entry.actor_user_id else [])
        if who:
            line += " — pinned by " + ", ".join(f"<@{u}>" for u in who[:5])
            if len(who) > 5:
                line += f" +{len(who) - 5}"
    if entry.edited_by and entry.edited_at and tz is not None:
        line += f" _(edited by <@{entry.edited_by}>, {format_time(entry.edited_at, tz)})_"
    return f"`{n}` {when} {line}"


def pages(tl: Timeline, tz: ZoneInfo) -> list[str]:
    """The timeline as pages of mrkdwn lines: the story, then the audit trail.

    Each entry shows its own number (``seq``), the one ``edit``, ``move`` and ``remove``
    take; a time shows its date on a page's first line and whenever the day changes.
    """
    story, audit = split_story(tl, tz)
    pages_: list[list[str]] = [[]]
    size = 0
    last_day: dt.date | None = None
    items: list[TimelineEntry | None] = [*story, *([None, *audit] if audit else [])]
    for entry in items:
        if entry is None:  # the audit trail's heading: dates start afresh under it
            line, last_day = AUDIT_HEADING, None
        else:
            day = entry.occurred_at.astimezone(tz).date()
            start_of_page = not pages_[-1]
            when = format_time(entry.occurred_at, tz,
                               with_date=start_of_page or day != last_day)
            line = entry_line(entry.seq, entry, f"*{when}*", tl.pinners(entry), tz)
        if pages_[-1] and size + len(line) + 1 > PAGE_LIMIT:
            pages_.append([])
            size = 0
            if entry is not None:
                when = format_time(entry.occurred_at, tz)
                line = entry_line(entry.seq, entry, f"*{when}*", tl.pinners(entry), tz)
        pages_[-1].append(line)
        size += len(line) + 1
        if entry is not None:
            last_day = day
    return ["\n".join(p) for p in pages_ if p]


def timeline_page(tl: Timeline, tz: ZoneInfo, page: int = 1) -> str:
    """Page ``page`` of the ephemeral ``/incident timeline`` answer."""
    ref = tl.incident.ref
    count = len(tl.entries)
    if not count:
        return (f"*{ref}* has nothing on its timeline yet. React with a pin to a message, or "
                "use `/incident note &lt;text&gt;`.")
    all_pages = pages(tl, tz)
    if not 1 <= page <= len(all_pages):
        return f"{ref}'s timeline has {len(all_pages)} page(s); try `/incident timeline 1`."
    header = (f"*{ref} timeline* — {count} entr{'y' if count == 1 else 'ies'}, times in "
              f"{tz.key}")
    if len(all_pages) > 1:
        header += f" (page {page} of {len(all_pages)})"
    text = header + "\n" + all_pages[page - 1]
    if page < len(all_pages):
        text += f"\n`/incident timeline {page + 1}` shows the next page."
    text += ("\n_`/incident timeline edit &lt;n&gt; &lt;text&gt;`, `move &lt;n&gt; &lt;time&gt;` "
             "or `remove &lt;n&gt;` corrects entry n._")
    return text


def added_text(incident: Incident, entry: TimelineEntry, tz: ZoneInfo, created: bool) -> str:
    when = format_time(entry.occurred_at, tz)
    if created:
        return (f":pushpin: Added to the *{incident.ref}* timeline at {when} (entry "
                f"{entry.seq}). `/incident timeline` shows it; `/incident timeline move "
                f"{entry.seq} &lt;time&gt;` puts it at another time.")
    return (f":pushpin: That message is already on the *{incident.ref}* timeline ({when}, "
            f"entry {entry.seq}).")


def removed_text(incident: Incident, emoji: str) -> str:
    return (f"Removed from the *{incident.ref}* timeline: nobody has :{emoji}: on that "
            "message any more.")


def removed_entry_text(user_id: str, n: int, entry: TimelineEntry, tz: ZoneInfo) -> str:
    what = slacktext.escape(clip(plain_text(entry), 120))
    return (f"<@{user_id}> removed entry {n} from the timeline "
            f"({format_time(entry.occurred_at, tz)}: {what}).")


def edited_entry_text(user_id: str, entry: TimelineEntry, tz: ZoneInfo) -> str:
    what = slacktext.escape(clip(plain_text(entry), 200))
    return (f"<@{user_id}> edited timeline entry {entry.seq} "
            f"({format_time(entry.occurred_at, tz)}): {what}")


def moved_entry_text(user_id: str, entry: TimelineEntry, tz: ZoneInfo) -> str:
    what = slacktext.escape(clip(plain_text(entry), 120))
    return (f"<@{user_id}> moved timeline entry {entry.seq} to "
            f"{format_time(entry.occurred_at, tz)}: {what}")


def choose_incident_modal(incidents: list[Incident], metadata: str) -> dict[str, Any]:
    """Which open incident a message from elsewhere belongs to (the shortcut's modal)."""
    options = [{"text": {"type": "plain_text",
                         "text": clip(f"{i.ref} · {i.severity.upper()} · "
                                      f"{slacktext.readable(i.title)}", limits.OPTION_TEXT)},
                "value": str(i.id)} for i in incidents[:100]]
    return modal("timeline_choose", "Add to timeline", submit="Add",
                 private_metadata=metadata, blocks=[
                     {"type": "input", "block_id": "incident",
                      "label": {"type": "plain_text", "text": "Which incident?"},
                      "element": {"type": "static_select", "action_id": "value",
                                  "options": options, "initial_option": options[0]}},
                 ])


def added_modal(text: str) -> dict[str, Any]:
    """The modal after a successful submission: says what happened, one button to close."""
    return modal("timeline_added", "Add to timeline", close="Done",
                 blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
