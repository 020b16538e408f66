"""Cached Slack profiles (display name, time zone)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import SlackUser


def get_many(session: Session, user_ids: Iterable[str]) -> Sequence[SlackUser]:
    ids = list(set(user_ids))
    if not ids:
        return []
    return session.scalars(select(SlackUser).where(SlackUser.user_id.in_(ids))).all()


def upsert(session: Session, *, user_id: str, team_id: str | None, display_name: str,
           tz: str | None, deleted: bool, now: dt.datetime) -> SlackUser:
    row = session.get(SlackUser, user_id)
    if row is None:
        row = SlackUser(user_id=user_id)
        session.add(row)
    row.team_id, row.display_name, row.tz, row.deleted, row.fetched_at = (
        team_id, display_name, tz, deleted, now)
    session.flush()
    return row
