"""Replicas started at the same moment on one empty database all come up.

Each ``serve`` migrates on start; the migration takes a lock (a PostgreSQL advisory lock,
SQLite's write lock), so the second replica waits for the first and finds nothing to do
instead of crashing on ``alembic_version``. On PostgreSQL a proxy holds both replicas'
first connection back and lets them through together, so they race every time.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import make_url, text

from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.simulator import SlackSimulator
from storage.db import Database
from tests.support import processes
from tests.support.tcpproxy import TcpProxy

SECRET = "replica-test-secret"
REPLICAS = 2


def test_replicas_started_together_on_an_empty_database_all_become_healthy(
        fresh_database_url: str, tmp_path: Path) -> None:
    proxy = None
    database_url = fresh_database_url
    if database_url.startswith("postgresql"):
        url = make_url(database_url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        database_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False)
        proxy.hold()
    with FakeSlack(bot_token="xoxb-fake") as fake:
        fake.add_user("U0LEAD", "lee")
        general = fake.add_channel("general", members=["U0LEAD"])
        ports = [processes.free_port() for _ in range(REPLICAS)]
        env = {"SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake.url, "DATABASE_URL": database_url,
               "DB_CONNECT_TIMEOUT": "60", "LOG_LEVEL": "INFO"}
        procs = [processes.start("serve", {**env, "PORT": str(port),
                                           "SPOOL_DIR": str(tmp_path / f"spool-{port}")},
                                 tmp_path) for port in ports]
        errors = []
        try:
            if proxy is not None:  # both are connecting to migrate: let them in together
                deadline = time.monotonic() + 60
                while proxy.held < REPLICAS and time.monotonic() < deadline:
                    assert all(p.poll() is None for p in procs)
                    time.sleep(0.02)
                assert proxy.held == REPLICAS
                proxy.release()
            for port, proc in zip(ports, procs, strict=True):
                processes.wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=60)
            # Both serve: each opens an incident on the one schema.
            for n, port in enumerate(ports, start=1):
                sim = SlackSimulator(f"http://127.0.0.1:{port}", SECRET, team_id=fake.team_id,
                                     fake=fake)
                assert sim.command(f"start Replica {n}", channel=general).status == 200
                fake.wait_for_calls("pins.add", count=n, timeout=10)
        finally:
            if proxy is not None:
                proxy.release()
            for proc in procs:
                errors.append(processes.stop(proc)[1])
        for proc, err in zip(procs, errors, strict=True):
            assert proc.returncode == 0, err
            assert "Traceback" not in err, err
        # One of them ran the migration, the other found the schema current.
        assert sum("Running upgrade  -> 0001" in err for err in errors) == 1, errors
    db = Database(fresh_database_url)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        db.dispose()
