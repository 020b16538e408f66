"""Cached Slack profiles (display name, time zone)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import SlackUser


def get_many(session: Session, user_ids: Iterable[str]) -> Sequence[SlackUser]:
    ids = list(set(user_ids))
    if not ids:
        return []
    return session.scalars(select(SlackUser).where(SlackUser.user_id.in_(ids))).all()


def upsert(session: Session, *, user_id: str, team_id: str | None, display_name: str,
           tz: str | None, deleted: bool, now: dt.datetime) -> None:
    """Insert or refresh a profile; two replicas caching the same person cannot collide."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"team_id": team_id, "display_name": display_name, "tz": tz, "deleted": deleted,
              "fetched_at": now}
    session.execute(insert(SlackUser).values(user_id=user_id, **values)
                    .on_conflict_do_update(index_elements=[SlackUser.user_id], set_=values))
