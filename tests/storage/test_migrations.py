"""Migrations keep what is stored: 0003 numbers existing timeline entries as they were listed.

Runs on SQLite and on a fresh PostgreSQL database of its own (the shared test database is
already at the newest revision).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select, text

from storage import timeline
from storage.db import MIGRATIONS, Database
from storage.models import Incident, TimelineEntry
from tests.conftest import PG_ADMIN_URL, _pg_admin

T0 = dt.datetime(2024, 5, 3, 10, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"sitrep_migration_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}", pytrace=False)
        pytest.skip("PostgreSQL is not reachable (set CI=true to make this a failure)")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def upgrade(db: Database, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_existing_entries_get_the_numbers_they_were_listed_under(fresh_url: str) -> None:
    db = Database(fresh_url)
    try:
        upgrade(db, "0002_text_as_typed")
        with db.engine.begin() as conn:
            for number in (1, 2):
                conn.execute(text(
                    "INSERT INTO incidents (id, team_id, number, title, severity, status,"
                    " created_by, created_at, started_at, ended_at_set, updated_at) VALUES"
                    " (:id, 'T1', :id, 't', 'sev3', 'investigating', 'U1', :t, :t, false, :t)"),
                    {"id": number, "t": T0})
            # Inserted out of time order, as a backdated note would be; two at one time.
            for entry_id, incident_id, minutes, sort_ts in (
                    (1, 1, 30, ""), (2, 1, 10, ""), (3, 2, 5, ""), (4, 1, 20, "2.0"),
                    (5, 1, 20, "1.0"), (6, 2, 1, "")):
                conn.execute(text(
                    "INSERT INTO timeline_entries (incident_id, kind, occurred_at, sort_ts,"
                    " text, created_at) VALUES (:inc, 'note', :at, :ts, :txt, :at)"),
                    {"inc": incident_id, "ts": sort_ts, "txt": f"e{entry_id}",
                     "at": T0 + dt.timedelta(minutes=minutes)})
        upgrade(db, "head")
        with db.session() as s:
            numbered = s.execute(select(TimelineEntry.incident_id, TimelineEntry.text,
                                        TimelineEntry.seq)
                                 .order_by(TimelineEntry.incident_id, TimelineEntry.seq)).all()
            assert [tuple(r) for r in numbered] == [
                (1, "e2", 1), (1, "e5", 2), (1, "e4", 3), (1, "e1", 4),
                (2, "e6", 1), (2, "e3", 2)]
            assert s.scalars(select(Incident.last_entry_seq).order_by(Incident.id)).all() == [
                4, 2]
            # 0007_private_incidents: existing incidents are public and hold no roles.
            assert s.execute(select(Incident.is_private, Incident.roles)
                             .order_by(Incident.id)).all() == [(False, None), (False, None)]
            # The next entry continues the incident's count.
            added = timeline.add(s, incident_id=2, kind="note", occurred_at=T0.replace(
                tzinfo=dt.UTC), now=T0.replace(tzinfo=dt.UTC), text="new")
            assert added.seq == 3
        unique = inspect(db.engine).get_unique_constraints("timeline_entries")
        assert any(c["column_names"] == ["incident_id", "seq"] for c in unique)
    finally:
        db.dispose()
