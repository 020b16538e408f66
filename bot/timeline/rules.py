"""The incident timeline: pinned messages, hand-written notes and the incident's own events.

Rules that live here, not in the Slack shell:

- A message joins the timeline at its own time (its ``ts``), once per incident, however many
  people pin it and however often Slack redelivers the event (unique keys decide).
- It stays while anyone still has the timeline emoji on it (or it was added with the
  shortcut); an edit updates it, a deletion removes it.
- Entries are ordered by time, then Slack ``ts``, then insertion: equal times keep order.
  Each has a number (``seq``) given when it is added; removing, editing or moving one, or
  adding a backdated one, renumbers nothing.
- Notes and pinned messages can be corrected by hand (``edit``, ``move``), and live status,
  severity and lead changes moved; the entry keeps who did it and when.
- Which entries tell the incident's *story* (``Story``) and which are its *audit trail*:
  the postmortem shows the story; ``/incident timeline`` shows both, apart.

Text kinds: ``message`` entries hold the message made readable (names, links kept) as plain
text, as it should read in a postmortem; ``note`` and ``event`` entries hold text as typed
with Slack's references (``<@U…>`` mentions; ``bot.common.text``), like the incident's other
recorded facts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.common import text as slacktext
from bot.common.clock import Clock
from bot.common.errors import NotFound, UserError
from bot.common.timeparse import format_time
from bot.incidents.rules import recorded_after_the_fact
from storage import channel_messages, events
from storage import incidents as incident_repo
from storage import timeline as repo
from storage.db import Database
from storage.models import ChannelMessage, Incident, TimelineEntry

NOTE_LIMIT = 3000
#: How far ahead of the clock a typed time may be (clock skew), like incident start/end.
FUTURE_GRACE = dt.timedelta(minutes=5)
_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")


@dataclass(frozen=True)
class Message:
    """What the timeline keeps of a Slack message (from an event, a read, or a shortcut)."""

    channel_id: str
    ts: str
    text: str = ""
    user_id: str | None = None
    bot_name: str | None = None
    thread_ts: str | None = None
    files: tuple[str, ...] = ()

    @property
    def in_thread(self) -> bool:
        return bool(self.thread_ts and self.thread_ts != self.ts)

    @classmethod
    def from_row(cls, row: ChannelMessage) -> Message:
        names = (row.files or {}).get("names", [])
        return cls(row.channel_id, row.ts, row.text, row.user_id, row.bot_name, row.thread_ts,
                   tuple(str(n) for n in names))


@dataclass(frozen=True)
class Outcome:
    """What a pin, unpin or shortcut did, for the shell to confirm (or stay quiet)."""

    status: str  # added | kept | already | removed | duplicate | stale | ignored
    incident: Incident | None = None
    entry: TimelineEntry | None = None

    @property
    def changed(self) -> bool:
        return self.status in ("added", "removed")


@dataclass
class Timeline:
    """An incident's entries in order, with who has pinned each message."""

    incident: Incident
    entries: list[TimelineEntry]
    pinned_by: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def pinners(self, entry: TimelineEntry) -> list[str]:
        key = (entry.message_channel_id or "", entry.message_ts or "")
        return self.pinned_by.get(key, [])


# -- the story and the audit trail -------------------------------------------------------------

#: Events that are part of the story when made while the incident was live (``update``: a
#: status update for stakeholders, ``bot.updates``).
LIVE_EVENTS = frozenset({"status", "severity", "lead", "resolved", "reopened", "update"})
#: Entries people put on the timeline: always part of the story, at their own times.
STORY_KINDS = frozenset({"message", "note"})


@dataclass(frozen=True)
class Story:
    """Which entries of one incident tell its story; the rest is its audit trail.

    The story: pinned messages and notes; the declaration when it came during the impact;
    status, severity and lead changes made while the incident was live (up to its last
    resolution). The audit trail: what was recorded about it (a fact, a corrected time,
    a task) and every change typed while recording it after the fact.
    """

    after_the_fact: bool
    declared_during_impact: bool
    #: The last resolution of a resolved incident: changes after it are record-keeping.
    live_until: dt.datetime | None

    def tells(self, kind: str, event_type: str | None, occurred_at: dt.datetime) -> bool:
        if kind in STORY_KINDS:
            return True
        if kind != "event":
            return False
        if event_type == "opened":
            return self.declared_during_impact
        if event_type in LIVE_EVENTS:
            return not self.after_the_fact and (self.live_until is None
                                                or occurred_at <= self.live_until)
        return False


def story_of(incident: Incident, tz: Any,
             last_resolved: dt.datetime | None) -> Story:
    """The ``Story`` of ``incident``; ``last_resolved`` is its latest ``resolved`` event."""
    after = recorded_after_the_fact(incident, tz)
    declared, ended = incident.created_at, incident.ended_at
    during = (not after and incident.started_at <= declared
              and (ended is None or declared <= ended))
    live_until = last_resolved if incident.status == "resolved" else None
    return Story(after, during, live_until)


def last_resolved(entries: Sequence[Any]) -> dt.datetime | None:
    """The time of the latest ``resolved`` event among ``entries`` (in time order)."""
    for entry in reversed(entries):
        if entry.kind == "event" and entry.event_type == "resolved":
            return entry.occurred_at
    return None


def split_story(tl: Timeline, tz: Any) -> tuple[list[TimelineEntry], list[TimelineEntry]]:
    """``(story, audit trail)``, each in time order."""
    story = story_of(tl.incident, tz, last_resolved(tl.entries))
    told: list[TimelineEntry] = []
    audit: list[TimelineEntry] = []
    for entry in tl.entries:
        (told if story.tells(entry.kind, entry.event_type, entry.occurred_at)
         else audit).append(entry)
    return told, audit


# -- pure helpers ----------------------------------------------------------------------------

def is_timeline_emoji(reaction: str | None, emoji: str) -> bool:
    """``pushpin`` (and ``pushpin::skin-tone-3``, should the emoji have tones) is ours."""
    return bool(reaction) and str(reaction).split("::", 1)[0] == emoji


def is_ts(value: Any) -> bool:
    return isinstance(value, str) and bool(_TS.match(value))


def message_time(ts: str) -> dt.datetime:
    """A Slack ``ts`` (``"1714730700.123456"``) as an aware UTC datetime, exactly."""
    try:
        seconds, _, fraction = ts.partition(".")
        micros = int((fraction + "000000")[:6])
        return dt.datetime.fromtimestamp(int(seconds), dt.UTC).replace(microsecond=micros)
    except (ValueError, OverflowError):
        raise ValueError(f"not a Slack ts: {ts!r}") from None


def permalink(workspace_url: str, channel_id: str, ts: str, thread_ts: str | None = None) -> str:
    """The link ``chat.getPermalink`` would give, built without asking Slack.

    ``workspace_url`` is ``auth.test``'s ``url`` (``https://acme.slack.com/``).
    """
    base = workspace_url.rstrip("/")
    link = f"{base}/archives/{channel_id}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel_id}"
    return link


def entry_text(message: Message, user_name: Callable[[str], str],
               channel_name: Callable[[str], str]) -> str:
    """The message as people read it: mentions as names, links kept, files named."""
    text = slacktext.readable(message.text, user_name, channel_name)
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()
    files = "".join(f"\n[file: {name}]" for name in message.files)
    return (text + files).strip()


def plain_text(entry: TimelineEntry, user_name: Callable[[str], str] | None = None) -> str:
    """Readable plain text of any entry (message entries already are)."""
    if entry.kind == "message":
        return entry.text
    return slacktext.readable(entry.text, user_name)


# -- messages seen in channels ---------------------------------------------------------------

def remember(db: Database, clock: Clock, message: Message, team_id: str) -> bool:
    """Keep a message posted in an incident channel of workspace ``team_id``; False (nothing
    stored) elsewhere."""
    with db.session() as s:
        if incident_repo.by_channel(s, message.channel_id, team_id=team_id) is None:
            return False
        _store(s, message, clock.now(), overwrite=False)
    return True


def remember_any(db: Database, clock: Clock, message: Message) -> None:
    """Keep (or refresh) a message from any channel: it was read from Slack or shortcut."""
    with db.session() as s:
        _store(s, message, clock.now(), overwrite=True)


def _store(s: Any, message: Message, now: dt.datetime, *, overwrite: bool) -> None:
    channel_messages.remember(
        s, channel_id=message.channel_id, ts=message.ts, now=now, overwrite=overwrite,
        thread_ts=message.thread_ts, user_id=message.user_id, bot_name=message.bot_name,
        text=message.text, files=_file_names(message.files))


#: File names kept per message (the timeline shows a few; a message carries at most ten).
MAX_FILES = 20


def _file_names(files: Sequence[str]) -> dict[str, Any] | None:
    """What a message's files are called, bounded: the JSON column has no cap of its own."""
    if not files:
        return None
    return {"names": [name[:255] for name in files[:MAX_FILES]]}


def message_edited(db: Database, clock: Clock, message: Message, team_id: str) -> int:
    """Store the edited text where the message is known; returns how many entries show it.

    The shell then renders the new text (which needs names) and calls ``refresh_entries``.
    """
    with db.session() as s:
        known = channel_messages.get(s, message.channel_id, message.ts, for_update=True)
        if known is None and incident_repo.by_channel(s, message.channel_id,
                                                      team_id=team_id) is None:
            return 0
        _store(s, message, clock.now(), overwrite=True)
        return len(repo.entries_for_message(s, message.channel_id, message.ts))


def refresh_entries(db: Database, channel_id: str, ts: str, text: str) -> int:
    """Show ``text`` in every entry of message ``ts`` (after an edit)."""
    with db.session() as s:
        found = repo.entries_for_message(s, channel_id, ts)
        for entry in found:
            if not (entry.data or {}).get("text_edited"):  # a correction by hand stays
                entry.text = text
        return len(found)


def message_deleted(db: Database, channel_id: str, ts: str) -> int:
    """Forget a deleted message and take it off every timeline; returns entries removed."""
    with db.session() as s:
        if channel_messages.get(s, channel_id, ts, for_update=True) is None:
            return 0  # never seen, so never pinned: nothing to do
        removed = repo.entries_for_message(s, channel_id, ts)
        for entry in removed:
            repo.delete_entry(s, entry)
        channel_messages.forget(s, channel_id, ts)
        return len(removed)


# -- pins --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """Where a reaction landed: the incident of its channel, and the message if known."""

    incident: Incident | None
    message: Message | None


def pin_target(db: Database, channel_id: str, ts: str, team_id: str) -> Target:
    """A reaction in workspace ``team_id``: only its own incidents are candidates."""
    with db.session() as s:
        incident = incident_repo.by_channel(s, channel_id, team_id=team_id)
        if incident is None:
            return Target(None, None)
        row = channel_messages.get(s, channel_id, ts)
        return Target(incident, Message.from_row(row) if row else None)


def known_message(db: Database, channel_id: str, ts: str) -> Message | None:
    """The stored copy of a message (seen in a channel, read, or shortcut), if any."""
    with db.session() as s:
        row = channel_messages.get(s, channel_id, ts)
        return Message.from_row(row) if row else None


def pin(db: Database, clock: Clock, *, event_id: str | None, incident_id: int, message: Message,
        user_id: str, author_name: str, text: str, link: str | None,
        source: str = "reaction", event_ts: str | None = None) -> Outcome:
    """Put ``message`` on the incident's timeline for ``user_id`` (a 📌 or the shortcut).

    One transaction: the event id is claimed with the change, so a redelivery is a no-op,
    and a failure leaves no trace for Slack's retry to trip over. A 📌 older (in Slack's
    ``event_ts``) than the same person's last applied pin or unpin of the message is
    ``stale`` and changes nothing: a late redelivery cannot bring back what was unpinned.
    """
    now = clock.now()
    with db.session() as s:
        if event_id and not events.claim(s, event_id, now):
            return Outcome("duplicate")
        if event_ts and source == "reaction" and not repo.mark_reaction(
                s, channel_id=message.channel_id, ts=message.ts, user_id=user_id,
                event_ts=event_ts, removed=False, now=now):
            return Outcome("stale")
        incident = incident_repo.get(s, incident_id)
        if incident is None:
            return Outcome("ignored")
        # The message row is the per-message lock: pins, unpins and deletes queue on it.
        if channel_messages.get(s, message.channel_id, message.ts, for_update=True) is None:
            return Outcome("ignored", incident)  # deleted while we were reading it
        if source == "reaction":
            repo.add_reaction(s, incident_id=incident_id, channel_id=message.channel_id,
                              ts=message.ts, user_id=user_id, now=now)
        entry, created = repo.add_message(
            s, incident_id=incident_id, channel_id=message.channel_id, ts=message.ts,
            occurred_at=message_time(message.ts), now=now, actor_user_id=user_id,
            author_user_id=message.user_id, author_name=author_name, text=text,
            thread_ts=message.thread_ts if message.in_thread else None, permalink=link,
            data={"source": source},
        )
        if not created and source == "shortcut" and (entry.data or {}).get("source") != source:
            entry.data = {**(entry.data or {}), "source": source}  # now outlives its pins
        return Outcome("added" if created else "already", incident, entry)


def unpin(db: Database, clock: Clock, *, event_id: str | None, channel_id: str, ts: str,
          user_id: str, team_id: str, event_ts: str | None = None) -> Outcome:
    """``user_id`` took their emoji off ``ts``: drop the entry when nobody has it any more.

    The removal is remembered (a tombstone at ``event_ts``), whether or not the pin it
    removes was applied yet; an older unpin than the person's last applied pin is ``stale``.
    """
    now = clock.now()
    with db.session() as s:
        if event_id and not events.claim(s, event_id, now):
            return Outcome("duplicate")
        incident = incident_repo.by_channel(s, channel_id, team_id=team_id)
        if incident is None:
            return Outcome("ignored")
        channel_messages.get(s, channel_id, ts, for_update=True)
        if event_ts and not repo.mark_reaction(s, channel_id=channel_id, ts=ts,
                                               user_id=user_id, event_ts=event_ts,
                                               removed=True, now=now):
            return Outcome("stale", incident)
        repo.remove_reaction(s, incident_id=incident.id, channel_id=channel_id, ts=ts,
                             user_id=user_id)
        entry = repo.message_entry(s, incident.id, channel_id, ts)
        if entry is None:
            return Outcome("ignored", incident)
        remaining = repo.reactors(s, incident.id, channel_id, ts)
        if remaining or (entry.data or {}).get("source") == "shortcut":
            if entry.actor_user_id == user_id and remaining:
                entry.actor_user_id = remaining[0]
            return Outcome("kept", incident, entry)
        repo.delete_entry(s, entry)
        return Outcome("removed", incident, entry)


# -- notes, listing, corrections, removal ---------------------------------------------------

def _note_text(text: str) -> str:
    cleaned = slacktext.clean(text)
    if not cleaned:
        raise UserError("Say what happened, e.g. `/incident note 10:05 restarted the primary` "
                        "(the time is optional).")
    if len(cleaned) > NOTE_LIMIT:
        raise UserError(f"That note is {len(cleaned)} characters; keep it under {NOTE_LIMIT}.")
    return cleaned


def add_note(db: Database, clock: Clock, *, incident_id: int, user_id: str, author_name: str,
             text: str, when: dt.datetime | None = None) -> TimelineEntry:
    """A line typed by hand, at ``when`` (backdated) or now."""
    now = clock.now()
    cleaned = _note_text(text)
    when = when or now
    if when > now + FUTURE_GRACE:
        raise UserError("A note can't be in the future; give the time it happened.")
    with db.session() as s:
        if incident_repo.get(s, incident_id) is None:
            raise NotFound("That incident no longer exists.")
        return repo.add(s, incident_id=incident_id, kind="note", occurred_at=when, now=now,
                        actor_user_id=user_id, author_user_id=user_id,
                        author_name=author_name, text=cleaned)


def timeline(db: Database, incident_id: int) -> Timeline:
    with db.session() as s:
        incident = incident_repo.get(s, incident_id)
        if incident is None:
            raise NotFound("That incident no longer exists.")
        return Timeline(incident, list(repo.ordered(s, incident_id)),
                        repo.reactors_by_message(s, incident_id))


def _numbered(s: Any, incident_id: int, number: int) -> tuple[Incident, TimelineEntry]:
    """The incident (locked) and its entry ``number``, or a ``UserError`` that says why not."""
    incident = incident_repo.get(s, incident_id, for_update=True)
    if incident is None:
        raise NotFound("That incident no longer exists.")
    entry = repo.by_seq(s, incident_id, number, for_update=True)
    if entry is None:
        raise UserError(f"There is no entry {number} on {incident.ref}'s timeline. "
                        "`/incident timeline` lists them with their numbers.")
    return incident, entry


def remove(db: Database, incident_id: int, number: int) -> TimelineEntry:
    """Remove entry ``number``; returns it (for the confirmation)."""
    with db.session() as s:
        _, entry = _numbered(s, incident_id, number)
        repo.delete_entry(s, entry)
        return entry


def edit(db: Database, clock: Clock, *, incident_id: int, number: int, user_id: str,
         text: str) -> TimelineEntry:
    """Correct the words of note or pinned message ``number``; the entry keeps who and when.

    A pinned message corrected here no longer follows the message's own edits in Slack.
    """
    cleaned = _note_text(text)
    with db.session() as s:
        _, entry = _numbered(s, incident_id, number)
        if entry.kind not in STORY_KINDS:
            raise UserError(f"Entry {number} is Sitrep's own record of what happened; only "
                            "notes and pinned messages can be edited. `/incident timeline "
                            f"remove {number}` removes it.")
        if entry.kind == "message":
            cleaned = slacktext.readable(cleaned)  # message entries hold plain text
            entry.data = {**(entry.data or {}), "text_edited": True}
        entry.text = cleaned
        entry.edited_by, entry.edited_at = user_id, clock.now()
        s.flush()
        return entry


def move(db: Database, clock: Clock, *, incident_id: int, number: int, user_id: str,
         when: dt.datetime, tz: Any) -> TimelineEntry:
    """Put entry ``number`` at ``when`` (the time it really happened); keeps who and when.

    Notes, pinned messages and status, severity and lead changes can move; the audit trail
    (facts recorded, times corrected, tasks) and the declaration stay when they happened.
    """
    now = clock.now()
    if when > now + FUTURE_GRACE:
        raise UserError("An entry can't be moved into the future; give the time it happened.")
    with db.session() as s:
        _, entry = _numbered(s, incident_id, number)
        if entry.kind == "event" and entry.event_type not in LIVE_EVENTS:
            raise UserError(f"Entry {number} records when something was done in Sitrep, so "
                            "it stays at that time. Notes, pinned messages and status, "
                            "severity or lead changes can be moved.")
        if entry.occurred_at == when:
            raise UserError(f"Entry {number} is already at {format_time(when, tz)}.")
        entry.occurred_at = when
        entry.edited_by, entry.edited_at = user_id, now
        s.flush()
        return entry
