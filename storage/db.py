"""Engine, pool and sessions: configured on purpose, for one process or many replicas.

The pool pings connections before use (a database restart leaves no dead connection
behind), is bounded, and gives up on a checkout after ``pool_timeout`` seconds so that a
user hears "database unavailable" well inside Slack's three seconds instead of waiting.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
#: PostgreSQL advisory lock held while migrating (any fixed number; this is "sitrep" in ASCII).
MIGRATION_LOCK = 0x736974726570
#: SQLite: how long a process waits for another one's migration (its write lock).
MIGRATION_WAIT_MS = 600_000
#: SQLite: how long a writer waits for another one's transaction otherwise.
BUSY_TIMEOUT_MS = 15_000

#: Exceptions that mean "the database cannot be reached right now", not a bug.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, PoolTimeout)


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means the database is down or saturated (retry later)."""
    if isinstance(exc, UNAVAILABLE_ERRORS):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass(frozen=True)
class PoolSettings:
    """Connection pool knobs (``DB_POOL_SIZE`` and friends)."""

    size: int = 5
    max_overflow: int = 5
    timeout: float = 2.0
    recycle: int = 1800
    connect_timeout: int = 2


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    """One engine and session factory; ``session()`` is a unit of work."""

    def __init__(self, url: str, pool: PoolSettings | None = None, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.pool = pool or PoolSettings()
        self.engine: Engine = _make_engine(self.url, self.pool, echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def healthy(self) -> bool:
        """Whether a trivial query succeeds now."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # any failure means "not healthy"; say why in the log
            log.warning("database health check failed: %s", exc.__class__.__name__)
            return False

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision, one process at a time.

        Replicas started together on an empty database would otherwise all create the
        tables and all but one crash (``UniqueViolation`` on ``alembic_version``). The
        upgrade runs in one transaction that first takes a lock: on PostgreSQL a
        transaction-level advisory lock (released by the commit, or if the process dies),
        on SQLite the database's write lock (``BEGIN IMMEDIATE``). The next process waits
        for it, then finds the schema current and has nothing to do.
        """
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        sqlite = self.dialect == "sqlite"
        with self.engine.connect() as conn:
            if sqlite:  # wait as long as another process's migration may take
                _busy_timeout(conn, MIGRATION_WAIT_MS)
            try:
                with conn.begin():  # SQLite: BEGIN IMMEDIATE, the write lock (below)
                    if not sqlite:
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                     {"key": MIGRATION_LOCK})
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
            finally:
                if sqlite:
                    _busy_timeout(conn, BUSY_TIMEOUT_MS)

    def dispose(self) -> None:
        self.engine.dispose()


def _busy_timeout(conn: Connection, ms: int) -> None:
    """Set SQLite's busy timeout on ``conn``'s driver connection (outside a transaction)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(ms)}")
    finally:
        cursor.close()


def _pooled(pool: PoolSettings) -> dict[str, object]:
    """The bounded, pre-pinged pool every file or server database gets."""
    return {"pool_pre_ping": True, "pool_size": pool.size, "max_overflow": pool.max_overflow,
            "pool_timeout": pool.timeout, "pool_recycle": pool.recycle}


def _make_engine(url: str, pool: PoolSettings, echo: bool) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, pool, echo)
    return create_engine(
        url, echo=echo, **_pooled(pool),
        connect_args={"connect_timeout": pool.connect_timeout, "application_name": "sitrep"},
    )


def _sqlite_engine(url: str, pool: PoolSettings, echo: bool) -> Engine:
    """SQLite with WAL and ``BEGIN IMMEDIATE``: writers queue instead of failing."""
    connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    if url in ("sqlite://", "sqlite:///:memory:"):
        # One shared in-memory database: every session must see the same connection.
        engine = create_engine(url, echo=echo, poolclass=StaticPool, connect_args=connect_args)
    else:
        path = url.split("///", 1)[-1]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, **_pooled(pool), connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
