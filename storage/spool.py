"""The inbox: a local, fsync'd SQLite file of Slack events answered but not yet applied.

Every event Sitrep applies is appended here and answered; a worker (``bot.inbox``) applies
the entries to the main database afterwards. So an event is never lost to a slow Slack read
or a database outage longer than Slack's redelivery window (three retries in about five
minutes): it waits here, on the operator's persistent volume (``SPOOL_DIR``), and survives
restarts.

Durability: WAL with ``synchronous=FULL`` makes each committed append fsync the log before
the answer goes back to Slack. The standard library's ``sqlite3`` is enough: one file, one
writer lock, no server.

Order: entries come out by Slack's event time (``event_ts``), then arrival. An entry that
must wait (its Slack read is rate-limited) holds back the later entries of its channel only.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "inbox.sqlite3"
LOCK_NAME = "inbox.lock"


class SpoolInUse(Exception):
    """Another process holds this ``SPOOL_DIR``: each process needs its own."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT UNIQUE,
    channel     TEXT NOT NULL,
    event_time  REAL NOT NULL,
    received_at REAL NOT NULL,
    body        TEXT NOT NULL,
    hint        TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_try    REAL NOT NULL DEFAULT 0,
    last_error  TEXT
);
CREATE INDEX IF NOT EXISTS entries_order ON entries (event_time, id);
CREATE TABLE IF NOT EXISTS meta (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dead (
    id          INTEGER PRIMARY KEY,
    event_id    TEXT,
    channel     TEXT NOT NULL,
    event_time  REAL NOT NULL,
    received_at REAL NOT NULL,
    body        TEXT NOT NULL,
    hint        TEXT,
    attempts    INTEGER NOT NULL,
    last_error  TEXT,
    failed_at   REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    """One spooled event: the whole Events API body, as Slack sent it."""

    id: int
    event_id: str | None
    channel: str
    event_time: float
    body: dict[str, Any]
    hint: str | None
    attempts: int
    next_try: float


class Spool:
    """The inbox file. Thread-safe: appends come from many request threads at once."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / FILE_NAME
        # One process per inbox: two would each count (and apply) the other's entries.
        self._lockfile = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lockfile)
            raise SpoolInUse(f"SPOOL_DIR {self.directory} is in use by another Sitrep "
                             "process; give each process its own") from None
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                     timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # the append is on disk before the ack
        self._conn.executescript(_SCHEMA)
        self._depth = int(self._conn.execute("SELECT count(*) FROM entries").fetchone()[0])

    # -- writing -----------------------------------------------------------------------------
    def append(self, body: dict[str, Any], *, channel: str, event_time: float, now: float,
               hint: str | None = None) -> bool:
        """Store ``body`` durably; False if an entry with its event id is already waiting.

        Returns only after the commit (and so the fsync): the caller may then answer Slack.
        """
        event_id = body.get("event_id") if isinstance(body.get("event_id"), str) else None
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO entries (event_id, channel, event_time, received_at, "
                "body, hint, next_try) VALUES (?, ?, ?, ?, ?, ?, 0)",
                (event_id, channel, event_time, now, json.dumps(body), hint))
            added = cur.rowcount == 1
            if added:
                self._depth += 1
            return added

    def done(self, entry_id: int) -> None:
        """Forget an entry once its change is committed to the main database."""
        with self._lock:
            if self._conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,)).rowcount:
                self._depth -= 1

    def defer(self, entry_id: int, until: float, error: str, *, count: bool = True) -> None:
        """Try ``entry_id`` again at ``until`` (epoch seconds); ``count`` adds an attempt."""
        with self._lock:
            self._conn.execute(
                "UPDATE entries SET next_try = ?, last_error = ?, attempts = attempts + ? "
                "WHERE id = ?", (until, error[:500], 1 if count else 0, entry_id))

    def bury(self, entry_id: int, error: str, now: float) -> None:
        """Move an entry that keeps failing for a reason of its own aside, for the operator."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "INSERT INTO dead SELECT id, event_id, channel, event_time, received_at, "
                    "body, hint, attempts, ?, ? FROM entries WHERE id = ?",
                    (error[:500], now, entry_id))
                if self._conn.execute("DELETE FROM entries WHERE id = ?",
                                      (entry_id,)).rowcount:
                    self._depth -= 1
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def remember(self, key: str, value: str) -> None:
        """Keep a small fact beside the entries (``database_seen``: see ``bot.lifecycle``)."""
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                               (key, value))

    def recall(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # -- reading -----------------------------------------------------------------------------
    def ready(self, now: float, limit: int = 200) -> list[Entry]:
        """Entries that may be applied now, in event-time order.

        An entry waiting for a later try holds back its channel's later entries, so each
        channel's events are applied in their Slack order.
        """
        found: list[Entry] = []
        blocked: set[str] = set()
        for entry in self._scan():
            if entry.channel in blocked:
                continue
            if entry.next_try > now:
                blocked.add(entry.channel)
                continue
            found.append(entry)
            if len(found) >= limit:
                break
        return found

    def _scan(self) -> Iterator[Entry]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, event_id, channel, event_time, body, hint, attempts, next_try "
                "FROM entries ORDER BY event_time, id").fetchall()
        for row in rows:
            yield Entry(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6],
                        row[7])

    def next_try(self) -> float | None:
        """The earliest time a waiting entry may be tried (``None``: nothing waits)."""
        with self._lock:
            row = self._conn.execute("SELECT min(next_try) FROM entries").fetchone()
        return None if row[0] is None else float(row[0])

    @property
    def depth(self) -> int:
        """Entries not yet applied."""
        return self._depth

    def healthy(self) -> bool:
        """The spool's file answers a read (its volume is mounted and the file intact)."""
        try:
            with self._lock:
                self._conn.execute("SELECT max(rowid) FROM entries").fetchone()
        except sqlite3.Error:
            return False
        return True

    def dead_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM dead").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            if self._lockfile >= 0:
                os.close(self._lockfile)  # releases the flock
                self._lockfile = -1
