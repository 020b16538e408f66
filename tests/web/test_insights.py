"""``/insights`` through Flask's test client: the numbers, the charts (accessible SVG with
their tables), privacy for a signed-in viewer, and hostile text escaped."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterator
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.settings import Settings
from bot.web import app as web
from bot.web import insights as page
from storage.db import Database
from tests.insights.fixtures import NOW, TEAM, add, name

HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "{{7*7}}"]
SVG = "{http://www.w3.org/2000/svg}"


def client_for(db: Database, auth: str = "none") -> FlaskClient:
    settings = Settings(database_url=db.url, timezone=ZoneInfo("Europe/Paris"), web_auth=auth,
                        web_secret_key="test", host="127.0.0.1")
    deps = Deps(settings=settings, db=db, clock=FixedClock(NOW))
    return web.create_app(deps).test_client()


@pytest.fixture
def seeded(db: Database) -> Iterator[Database]:
    resolved = dt.datetime(2026, 2, 2, 9, tzinfo=dt.UTC)  # Monday 10:00 in Paris
    add(db, started=resolved - dt.timedelta(hours=2), detected=resolved - dt.timedelta(hours=1),
        resolved=resolved, severity="sev1", title=HOSTILE[0],
        published=[resolved + dt.timedelta(days=1)],
        tasks=[("U0HOSTILE", dt.date(2026, 3, 1), "open"), ("U0ANN", dt.date(2026, 3, 2),
                                                              "open")])
    add(db, started=resolved, detected=resolved + dt.timedelta(minutes=30),
        resolved=resolved + dt.timedelta(hours=4), severity="sev3", title=HOSTILE[1])
    add(db, started=NOW - dt.timedelta(days=1), severity="sev2", title=HOSTILE[2],
        private=True, channel="C0SECRET", tasks=[("U0BOB", dt.date(2026, 3, 1), "open")])
    for i, text in enumerate(HOSTILE):
        name(db, f"U0H{i}", text)
    name(db, "U0HOSTILE", HOSTILE[1])
    name(db, "U0ANN", "ann")
    yield db


def _cells(html: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert table, table_id
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def test_the_page_shows_the_numbers_in_tables(seeded: Database) -> None:
    response = client_for(seeded).get("/insights")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    monthly = _cells(html, "table-monthly")
    assert monthly[0] == ["Month", "SEV1", "SEV2", "SEV3", "SEV4", "Total"]
    assert monthly[1] == ["2026-03", "0", "1", "0", "0", "1"]  # newest first; private seen
    assert monthly[2] == ["2026-02", "1", "0", "1", "0", "2"]
    assert len(monthly) == 13
    weekly = _cells(html, "table-weekly")
    assert weekly[1][:2] == ["2026-W11", "2026-03-09"] and len(weekly) == 27
    detect = _cells(html, "table-detect")
    assert detect[2] == ["2026-02", "2", "45m", "57m"]  # 1h and 30m: p90 = 30 + 0.9 * 30
    resolve = _cells(html, "table-resolve")
    assert resolve[2] == ["2026-02", "2", "3h", "3h 48m"]
    on_time = _cells(html, "table-on-time")
    assert on_time[2] == ["2026-02", "1", "0", "1", "0", "50%"]
    assert on_time[1][-1] == "—"
    assert "<strong>3</strong> open" in html
    assert _cells(html, "table-overdue")[1:] == [  # most first, then by user id
        ["ann", "1"], ["U0BOB", "1"], ["&#34;&gt;&lt;img src=x onerror=alert(1)&gt;", "1"]]


def test_each_chart_is_accessible_svg(seeded: Database) -> None:
    html = client_for(seeded).get("/insights").get_data(as_text=True)
    charts = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(charts) == 5
    for chart in charts:
        root = ElementTree.fromstring(chart)  # well-formed XML
        chart_id = root.get("id")
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
        assert root.find(f"{SVG}title").get("id") == f"{chart_id}-title"
        assert root.find(f"{SVG}desc").get("id") == f"{chart_id}-desc"
        assert root.find(f"{SVG}title").text and root.find(f"{SVG}desc").text
        assert "style=" not in chart and "<script" not in chart
    bars = [r for r in ElementTree.fromstring(charts[1]).iter(f"{SVG}rect")]
    assert {b.find(f"{SVG}title").text for b in bars} == {
        "2026-02 · SEV1: 1", "2026-02 · SEV3: 1", "2026-03 · SEV2: 1"}


def test_no_script_no_inline_style_and_hostile_names_escaped(seeded: Database) -> None:
    add(seeded, started=NOW - dt.timedelta(days=20), title=HOSTILE[2],
        tasks=[(f"U0H{i}", dt.date(2026, 3, 1), "open") for i in range(3)])
    response = client_for(seeded).get("/insights")
    html = response.get_data(as_text=True)
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert "<img" not in html
    owners = [row[0] for row in _cells(html, "table-overdue")[1:]]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in owners
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in owners
    assert "{{7*7}}" in owners  # shown as typed, never evaluated
    assert ">49<" not in html
    assert "alert(1)<" not in html  # nothing hostile unescaped (titles are not shown)


def test_an_empty_database_shows_empty_charts(db: Database) -> None:
    html = client_for(db).get("/insights").get_data(as_text=True)
    assert "No incidents in these weeks" in html
    assert "No incident with this time recorded" in html
    assert "<strong>0</strong> open tasks past their due date" in " ".join(html.split())
    assert 'id="table-overdue"' not in html


def test_a_signed_in_viewer_sees_private_incidents_only_as_a_member(
        seeded: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def members() -> page.access.Members:
        def of(channel: str) -> Collection[str] | None:
            asked.append(channel)
            return {"U0MEMBER"}
        return of

    monkeypatch.setattr(page, "channel_members", members)
    client = client_for(seeded, auth="slack")
    signed_out = client.get("/insights")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    for user, total in (("U0OUTSIDER", "0"), ("U0MEMBER", "1")):
        with client.session_transaction() as session:
            session["viewer"] = {"team_id": TEAM, "user_id": user}
        html = client.get("/insights").get_data(as_text=True)
        assert _cells(html, "table-monthly")[1][-1] == total, user
    assert asked == ["C0SECRET", "C0SECRET"]
    with client.session_transaction() as session:
        session["viewer"] = {"team_id": "T0OTHER", "user_id": "U0MEMBER"}
    html = client.get("/insights").get_data(as_text=True)
    assert _cells(html, "table-monthly")[2][-1] == "0"  # another workspace's incidents
