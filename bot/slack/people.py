"""Who people are: display names and time zones from ``users.info``, cached.

Names and zones change rarely, and ``users.info`` is rate-limited, so a profile is read
from Slack at most once per ``TTL`` and kept in the database (shared by replicas) and in
memory (for hot paths such as rendering a timeline).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.common.clock import Clock
from bot.slack import errors
from bot.slack.client import error_code
from storage import users
from storage.db import Database

log = logging.getLogger(__name__)
TTL = dt.timedelta(hours=12)


class Needs(Protocol):
    """What ``People`` reads from ``bot.deps.Deps`` (named here, so that deps can own it)."""

    db: Database
    clock: Clock


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    tz: str | None
    deleted: bool = False

    def zone(self, default: ZoneInfo) -> ZoneInfo:
        """The person's own time zone, or ``default`` when Slack did not say."""
        try:
            return ZoneInfo(self.tz) if self.tz else default
        except (ZoneInfoNotFoundError, ValueError):
            return default


def _display_name(user: dict) -> str:
    profile = user.get("profile") or {}
    for name in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"),
                 user.get("name")):
        if name:
            return str(name)
    return str(user.get("id", "someone"))


class People:
    """Profile look-ups with a two-level cache (memory, then database, then Slack)."""

    def __init__(self, deps: Needs) -> None:
        self.deps = deps
        self._memory: dict[str, tuple[Person, dt.datetime]] = {}
        self._lock = threading.Lock()

    def get(self, client: WebClient, user_id: str, *, refresh: bool = False) -> Person:
        """The profile of ``user_id``; falls back to the bare id if Slack cannot say."""
        now = self.deps.clock.now()
        if not refresh:
            with self._lock:
                hit = self._memory.get(user_id)
            if hit and now - hit[1] < TTL:
                return hit[0]
            with self.deps.db.session() as s:
                rows = users.get_many(s, [user_id])
            if rows and now - rows[0].fetched_at < TTL:
                person = Person(user_id, rows[0].display_name, rows[0].tz, rows[0].deleted)
                self._remember(person, rows[0].fetched_at)
                return person
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            code = error_code(exc)
            if errors.person_gone(code):  # not account_inactive: that is our own token
                person = Person(user_id, user_id, None, deleted=True)
                self._store(person, None, now)
                return person
            log.warning("users.info %s failed: %s", user_id, code)
            return Person(user_id, user_id, None)
        person = Person(user_id, _display_name(user), user.get("tz"), bool(user.get("deleted")))
        self._store(person, user.get("team_id"), now)
        return person

    def name(self, client: WebClient, user_id: str) -> str:
        return self.get(client, user_id).name

    def _remember(self, person: Person, at: dt.datetime) -> None:
        with self._lock:
            self._memory[person.user_id] = (person, at)

    def _store(self, person: Person, team_id: str | None, now: dt.datetime) -> None:
        with self.deps.db.session() as s:
            users.upsert(s, user_id=person.user_id, team_id=team_id, display_name=person.name,
                         tz=person.tz, deleted=person.deleted, now=now)
        self._remember(person, now)
