"""What the insights page reads, in a fixed number of statements whatever the number of
incidents: two grouped counts, two bounded selects of a few columns, two task counts.

Every query sees only what ``Scope`` lets through: the workspace's public incidents and the
private ones the caller already decided the viewer may see (``bot.incidents.access``
decides; storage only filters by the ids it is given, and by default shows no private
incident at all). Time buckets are given as UTC edges computed by the caller in the
incident time zone, so that SQLite (which knows no time zones) and PostgreSQL bucket alike:
an incident is in bucket ``i`` when ``edges[i] <= started_at < edges[i + 1]``.

Percentiles are not computed here: SQLite has no percentile aggregate, so ``durations``
returns each incident's bucket and its two durations in seconds (one bounded statement, at
most ``MAX_ROWS`` rows, computed by the database: ``epoch``) and the rules compute them in
Python, identically on both backends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, false, func, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, load_only
from sqlalchemy.sql.functions import FunctionElement

from storage.followups import resolved_at_of
from storage.models import Incident, PostmortemVersion, SlackUser, Task

#: The most incidents a bounded select returns (the latest declared first); a window
#: holding more is summarised from these, and ``truncated`` says so.
MAX_ROWS = 50_000


@dataclass(frozen=True)
class Scope:
    """Which incidents a viewer may count.

    ``team_id``: their workspace (None: every workspace, for ``WEB_AUTH=none`` only).
    ``private_ids``: the private incidents they may see. ``every_private``: all of them
    (``WEB_AUTH=none``: a local developer sees what a member of every channel would).
    """

    team_id: str | None
    private_ids: frozenset[int] = frozenset()
    every_private: bool = False

    @classmethod
    def of(cls, team_id: str | None, private_ids: Collection[int] = (), *,
           every_private: bool = False) -> Scope:
        return cls(team_id, frozenset(private_ids), every_private)


def visible(scope: Scope) -> ColumnElement[bool]:
    """The ``WHERE`` clause of the incidents ``scope`` lets through."""
    if scope.every_private:
        private: ColumnElement[bool] = true()
    elif scope.private_ids:
        private = Incident.id.in_(sorted(scope.private_ids))
    else:
        private = false()
    clause = or_(Incident.is_private.is_(False), private)
    if scope.team_id is not None:
        clause = and_(Incident.team_id == scope.team_id, clause)
    return clause


def private_incidents(session: Session, team_id: str | None) -> Sequence[Incident]:
    """The private incidents of the workspace, with only what ``access.may_see`` reads."""
    stmt = (select(Incident)
            .options(load_only(Incident.id, Incident.is_private, Incident.channel_id,
                               Incident.created_by, raiseload=True))
            .where(Incident.is_private.is_(True)))
    if team_id is not None:
        stmt = stmt.where(Incident.team_id == team_id)
    return session.scalars(stmt).all()


def _bucket(column: ColumnElement[dt.datetime], edges: Sequence[dt.datetime]
            ) -> ColumnElement[int]:
    """The index of the bucket ``column`` falls in (callers keep it within the edges)."""
    whens = [(column < edge, index) for index, edge in enumerate(edges[1:-1])]
    return case(*whens, else_=len(edges) - 2) if whens else case(else_=0)


def counts(session: Session, scope: Scope, edges: Sequence[dt.datetime]
           ) -> list[tuple[int, str, int]]:
    """``(bucket index, severity, incidents)`` of the incidents that started within
    ``edges`` (one grouped statement)."""
    if len(edges) < 2:
        return []
    inner = (select(_bucket(Incident.started_at, edges).label("bucket"),
                    Incident.severity.label("severity"))
             .where(visible(scope), Incident.started_at >= edges[0],
                    Incident.started_at < edges[-1])
             .subquery())
    # Grouped outside: PostgreSQL would not see two renderings of the CASE (each with its
    # own parameters) as the same expression.
    stmt = (select(inner.c.bucket, inner.c.severity, func.count())
            .group_by(inner.c.bucket, inner.c.severity))
    return [(int(b), str(s), int(n)) for b, s, n in session.connection().execute(stmt)]


class epoch(FunctionElement[float]):
    """A UTC timestamp column as POSIX seconds (a float), computed by the database.

    Cheaper than returning timestamps: no text to parse on SQLite, no time zone to attach
    on either backend, for ten thousand rows. Exact to the microsecond on PostgreSQL, to
    the millisecond on SQLite (``julianday`` keeps milliseconds; rounded there).
    """

    type = Float()
    inherit_cache = True


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"round((julianday({column}) - 2440587.5) * 86400.0, 3)"


@compiles(epoch)
def _epoch_postgresql(element: epoch, compiler: Any, **kw: Any) -> str:
    return (f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) "
            "AS DOUBLE PRECISION)")


@dataclass(frozen=True)
class Bounded:
    """At most ``limit`` rows of a select, and whether more were left out."""

    rows: list[tuple[Any, ...]]
    truncated: bool

    @classmethod
    def of(cls, rows: Sequence[Any], limit: int) -> Bounded:
        return cls(list(rows[:limit]), len(rows) > limit)


def _seconds(start: Any, end: Any) -> ColumnElement[float]:
    """``end - start`` in seconds (NULL when ``end`` is)."""
    return epoch(end) - epoch(start)


def durations(session: Session, scope: Scope, edges: Sequence[dt.datetime],
              limit: int = MAX_ROWS) -> Bounded:
    """``(bucket index, seconds to detect or None, seconds to resolve or None)`` of the
    incidents that started within ``edges`` and have a detection time or an end, the latest
    declared first (at most ``limit``; one statement)."""
    if len(edges) < 2:
        return Bounded([], False)
    stmt = (select(_bucket(Incident.started_at, edges),
                   _seconds(Incident.started_at, Incident.detected_at),
                   _seconds(Incident.started_at, Incident.ended_at))
            .where(visible(scope), Incident.started_at >= edges[0],
                   Incident.started_at < edges[-1],
                   or_(Incident.detected_at.is_not(None), Incident.ended_at.is_not(None)))
            .order_by(Incident.id.desc()).limit(limit + 1))
    return Bounded.of(session.connection().execute(stmt).all(), limit)


def resolutions(session: Session, scope: Scope, since: dt.datetime, until: dt.datetime,
                limit: int = MAX_ROWS) -> Bounded:
    """``(resolved at, first version published at or None)``, as POSIX seconds, of the
    resolved incidents whose latest resolution (the follow-up's moment,
    ``followups.resolved_at_of``) is in ``[since, until)``, the latest declared first (at
    most ``limit``; one statement)."""
    first_published = (select(func.min(PostmortemVersion.published_at))
                       .where(PostmortemVersion.incident_id == Incident.id)
                       .scalar_subquery())
    # MATERIALIZED: each correlated subquery runs once per incident (inlined, SQLite ran
    # the resolution's once for each place it is named: the filter, the order, the select).
    resolved = (select(Incident.id, resolved_at_of().label("resolved_at"),
                       first_published.label("published_at"))
                .where(visible(scope), Incident.status == "resolved")
                .cte("resolved").prefix_with("MATERIALIZED"))
    stmt = (select(epoch(resolved.c.resolved_at), epoch(resolved.c.published_at))
            .where(resolved.c.resolved_at >= since, resolved.c.resolved_at < until)
            .order_by(resolved.c.id.desc()).limit(limit + 1))
    return Bounded.of(session.connection().execute(stmt).all(), limit)


def overdue(session: Session, scope: Scope, before: dt.date, top: int
            ) -> tuple[int, list[tuple[str, str | None, int]]]:
    """How many open tasks of visible incidents are due before ``before``, and the ``top``
    owners with the most: ``(user id, cached display name or None, count)`` (two
    statements)."""
    where = (Task.status == "open", Task.due_date.is_not(None), Task.due_date < before,
             visible(scope))
    total = session.scalar(select(func.count()).select_from(Task)
                           .join(Incident, Incident.id == Task.incident_id).where(*where))
    per_owner = (select(Task.owner_user_id.label("owner"), func.count().label("n"))
                 .join(Incident, Incident.id == Task.incident_id).where(*where)
                 .group_by(Task.owner_user_id)
                 .order_by(func.count().desc(), Task.owner_user_id).limit(top)
                 .subquery())
    rows = session.execute(
        select(per_owner.c.owner, SlackUser.display_name, per_owner.c.n)
        .outerjoin(SlackUser, SlackUser.user_id == per_owner.c.owner)
        .order_by(per_owner.c.n.desc(), per_owner.c.owner))
    return int(total or 0), [(str(o), name, int(n)) for o, name, n in rows]
