"""Per-workspace sequences (INC-<n>, T-<n>), safe across concurrent replicas."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Counter


def next_value(session: Session, team_id: str, kind: str) -> int:
    """Atomically increment and return the counter ``kind`` of ``team_id`` (first is 1)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(Counter)
        .values(team_id=team_id, kind=kind, value=1)
        .on_conflict_do_update(
            index_elements=[Counter.team_id, Counter.kind], set_={"value": Counter.value + 1}
        )
        .returning(Counter.value)
    )
    return int(session.execute(stmt).scalar_one())


def reset(session: Session, team_id: str, kind: str) -> None:
    """Set a counter back to zero (tests and demo only)."""
    session.execute(
        update(Counter).where(Counter.team_id == team_id, Counter.kind == kind).values(value=0)
    )
