"""Migration 0002: text stored in Slack's markup (before) reads as typed (after), and back."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from storage.db import MIGRATIONS, Database

NOW = dt.datetime(2026, 3, 12, 15, 4, 5, tzinfo=dt.UTC)
WIRE_TITLE = "Checkout &amp; login fail for &lt;EU&gt; users"
WIRE_NOTE = ("<@U0BOB> saw <https://x.io/a?b=1&amp;c=2|the graph> &amp;lt; is literal, "
             "@channel")


def _alembic(db: Database, target: str, down: bool = False) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


@pytest.fixture
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """A database of each backend at revision 0001 (before the text convention)."""
    if "postgresql" in request.node.name:
        base = request.getfixturevalue("pg_url")
        if base is None:
            pytest.skip("PostgreSQL is not reachable")
        from tests.conftest import _pg_admin

        name = f"sitrep_migration_{uuid.uuid4().hex[:8]}"
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        request.addfinalizer(lambda: _drop(name))
        url = base.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    request.addfinalizer(db.dispose)
    _alembic(db, "0001")
    return db


def _drop(name: str) -> None:
    from tests.conftest import _pg_admin

    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_stored_markup_is_decoded_once_and_can_be_encoded_back(old_db: Database,
                                                               backend: str) -> None:
    with old_db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO incidents (id, team_id, number, title, severity, status, created_by, "
            "started_at, ended_at_set, summary, created_at, updated_at) VALUES (1, 'T1', 1, "
            ":title, 'sev2', 'investigating', 'U1', :now, false, :summary, :now, :now)"),
            {"title": WIRE_TITLE, "summary": "a &lt; b", "now": NOW})
        for i, (kind, body) in enumerate([("note", WIRE_NOTE), ("event", WIRE_TITLE),
                                          ("message", "already plain &amp; kept")], 1):
            conn.execute(text(
                "INSERT INTO timeline_entries (id, incident_id, kind, occurred_at, sort_ts, "
                "text, created_at) VALUES (:id, 1, :kind, :now, '', :text, :now)"),
                {"id": i, "kind": kind, "text": body, "now": NOW})
        conn.execute(text(
            "INSERT INTO channel_messages (channel_id, ts, text, created_at) "
            "VALUES ('C1', '1.000001', :text, :now)"), {"text": WIRE_NOTE, "now": NOW})

    _alembic(old_db, "head")
    with old_db.engine.connect() as conn:
        assert conn.execute(text("SELECT title, summary FROM incidents")).one() == \
            ("Checkout & login fail for <EU> users", "a < b")
        assert [r[0] for r in conn.execute(text("SELECT text FROM timeline_entries "
                                                "ORDER BY id"))] == [
            "<@U0BOB> saw <https://x.io/a?b=1&amp;c=2|the graph> &lt; is literal, @channel",
            "Checkout & login fail for <EU> users",
            "already plain &amp; kept",  # message entries were readable text already
        ]
        assert conn.execute(text("SELECT text FROM channel_messages")).scalar_one() == \
            "<@U0BOB> saw <https://x.io/a?b=1&amp;c=2|the graph> &lt; is literal, @channel"

    _alembic(old_db, "0001", down=True)
    with old_db.engine.connect() as conn:
        assert conn.execute(text("SELECT title FROM incidents")).scalar_one() == WIRE_TITLE
        assert conn.execute(text("SELECT text FROM channel_messages")).scalar_one() == WIRE_NOTE
