"""PostgreSQL really goes away (its server is stopped) and comes back while the bot runs.

Commands typed meanwhile get a clear reply, events are answered so Slack redelivers them,
and afterwards the bot works again without a restart: nothing lost, nothing doubled.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.common.clock import FixedClock
from bot.sandbox.sandbox import Sandbox
from storage.db import PoolSettings
from storage.models import Incident, TimelineEntry

CTL = shutil.which("pg_ctlcluster")


def _cluster() -> list[str]:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    return [CTL or "pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def _ready(timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        ok = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode
        if ok == 0:
            return
        time.sleep(0.2)
    raise AssertionError("PostgreSQL did not come back")


@pytest.fixture
def stoppable_pg(pg_url: str | None) -> Iterator[str]:
    if pg_url is None:
        pytest.skip("PostgreSQL is not reachable")
    if CTL is None or not Path("/etc/postgresql").is_dir() or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must be able to stop and start PostgreSQL (pg_ctlcluster as root)")
        pytest.skip("cannot stop and start the local PostgreSQL here")
    from tests.conftest import _truncate_pg

    _truncate_pg(pg_url)
    try:
        yield pg_url
    finally:
        subprocess.run([*_cluster(), "start"], check=False, capture_output=True)
        _ready()


def _reply(sb: Sandbox, text: str, channel: str) -> str:
    before = len(sb.fake.responses)
    assert sb.sim.command(text, channel=channel).status == 200
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > before, 15)
    return sb.fake.responses[-1]["text"]


def test_database_server_stopped_and_started(stoppable_pg: str, clock: FixedClock) -> None:
    pool = PoolSettings(size=3, max_overflow=0, timeout=1, connect_timeout=1)
    with Sandbox(stoppable_pg, clock=clock, migrate=False, pool=pool) as sb:
        sb.sim.command("start Database maintenance", channel=sb.general)
        channel = sb.incident_channel(1)["id"]
        assert sb.fake.wait_for(lambda: any("is open" in r.get("text", "")
                                            for r in sb.fake.responses))
        message = sb.fake.user_message(channel, "U0ALICE", "primary is failing over")
        assert sb.sim.message(message, channel).status == 200

        subprocess.run([*_cluster(), "stop", "-m", "fast"], check=True, capture_output=True)
        try:
            assert "database is unavailable" in _reply(sb, "status identified", channel)
            reaction = sb.fake.add_reaction(channel, message["ts"], "pushpin", "U0LEAD")
            first = sb.sim.event(reaction, event_id="Ev0RESTART1")
            assert first.status >= 500  # so that Slack redelivers it
        finally:
            subprocess.run([*_cluster(), "start"], check=True, capture_output=True)
            _ready()

        redelivered = sb.sim.event(reaction, event_id="Ev0RESTART1", retry_num=1)
        assert redelivered.status == 200
        again = sb.sim.event(reaction, event_id="Ev0RESTART1", retry_num=2)
        assert again.status == 200
        assert "identified" in _reply(sb, "status identified", channel)
        with sb.db.session() as s:
            pins = s.scalars(select(TimelineEntry).where(TimelineEntry.kind == "message")).all()
            assert [p.message_ts for p in pins] == [message["ts"]]
            assert s.scalars(select(Incident.status)).one() == "identified"
