"""Tables, as SQLAlchemy 2 typed declarative models.

Every timestamp is a naive-free UTC ``datetime`` (``UTCDateTime`` normalises on the way in
and out, so SQLite and PostgreSQL behave the same). Uniqueness that the bot's correctness
depends on (one timeline entry per message, one processed event id, one escalation per
incident and day) is declared here, in the database, not checked in Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: The most text of one field the database keeps: Slack's own limit for a message's text
#: (https://api.slack.com/methods/chat.postMessage#truncating, ``bot.slack.limits``). A
#: longer text (a 1 MB message, an alert with a huge attachment) is cut, with a marker.
STORED_TEXT = 40_000


def cap(text: str | None, limit: int = STORED_TEXT) -> str | None:
    """``text`` if it fits ``limit`` characters, else its start and a marker saying so."""
    if text is None or len(text) <= limit:
        return text
    marker = f" … [cut: {len(text):,} characters were too long to keep]"
    return text[: max(0, limit - len(marker))] + marker[: limit]


class CappedText(TypeDecorator[str]):
    """``Text`` that stores at most ``STORED_TEXT`` characters (``cap``), on every path in:
    ORM objects, Core inserts and upserts alike, so no caller can forget it."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return cap(value)


class CappedString(TypeDecorator[str]):
    """``String(n)`` that cuts a longer value (a name) instead of failing the transaction
    (PostgreSQL refuses it, which would answer 500 and make Slack redeliver forever)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        length = self.impl.length or STORED_TEXT  # type: ignore[attr-defined]
        return cap(value, length)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON}


class Counter(Base):
    """Per-workspace sequence for human-facing numbers (INC-<n>, T-<n>)."""

    __tablename__ = "counters"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("team_id", "number", name="uq_incident_number"),
        # The web view's list, newest first (one workspace's, or all of them).
        Index("ix_incident_started", "team_id", "started_at", "id"),
        Index("ix_incident_started_all", "started_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(CappedText)
    description: Mapped[str | None] = mapped_column(CappedText)
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    lead_user_id: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    ended_at_set: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str | None] = mapped_column(CappedText)
    impact: Mapped[str | None] = mapped_column(CappedText)
    root_cause: Mapped[str | None] = mapped_column(CappedText)
    resolution: Mapped[str | None] = mapped_column(CappedText)
    detection: Mapped[str | None] = mapped_column(CappedText)
    detected_at: Mapped[dt.datetime | None]
    escalation: Mapped[str | None] = mapped_column(CappedText)
    misleading: Mapped[str | None] = mapped_column(CappedText)
    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    origin_channel_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime]
    #: The last timeline entry number handed out (``TimelineEntry.seq``); never goes down.
    last_entry_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Worked in a private channel: only its members may see it (``bot.incidents.access``).
    is_private: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Roles other than the lead (``lead_user_id``): role name → user id. Replaced whole on
    #: each change (a JSON column is not change-tracked in place).
    roles: Mapped[dict[str, Any] | None]
    #: When the last status update (``/incident update``) or status change was posted: the
    #: update nudge's clock starts here (``bot.updates.nudges``).
    last_update_at: Mapped[dt.datetime | None]
    #: When the next status update is due (None: none expected: resolved, ``monitoring``, or a
    #: severity ``UPDATE_EVERY`` does not name); shown on the card, nudged after.
    next_update_at: Mapped[dt.datetime | None]

    entries: Mapped[list[TimelineEntry]] = relationship(back_populates="incident")

    @property
    def ref(self) -> str:
        return f"INC-{self.number}"


class TimelineEntry(Base):
    """One line of an incident's timeline: a pinned message, a note, or an incident event.

    ``kind`` is ``message`` (pinned/shortcut), ``note`` (typed by hand) or ``event``
    (status change and the like; ``event_type`` and ``data`` say which). ``seq`` is the
    entry's number on its incident's timeline: given once, in the order entries are added,
    so adding a backdated entry or removing one renumbers nothing.
    """

    __tablename__ = "timeline_entries"
    __table_args__ = (
        UniqueConstraint(
            "incident_id", "message_channel_id", "message_ts", name="uq_entry_message"
        ),
        UniqueConstraint("incident_id", "seq", name="uq_entry_seq"),
        Index("ix_entry_order", "incident_id", "occurred_at", "sort_ts", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    event_type: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[dt.datetime]
    sort_ts: Mapped[str] = mapped_column(String(32), default="")
    actor_user_id: Mapped[str | None] = mapped_column(String(32))
    author_user_id: Mapped[str | None] = mapped_column(String(32))
    author_name: Mapped[str | None] = mapped_column(CappedString(255))
    text: Mapped[str] = mapped_column(CappedText, default="")
    data: Mapped[dict[str, Any] | None]
    message_channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(CappedText)
    created_at: Mapped[dt.datetime]
    #: Who last corrected the entry by hand (``timeline edit`` / ``timeline move``), and when.
    edited_by: Mapped[str | None] = mapped_column(String(32))
    edited_at: Mapped[dt.datetime | None]

    incident: Mapped[Incident] = relationship(back_populates="entries")


class TimelineReaction(Base):
    """Who has the timeline emoji on which message: an entry lives while anyone does."""

    __tablename__ = "timeline_reactions"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[dt.datetime]


class ReactionMark(Base):
    """The latest timeline-emoji event applied for one person and message: added or removed.

    Slack may deliver a reaction's events out of order (a redelivery of a pin after its
    unpin), and the inbox applies what arrived during an outage later. An event older than
    the mark changes nothing, so a removal (``removed``: a tombstone) is never undone by the
    late copy of the pin it removed.
    """

    __tablename__ = "reaction_marks"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Slack's ``event_ts`` of the event applied last (compared as a number).
    event_ts: Mapped[str] = mapped_column(String(32))
    removed: Mapped[bool]
    updated_at: Mapped[dt.datetime]


class ChannelMessage(Base):
    """A message seen in an incident channel, kept so a pin costs no Web API read."""

    __tablename__ = "channel_messages"
    __table_args__ = (Index("ix_channel_messages_created", "created_at"),)

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    bot_name: Mapped[str | None] = mapped_column(CappedString(255))
    text: Mapped[str] = mapped_column(CappedText, default="")
    files: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]


class ProcessedEvent(Base):
    """Slack event ids already handled: a redelivery (or a second replica) is a no-op."""

    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_processed_events_received", "received_at"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[dt.datetime]


class SlackUser(Base):
    """Cached ``users.info``: display name and time zone."""

    __tablename__ = "slack_users"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(255))
    tz: Mapped[str | None] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(default=False)
    fetched_at: Mapped[dt.datetime]


class Task(Base):
    """A corrective task; its reminder state lives here, not in a scheduler job store."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("team_id", "number", name="uq_task_number"),
        Index("ix_task_due", "status", "next_reminder_at"),
        Index("ix_task_owner", "owner_user_id", "status"),
        Index("ix_task_incident", "incident_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[int]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    owner_user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(CappedText)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    drop_reason: Mapped[str | None] = mapped_column(CappedText)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    next_reminder_at: Mapped[dt.datetime | None]
    reminder_count: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[dt.datetime | None]
    lease_until: Mapped[dt.datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    reminders_stopped: Mapped[str | None] = mapped_column(String(64))
    #: Deliveries refused in a row for a reason not understood, and when to try again.
    send_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    retry_at: Mapped[dt.datetime | None]
    dm_channel_id: Mapped[str | None] = mapped_column(String(32))
    dm_ts: Mapped[str | None] = mapped_column(String(32))

    @property
    def ref(self) -> str:
        return f"T-{self.number}"


class Improvement(Base):
    __tablename__ = "improvements"
    __table_args__ = (Index("ix_improvement_incident", "incident_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(CappedText)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


class Escalation(Base):
    """One overdue-task escalation per incident and UTC day (claimed by inserting)."""

    __tablename__ = "escalations"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    created_at: Mapped[dt.datetime]


class PostmortemVersion(Base):
    __tablename__ = "postmortem_versions"
    __table_args__ = (UniqueConstraint("incident_id", "version", name="uq_postmortem_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    version: Mapped[int]
    #: Compiled by Sitrep from capped fields; a long postmortem may exceed one field's cap.
    markdown: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(String(32))
    published_at: Mapped[dt.datetime]
    #: The data the version was rendered from (``bot.postmortem.compile.snapshot``): the web
    #: view renders it through the HTML template as published. None before migration 0009.
    snapshot: Mapped[dict[str, Any] | None]


class Announcement(Base):
    """Sitrep's first message about an incident in one channel (the announcement channel,
    the channel it was declared in): later status updates go in its thread."""

    __tablename__ = "announcements"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


class DueWork(Base):
    """One piece of due work other than a task's reminders (those live in ``tasks``): an
    incident's update nudge, its postmortem follow-up, the weekly digest.

    ``kind`` says which, ``key`` which one of its kind (unique together). ``due_at`` is when
    it is next looked at (None: nothing due); a pass claims due rows under a lease
    (``lease_owner``/``lease_until``) exactly like task reminders, and a refusal not
    understood backs off (``failures``/``retry_at``). ``hold_until`` is a person's snooze;
    ``message_channel_id``/``message_ts`` the last message it posted (a pending nudge is
    deleted when an update is posted); ``runs`` how many times it was delivered.
    """

    __tablename__ = "due_work"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_due_work_key"),
        Index("ix_due_work_due", "kind", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"))
    due_at: Mapped[dt.datetime | None]
    hold_until: Mapped[dt.datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None]
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    retry_at: Mapped[dt.datetime | None]
    runs: Mapped[int] = mapped_column(default=0, server_default="0")
    last_run_at: Mapped[dt.datetime | None]
    message_channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
