"""The web view under Flask's test client, on SQLite and PostgreSQL, with a fixed clock."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Collection, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.settings import Settings
from bot.web.app import create_app
from storage import incidents
from storage.db import Database
from storage.models import Incident
from tests.postmortem.fixtures import NOW, TEAM

PARIS = ZoneInfo("Europe/Paris")


class Members:
    """Stands in for ``Deps.members``: channel → its members, and the channels asked."""

    def __init__(self, channels: dict[str, Collection[str]] | None = None) -> None:
        self.channels = channels or {}
        self.asked: list[str] = []

    def get(self, _client: Any, channel_id: str) -> Collection[str] | None:
        self.asked.append(channel_id)
        return self.channels.get(channel_id)


def make_app(db: Database, *, auth: str = "none", members: Members | None = None,
             **settings: Any) -> Flask:
    config = Settings(database_url=db.url, timezone=PARIS, host="127.0.0.1", web_auth=auth,
                      web_secret_key="test-secret", **settings)
    deps = Deps(settings=config, db=db, clock=FixedClock(NOW))
    if members is not None:
        deps.members = members  # type: ignore[assignment]
    app = create_app(deps)
    app.config["TESTING"] = True
    return app


def sign_in(client: FlaskClient, user_id: str, team_id: str = TEAM) -> None:
    """A signed-in viewer, as Sign in with Slack leaves one in the session."""
    with client.session_transaction() as session:
        session["viewer"] = {"team_id": team_id, "user_id": user_id}


@pytest.fixture
def app(db: Database) -> Flask:
    return make_app(db)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def add_incident(db: Database, title: str, *, started: dt.datetime, team_id: str = TEAM,
                 status: str = "investigating", severity: str = "sev3", **fields: Any) -> int:
    """An incident straight through the repository; returns its number."""
    fields.setdefault("lead_user_id", "U0LEAD")
    fields.setdefault("created_by", "U0LEAD")
    with db.session() as s:
        incident = incidents.create(s, team_id=team_id, now=started, title=title,
                                    severity=severity, status=status, started_at=started,
                                    **fields)
        return incident.number


def incident_id(db: Database, number: int, team_id: str = TEAM) -> int:
    with db.session() as s:
        found = incidents.by_number(s, team_id, number)
        assert found is not None
        return found.id


def get_incident(db: Database, number: int, team_id: str = TEAM) -> Incident:
    with db.session() as s:
        found = incidents.by_number(s, team_id, number)
        assert found is not None
        return found


@contextlib.contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
