"""Benchmark: the web view's incident list over 10,000 incidents and an incident page with
10,000 timeline entries, server time through the Flask app (``WEB_AUTH=none``).

``measure(database_url)`` returns ``(metric, value, unit)`` rows: p50 and p95 of each page
over ``RUNS`` requests after a warm-up (the list's first page, a filtered and searched list,
a later page; the incident page's first and a later page of its timeline), and the SQL
statements each costs (a fixed number: ``tests/web/test_queries.py`` asserts it).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import sys
import time
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert

from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.settings import Settings
from bot.web.app import create_app
from storage.db import Database
from storage.models import Counter, Incident
from tests.postmortem.fixtures import NOW, seed_large

INCIDENTS = 10_000
ENTRIES = 10_000
RUNS = 40
TEAM = "T0BENCH"


def _seed_incidents(db: Database) -> None:
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    with db.session() as s:
        s.execute(insert(Incident), [
            {"team_id": TEAM, "number": n, "title": f"Incident {n}: shard {n % 97} is slow",
             "severity": f"sev{1 + n % 4}",
             "status": ("investigating", "identified", "monitoring", "resolved")[n % 4],
             "lead_user_id": "U0LEAD", "created_by": "U0LEAD",
             "created_at": start + dt.timedelta(hours=n),
             "started_at": start + dt.timedelta(hours=n),
             "ended_at": start + dt.timedelta(hours=n, minutes=30) if n % 4 == 3 else None,
             "summary": f"Pool exhausted on shard {n % 97}" if n % 10 == 0 else None,
             "updated_at": start, "is_private": False}
            for n in range(1, INCIDENTS + 1)])
        s.execute(insert(Counter), [{"team_id": TEAM, "kind": "incident", "value": INCIDENTS}])


def _time(client, path: str, statements: list[int]) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    for _ in range(3):
        assert client.get(path).status_code == 200, path
    timings = []
    for _ in range(RUNS):
        statements[0] = 0
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return round(statistics.median(timings), 1), round(p95, 1), statements[0]


def measure(database_url: str) -> list[tuple[str, float, str]]:
    db = Database(database_url)
    _seed_incidents(db)
    big = seed_large(db, entries=ENTRIES, tasks=500, team_id=TEAM)
    with db.session() as s:
        number = s.get(Incident, big).number  # type: ignore[union-attr]
    settings = Settings(database_url=database_url, web_auth="none", host="127.0.0.1",
                        timezone=ZoneInfo("Europe/Paris"))
    client = create_app(Deps(settings=settings, db=db, clock=FixedClock(NOW))).test_client()
    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    html = client.get("/incidents").get_data(as_text=True)
    later = re.search(r'<a href="([^"]+)" rel="next">', html)
    assert later
    page = client.get(f"/incidents/INC-{number}").get_data(as_text=True)
    entries = re.search(r'<a href="([^"]+)" rel="next">Later entries', page)
    assert entries
    rows = []
    for name, path in (
        ("list", "/incidents"),
        ("list_filtered", "/incidents?status=resolved&severity=sev4&q=shard+slow"
                          "&from=2020-06-01&to=2021-06-01"),
        ("list_searched_all", "/incidents?q=pool+exhausted"),
        ("list_later_page", later.group(1).replace("&amp;", "&")),
        ("incident_10k_entries", f"/incidents/INC-{number}"),
        ("incident_10k_later_entries", entries.group(1).replace("&amp;", "&")),
    ):
        p50, p95, n = _time(client, path, statements)
        rows += [(f"web.{name}_p50_ms", p50, "ms"), (f"web.{name}_p95_ms", p95, "ms"),
                 (f"web.{name}_sql_statements", float(n), "statements")]
    event.remove(db.engine, "before_cursor_execute", count)
    db.dispose()
    return rows


if __name__ == "__main__":
    for row in measure(sys.argv[1] if len(sys.argv) > 1 else "sqlite:///data/bench.db"):
        print(*row)
