"""Incidents, tasks and postmortem versions for the insights tests and benchmark.

``add`` writes one incident as the bot would leave it (a ``resolved`` event on its timeline
when resolved); ``bulk`` writes thousands with Core inserts, deterministically.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, insert, select, text

from storage import users
from storage.db import Database
from storage.models import Incident, PostmortemVersion, Task, TimelineEntry

UTC = dt.UTC
TEAM = "T0INS"
#: When the insights are looked at: Thursday 12 March 2026, 15:04 UTC.
NOW = dt.datetime(2026, 3, 12, 15, 4, 5, tzinfo=UTC)
_numbers: dict[str, int] = {}


def add(db: Database, *, started: dt.datetime, severity: str = "sev2",
        detected: dt.datetime | None = None, ended: dt.datetime | None = None,
        resolved: dt.datetime | None = None, published: list[dt.datetime] | None = None,
        private: bool = False, channel: str | None = None, team: str = TEAM,
        title: str = "Incident", created_by: str = "U0CREATOR",
        tasks: list[tuple[str, dt.date | None, str]] | None = None) -> int:
    """One incident; ``resolved`` (the moment of its ``resolved`` event) makes it resolved.
    ``tasks``: ``(owner, due date, status)``."""
    with db.session() as s:
        number = _numbers[team] = _numbers.get(team, 0) + 1
        inc = Incident(team_id=team, number=number, title=title, severity=severity,
                       status="resolved" if resolved else "investigating",
                       created_by=created_by, lead_user_id=created_by, created_at=started,
                       started_at=started, detected_at=detected, ended_at=ended or resolved,
                       updated_at=resolved or started, is_private=private,
                       channel_id=channel)
        s.add(inc)
        s.flush()
        seq = 0
        if resolved:
            seq += 1
            s.add(TimelineEntry(incident_id=inc.id, seq=seq, kind="event",
                                event_type="resolved", occurred_at=resolved, text="Resolved",
                                created_at=resolved))
        for version, when in enumerate(published or [], 1):
            s.add(PostmortemVersion(incident_id=inc.id, version=version, markdown="# PM",
                                    published_by=created_by, published_at=when))
        for i, (owner, due, status) in enumerate(tasks or [], 1):
            s.add(Task(team_id=team, number=number * 100 + i, incident_id=inc.id,
                       owner_user_id=owner, text="Fix it", due_date=due, status=status,
                       created_by=created_by, created_at=started))
        inc.last_entry_seq = seq
        return inc.id


def name(db: Database, user_id: str, display_name: str) -> None:
    with db.session() as s:
        users.upsert(s, user_id=user_id, team_id=TEAM, display_name=display_name,
                     tz="Europe/Paris", deleted=False, now=NOW)


def bulk(db: Database, count: int, *, now: dt.datetime = NOW, seed: int = 17,
         team: str = TEAM, days: int = 360, private_every: int = 20,
         entries_per_incident: int = 4) -> list[int]:
    """``count`` incidents over the ``days`` before ``now``: most resolved (with a
    ``resolved`` event and a few other entries), half of those with postmortem versions,
    and tasks, some of them overdue. Returns the ids of the private ones."""
    rng = random.Random(seed)
    incidents, entries, versions, tasks = [], [], [], []
    private_ids = []
    with db.session() as s:  # after what is there (ids given here, for the child rows)
        base = max(s.scalar(select(func.max(Incident.id))) or 0,
                   s.scalar(select(func.max(Task.number))) or 0, 100_000)
    for n in range(base + 1, base + count + 1):
        started = now - dt.timedelta(seconds=rng.randrange(days * 86400))
        detected = started + dt.timedelta(seconds=rng.randrange(1, 4 * 3600))
        resolved = None
        if rng.random() < 0.9:
            resolved = min(now, started + dt.timedelta(seconds=rng.randrange(600, 3 * 86400)))
        private = n % private_every == 0
        incidents.append(dict(
            id=n, team_id=team, number=n, title=f"Incident {n} <script>", severity=rng.choice(
                ("sev1", "sev2", "sev2", "sev3", "sev3", "sev3", "sev4")),
            status="resolved" if resolved else "investigating", created_by="U0CREATOR",
            lead_user_id="U0LEAD", created_at=started, started_at=started,
            detected_at=detected if rng.random() < 0.8 else None, ended_at=resolved,
            ended_at_set=False, updated_at=resolved or started, is_private=private,
            channel_id=f"C{n:08d}", last_entry_seq=entries_per_incident))
        if private:
            private_ids.append(n)
        for seq in range(1, entries_per_incident + 1):
            last = seq == entries_per_incident and resolved is not None
            when = resolved if last else started + dt.timedelta(minutes=seq)
            entries.append(dict(
                incident_id=n, seq=seq, kind="event" if last or seq == 1 else "note",
                event_type="resolved" if last else ("opened" if seq == 1 else None),
                occurred_at=when, sort_ts="", text="entry", created_at=when))
        if resolved and rng.random() < 0.6:
            first = resolved + dt.timedelta(hours=rng.randrange(1, 24 * 12))
            for version in range(1, rng.randrange(2, 4)):
                versions.append(dict(incident_id=n, version=version, markdown="# PM",
                                     published_by="U0LEAD",
                                     published_at=first + dt.timedelta(days=version - 1)))
        for t in range(rng.randrange(0, 3)):
            due = (started + dt.timedelta(days=rng.randrange(1, 60))).date()
            tasks.append(dict(team_id=team, number=n * 10 + t, incident_id=n,
                              owner_user_id=f"U0OWNER{rng.randrange(40):02d}", text="Fix",
                              due_date=due, status=rng.choice(("open", "open", "done")),
                              created_by="U0LEAD", created_at=started, reminder_count=0,
                              send_failures=0))
    with db.session() as s:
        for model, rows in ((Incident, incidents), (TimelineEntry, entries),
                            (PostmortemVersion, versions), (Task, tasks)):
            for i in range(0, len(rows), 2000):
                s.execute(insert(model), rows[i:i + 2000])
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            for table in ("incidents", "timeline_entries", "postmortem_versions", "tasks"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table}))"))
            conn.execute(text("ANALYZE"))
    return private_ids
