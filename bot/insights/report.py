"""Read the insights for one viewer: six statements (``storage.insights``), then the rules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.insights import rules
from storage import insights as repo
from storage.insights import Scope


def gather(session: Session, scope: Scope, now: dt.datetime, zone: ZoneInfo, due_days: int,
           top: int = rules.TOP_OWNERS) -> rules.Insights:
    """Everything the insights page shows, in a fixed number of statements."""
    weeks = rules.weeks(now, zone)
    months = rules.months(now, zone)
    weekly = rules.count_series(weeks, repo.counts(session, scope, rules.edges(weeks)))
    monthly = rules.count_series(months, repo.counts(session, scope, rules.edges(months)))
    timed = repo.durations(session, scope, rules.edges(months))
    resolved = repo.resolutions(session, scope, months[0].start, months[-1].end)
    total, owners = repo.overdue(session, scope, rules.overdue_before(now, zone), top)
    notes = []
    if timed.truncated or resolved.truncated:
        notes.append(f"Times are computed from the latest {repo.MAX_ROWS:,} incidents "
                     "declared in the period only.")
    return rules.Insights(
        now=now, zone=zone.key, due_days=due_days, weekly=weekly, monthly=monthly,
        durations=rules.duration_series(months, timed.rows),
        on_time=rules.on_time_series(months, resolved.rows, now, due_days, zone),
        overdue=rules.Overdue(total, tuple(rules.Owner(*o) for o in owners)),
        notes=tuple(notes),
    )
