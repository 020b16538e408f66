"""Helpers for the timeline's end-to-end tests: an incident, posts, pins, an outage."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from bot.sandbox.sandbox import Sandbox
from bot.sandbox.simulator import Reply
from storage import timeline as timeline_repo
from storage.models import ChannelMessage, Incident, TimelineEntry, TimelineReaction


def open_incident(sb: Sandbox, title: str = "sev2 Checkout failing", number: int = 1) -> str:
    """``/incident start`` from #general; returns the incident channel's id once it is set up."""
    def opened() -> int:
        return sum("is open" in r.get("text", "") for r in list(sb.fake.responses))

    before = opened()
    assert sb.sim.command(f"start {title}", channel=sb.general).status == 200
    assert sb.fake.wait_for(lambda: opened() > before), "start never finished"
    return sb.incident_channel(number)["id"]


def post(sb: Sandbox, channel: str, user: str, text: str, *, thread_ts: str | None = None,
         files: list[dict] | None = None) -> dict[str, Any]:
    """``user`` posts in ``channel``; Slack delivers the ``message`` event to the bot."""
    message = sb.fake.user_message(channel, user, text, thread_ts=thread_ts, files=files)
    reply = sb.sim.message(message, channel)
    assert reply.status == 200, reply.body
    return message


def react(sb: Sandbox, channel: str, ts: str, user: str, emoji: str = "pushpin", *,
          add: bool = True, **kw: Any) -> tuple[Reply, dict[str, Any]]:
    """``user`` adds (or removes) ``emoji`` on ``ts``; returns the bot's answer and the event."""
    fake = sb.fake.add_reaction if add else sb.fake.remove_reaction
    event = fake(channel, ts, emoji, user)
    return sb.sim.event(event, **kw), event


def command(sb: Sandbox, channel: str, text: str, user: str = "U0LEAD") -> str:
    """``/incident <text>``; returns the first reply (from the ack or the response URL)."""
    before = len(sb.fake.responses)
    reply = sb.sim.command(text, user=user, channel=channel)
    assert reply.status == 200
    if reply.body:
        return str(reply.json()["text"])
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > before), f"no reply to {text!r}"
    return str(sb.fake.responses[before]["text"])


def ephemerals(sb: Sandbox, count: int) -> list[dict[str, Any]]:
    """Wait for ``count`` confirmations (they are sent after the event is answered)."""
    assert sb.fake.wait_for(lambda: len(sb.fake.ephemerals) >= count), sb.fake.ephemerals
    return list(sb.fake.ephemerals)


def entries(sb: Sandbox, number: int = 1, kind: str | None = None) -> list[TimelineEntry]:
    with sb.db.session() as s:
        incident = s.scalars(select(Incident).where(Incident.number == number)).one()
        found = list(timeline_repo.ordered(s, incident.id))
    return [e for e in found if kind is None or e.kind == kind]


def reactions(sb: Sandbox) -> list[tuple[str, str]]:
    with sb.db.session() as s:
        rows = s.execute(select(TimelineReaction.message_ts, TimelineReaction.user_id))
        return sorted((ts, user) for ts, user in rows)


def stored_messages(sb: Sandbox, channel: str) -> list[ChannelMessage]:
    with sb.db.session() as s:
        return list(s.scalars(select(ChannelMessage).where(ChannelMessage.channel_id == channel)
                              .order_by(ChannelMessage.ts)))


@contextlib.contextmanager
def database_down(sb: Sandbox) -> Iterator[None]:
    """Every new database session of the bot fails to connect, as in an outage."""
    if sb.db.dialect == "postgresql":
        import psycopg

        error: type[Exception] = psycopg.OperationalError
    else:
        import sqlite3

        error = sqlite3.OperationalError

    def refuse() -> Any:
        raise error("connection refused (database down for this test)")

    engine = create_engine(sb.db.url, creator=refuse, poolclass=NullPool)
    real = sb.db._sessions
    sb.db._sessions = sessionmaker(engine, expire_on_commit=False)
    try:
        yield
    finally:
        sb.db._sessions = real
        engine.dispose()
