"""Benchmark: ``/insights`` over 10,000 incidents (40,000 timeline entries, postmortem
versions for about half, ~10,000 tasks), all within the last twelve months.

``measure(database_url)`` returns ``(metric, value, unit)`` rows:

- the page through Flask's test client (``WEB_AUTH=none``: every incident counted), server
  time at the median and p95 of ``RUNS`` requests after a warm-up, this process's CPU time
  per request at p95 (on SQLite, the database's work too: wall time on a shared machine
  counts other people's work), and the SQL statements one request costs;
- the queries and rules alone (``report.gather``) for a viewer who may see 25 of the 500
  private incidents (the ``IN`` list of a signed-in viewer), p95.
"""

from __future__ import annotations

import statistics
import sys
import time
from zoneinfo import ZoneInfo

from sqlalchemy import event

from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.insights import report
from bot.settings import Settings
from bot.web.app import create_app
from storage.db import Database
from storage.insights import Scope
from tests.insights.fixtures import NOW, TEAM, bulk

INCIDENTS = 10_000
RUNS = 40


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def measure(database_url: str) -> list[tuple[str, float, str]]:
    db = Database(database_url)
    zone = ZoneInfo("Europe/Paris")
    private = bulk(db, INCIDENTS)
    settings = Settings(database_url=database_url, timezone=zone, web_auth="none",
                        host="127.0.0.1", web_secret_key="bench")
    client = create_app(Deps(settings=settings, db=db, clock=FixedClock(NOW))).test_client()

    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    assert client.get("/insights").status_code == 200  # warm-up
    page, cpu = [], []
    for _ in range(RUNS):
        statements[0] = 0
        event.listen(db.engine, "before_cursor_execute", count)
        started, used = time.perf_counter(), time.process_time()
        response = client.get("/insights")
        page.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<svg ") == 5

    scope = Scope.of(TEAM, private[::20])
    gathered = []
    for _ in range(RUNS):
        started = time.perf_counter()
        with db.session() as s:
            ins = report.gather(s, scope, NOW, zone, 5)
        gathered.append((time.perf_counter() - started) * 1000)
    assert ins.monthly.total > INCIDENTS * 0.9
    db.dispose()
    return [
        ("insights.page_ms_median", round(statistics.median(page), 1), "ms"),
        ("insights.page_ms_p95", round(_p95(page), 1), "ms"),
        ("insights.page_cpu_ms_p95", round(_p95(cpu), 1), "ms"),
        ("insights.page_sql_statements", float(statements[0]), "statements"),
        ("insights.gather_signed_in_ms_p95", round(_p95(gathered), 1), "ms"),
    ]


if __name__ == "__main__":
    for row in measure(sys.argv[1] if len(sys.argv) > 1 else "sqlite:///data/bench.db"):
        print(*row)
