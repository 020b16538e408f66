"""Benchmark: compile and publish the postmortem of an incident of 10,000 entries, 500 tasks.

``measure(database_url)`` runs a ``Sandbox`` (fake Slack + the real app) on that database
and returns ``(metric, value, unit)`` rows:

- time to compile (read in a fixed number of queries, build, render the Markdown), median
  of several runs, and the number of SQL statements one compile costs;
- time of ``/incident postmortem publish`` end to end (signed request in, stored version,
  messages posted and file uploaded, reply out), and the Web API calls it made.
"""

from __future__ import annotations

import statistics
import sys
import time
from zoneinfo import ZoneInfo

from sqlalchemy import event, select

from bot.postmortem import compile as postmortem
from bot.postmortem.templates import Templates
from bot.sandbox.sandbox import Sandbox
from storage.models import Incident
from tests.postmortem.fixtures import add_bulk

ENTRIES = 10_000
TASKS = 500
RUNS = 7


def measure(database_url: str) -> list[tuple[str, float, str]]:
    with Sandbox(database_url, timezone=ZoneInfo("Europe/Paris")) as sb:
        sb.sim.command("start sev1 Benchmark incident", channel=sb.general)
        assert sb.fake.wait_for(lambda: any("is open" in r.get("text", "")
                                            for r in sb.fake.responses), timeout=10)
        channel = sb.fake.calls_to("pins.add")[-1].args["channel"]
        with sb.db.session() as s:
            incident_id = s.scalars(select(Incident.id).where(
                Incident.channel_id == channel)).one()
        add_bulk(sb.db, incident_id, ENTRIES, TASKS)

        templates = Templates()
        statements = [0]

        def count(*_args: object) -> None:
            statements[0] += 1

        timings = []
        for _ in range(RUNS):
            statements[0] = 0
            event.listen(sb.db.engine, "before_cursor_execute", count)
            started = time.perf_counter()
            pm = postmortem.compile_incident(sb.db, incident_id, sb.settings.timezone,
                                             now=sb.deps.clock.now())
            markdown = postmortem.render(pm, templates, "md").text
            timings.append(time.perf_counter() - started)
            event.remove(sb.db.engine, "before_cursor_execute", count)
        assert len(pm.timeline) >= ENTRIES and len(pm.tasks) == TASKS and markdown

        calls = len(sb.fake.calls)
        replies = len(sb.fake.responses)
        started = time.perf_counter()
        sb.sim.command("postmortem publish", channel=channel)
        assert sb.fake.wait_for(lambda: any("Published version" in r.get("text", "")
                                            for r in sb.fake.responses[replies:]), timeout=30)
        publish = time.perf_counter() - started
        publish_calls = len(sb.fake.calls) - calls

    return [
        ("postmortem.compile_ms", round(statistics.median(timings) * 1000, 1), "ms"),
        ("postmortem.compile_sql_statements", float(statements[0]), "statements"),
        ("postmortem.publish_end_to_end_ms", round(publish * 1000, 1), "ms"),
        ("postmortem.publish_web_api_calls", float(publish_calls), "calls"),
    ]


if __name__ == "__main__":
    for row in measure(sys.argv[1] if len(sys.argv) > 1 else "sqlite:///data/bench.db"):
        print(*row)
