"""Each page costs a fixed number of SQL statements, whatever the data's size."""

from __future__ import annotations

from storage.db import Database
from tests.postmortem.fixtures import at, seed_large, seed_realistic
from tests.web.conftest import add_incident, counting, make_app

#: Statements per page: SELECTs, plus SQLite's BEGIN IMMEDIATE for each transaction.
LIST_SELECTS = 2  # the page of incidents, the leads' names
INCIDENT_SELECTS = 7  # the incident; entries, their count, tasks, improvements, versions, names


def selects(statements: list[str]) -> int:
    return sum(s.lstrip().upper().startswith("SELECT") for s in statements)


def test_the_list_costs_the_same_for_3_or_300_incidents(db: Database) -> None:
    client = make_app(db).test_client()
    counts = []
    for total in (3, 300):
        while _count(db) < total:
            add_incident(db, "Incident", started=at(_count(db)))
        with counting(db) as statements:
            assert client.get("/incidents?status=investigating&q=incident").status_code == 200
        assert selects(statements) == LIST_SELECTS, statements
        counts.append(len(statements))
    assert counts[0] == counts[1]


def _count(db: Database) -> int:
    from sqlalchemy import func, select

    from storage.models import Incident

    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Incident)) or 0)


def test_an_incident_page_costs_the_same_for_23_or_2000_entries(db: Database) -> None:
    seed_realistic(db)
    seed_large(db, entries=2_000, tasks=150, team_id="T0001")  # INC-8
    client = make_app(db).test_client()
    counts = []
    for ref in ("INC-7", "INC-8"):
        with counting(db) as statements:
            assert client.get(f"/incidents/{ref}").status_code == 200
        assert selects(statements) == INCIDENT_SELECTS, statements
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_tasks_cost_two_selects(db: Database) -> None:
    seed_large(db, entries=0, tasks=600)
    client = make_app(db).test_client()
    with counting(db) as statements:
        html = client.get("/tasks").get_data(as_text=True)
    assert selects(statements) == 2, statements
    assert "Showing the first 500 tasks" not in html  # 200 of the 600 are open
