"""Fixtures: every storage and end-to-end test runs on SQLite and on PostgreSQL.

PostgreSQL is at ``PG_URL`` (default: 127.0.0.1:5432, user postgres, database test). Each
test session creates its own database there, so parallel runs do not collide. Without a
server the PostgreSQL tests are skipped, except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.common.clock import FixedClock
from bot.sandbox.sandbox import TRANSPORTS, Sandbox
from storage.db import Database
from storage.models import Base

PG_ADMIN_URL = os.environ.get("PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True,
                           connect_timeout=3)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    """A freshly migrated PostgreSQL database for this test session (None if unavailable)."""
    name = f"sitrep_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}", pytrace=False)
        yield None
        return
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    Database(url).migrate()
    yield url
    try:
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:
        pass


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    return path


def _truncate_pg(url: str) -> None:
    db = Database(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "sitrep.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    if url is None:
        pytest.skip("PostgreSQL is not reachable (set CI=true to make this a failure)")
    _truncate_pg(url)
    return url


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend, never migrated (PostgreSQL: created, then dropped)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    if request.getfixturevalue("pg_url") is None:
        pytest.skip("PostgreSQL is not reachable (set CI=true to make this a failure)")
    name = f"sitrep_fresh_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


#: The instant every ``clock`` starts at: a fixed Thursday afternoon, so that no test depends
#: on the day it runs (weekday, DST, month end).
TEST_START = dt.datetime(2026, 3, 12, 15, 4, 5, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_START)


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """How the app hears from Slack: signed HTTP requests, or Socket Mode envelopes.

    Every end-to-end test runs over both; one that is about HTTP itself (signatures, status
    codes) is marked ``http_only`` and runs over HTTP alone.
    """
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the Socket Mode run of ``http_only`` tests."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("transport") == "socket" and item.get_closest_marker("http_only"):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def sandbox(database_url: str, clock: FixedClock, transport: str) -> Iterator[Sandbox]:
    """Fake Slack + the real Bolt app, over HTTP or Socket Mode, on the given backend."""
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport) as sb:
        yield sb
