"""PostgreSQL really goes away (its server is stopped) and comes back while the bot runs.

The server is the test's own cluster (``tests/support/pgcluster.py``) on a free port, never
the machine's shared one. Commands typed meanwhile get a clear reply, events are answered and
kept in the inbox, and afterwards the bot works again without a restart: nothing lost,
nothing doubled.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.common.clock import FixedClock
from bot.sandbox.sandbox import Sandbox
from storage.db import Database, PoolSettings
from storage.models import Incident, TimelineEntry
from tests.support.pgcluster import PgCluster, own_cluster


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    pg = own_cluster()
    try:
        Database(pg.url).migrate()
        yield pg
    finally:
        pg.destroy()


def _reply(sb: Sandbox, text: str, channel: str) -> str:
    before = len(sb.fake.responses)
    assert sb.sim.command(text, channel=channel).status == 200
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > before, 15)
    return sb.fake.responses[-1]["text"]


def test_database_server_stopped_and_started(
        transport: str, cluster: PgCluster, clock: FixedClock) -> None:
    pool = PoolSettings(size=3, max_overflow=0, timeout=1, connect_timeout=1)
    with Sandbox(cluster.url, clock=clock, migrate=False, transport=transport,
                 pool=pool) as sb:
        sb.sim.command("start Database maintenance", channel=sb.general)
        channel = sb.incident_channel(1)["id"]
        assert sb.fake.wait_for(lambda: any("is open" in r.get("text", "")
                                            for r in sb.fake.responses))
        message = sb.fake.user_message(channel, "U0ALICE", "primary is failing over")
        assert sb.sim.message(message, channel).status == 200

        cluster.stop()
        try:
            assert "database is unavailable" in _reply(sb, "status identified", channel)
            reaction = sb.fake.add_reaction(channel, message["ts"], "pushpin", "U0LEAD")
            first = sb.sim.event(reaction, event_id="Ev0RESTART1")
            assert first.status == 200 and sb.inbox.spool.depth == 1  # kept in the inbox
        finally:
            cluster.start()
            cluster.wait_ready()

        assert sb.inbox.wait_idle(timeout=30) and sb.inbox.spool.depth == 0

        assert sb.sim.event(reaction, event_id="Ev0RESTART1", retry_num=1).status == 200
        assert sb.sim.event(reaction, event_id="Ev0RESTART1", retry_num=2).status == 200
        assert "identified" in _reply(sb, "status identified", channel)
        with sb.db.session() as s:
            pins = s.scalars(select(TimelineEntry).where(TimelineEntry.kind == "message")).all()
            assert [p.message_ts for p in pins] == [message["ts"]]
            assert s.scalars(select(Incident.status)).one() == "identified"
