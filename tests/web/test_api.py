"""The read-only JSON API on SQLite and PostgreSQL: every endpoint with realistic data,
pages, filters, tokens, privacy, hostile text, and schemathesis against its own document."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.settings import Settings
from bot.web import api_rules
from bot.web.app import SECURITY_HEADERS, create_app
from storage import incidents, postmortem, timeline, users
from storage.db import Database
from tests.postmortem.fixtures import NOW, TEAM, add_bulk, seed_large, seed_realistic

TOKEN = "sitrep-test-token-1"
OTHER_TOKEN = "sitrep-test-token-2"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE_URL = "https://sitrep.example.com"
HOSTILE = ('<script>alert(1)</script> "><img src=x onerror=alert(2)> {{7*7}} {% raw %} '
           "&amp; \u2028 ' --")
#: Incidents opened besides INC-7: (severity, status, hours after 2024-05-01 UTC, title).
MORE = [(("sev1", "sev2", "sev3", "sev4")[n % 4],
         ("investigating", "identified", "monitoring", "resolved")[n % 4],
         n * 7, f"Incident {n}: " + ("disk full on db-2" if n % 5 == 0 else "queue backlog"))
        for n in range(23)]
DAY0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def _settings(**changes: Any) -> Settings:
    hashes = tuple(hashlib.sha256(t.encode()).hexdigest() for t in (TOKEN, OTHER_TOKEN))
    return dataclasses.replace(Settings(), **{"api_token_hashes": hashes,
                                              "web_base_url": BASE_URL, **changes})


def _app(db: Database, **changes: Any) -> Flask:
    deps = Deps(settings=_settings(**changes), db=db, clock=FixedClock(NOW))
    return create_app(deps)


@dataclasses.dataclass
class World:
    db: Database
    client: FlaskClient
    app: Flask
    inc7: int
    private_ref: str
    hostile_ref: str
    public_refs: list[str]


def _seed(db: Database) -> tuple[int, str, str]:
    """INC-7 (realistic, two published postmortem versions), INC-8 … INC-30, a private
    incident, and a public one whose every text is hostile."""
    inc7 = seed_realistic(db)
    with db.session() as s:
        postmortem.add_version(s, incident_id=inc7, version=1, markdown="# INC-7 draft\n",
                               published_by="U0LEAD", now=NOW)
        postmortem.add_version(s, incident_id=inc7, version=2,
                               markdown="# INC-7\n\nRoot cause: <pool> & retries\n",
                               published_by="U0ALICE", now=NOW + dt.timedelta(hours=2))
        for severity, status, hours, title in MORE:
            start = DAY0 + dt.timedelta(hours=hours)
            incidents.create(s, team_id=TEAM, now=start, title=title, severity=severity,
                             status=status, lead_user_id="U0BOB", created_by="U0GONE",
                             started_at=start, channel_id=f"C0X{hours}",
                             root_cause="100% of the 50_percent pool" if hours == 14 else None)
        private = incidents.create(
            s, team_id=TEAM, now=NOW, title="Secret: payroll data exposed", severity="sev1",
            status="investigating", lead_user_id="U0LEAD", created_by="U0LEAD",
            started_at=NOW, channel_id="G0SECRET", is_private=True)
        users.upsert(s, user_id="U0EVIL", team_id=TEAM, display_name=HOSTILE, tz=None,
                     deleted=False, now=NOW)
        hostile = incidents.create(
            s, team_id=TEAM, now=NOW, title=HOSTILE, severity="sev2", status="identified",
            lead_user_id="U0EVIL", created_by="U0EVIL", started_at=NOW, summary=HOSTILE,
            channel_id="C0EVIL", roles={"comms": "U0EVIL"})
        timeline.add(s, incident_id=hostile.id, kind="note", occurred_at=NOW, now=NOW,
                     actor_user_id="U0EVIL", text=HOSTILE)
        return inc7, private.ref, hostile.ref


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    inc7, private_ref, hostile_ref = _seed(db)
    app = _app(db)
    numbers = [7, *range(8, 8 + len(MORE)), int(hostile_ref[4:])]
    yield World(db, app.test_client(), app, inc7, private_ref, hostile_ref,
                [f"INC-{n}" for n in sorted(numbers, reverse=True)])
    app.extensions["sitrep"].after_ack.shutdown()


@pytest.fixture
def schema(world: World) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)


def get(world: World, path: str, headers: dict[str, str] | None = None) -> Any:
    return world.client.get(path, headers=AUTH if headers is None else headers)


def _conforms(schema: Any, path: str, response: Any) -> None:
    """The response matches its operation's schema in the OpenAPI document."""
    schema[path]["GET"].validate_response(response)


def _json_answer(response: Any, status: int) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    return json.loads(response.get_data(as_text=True))


# --- The list -----------------------------------------------------------------------------


def test_list_newest_first_with_public_fields(world: World, schema: Any) -> None:
    response = get(world, "/api/v1/incidents?limit=100")
    body = _json_answer(response, 200)
    _conforms(schema, "/api/v1/incidents", response)
    assert [i["ref"] for i in body["incidents"]] == world.public_refs
    assert body["next_cursor"] is None and body["limit"] == 100
    inc7 = next(i for i in body["incidents"] if i["ref"] == "INC-7")
    assert inc7 == {
        "ref": "INC-7", "number": 7, "team_id": TEAM,
        "title": "Checkout is failing & payments time out", "description": None,
        "severity": "sev1", "status": "resolved",
        "lead": {"id": "U0ALICE", "name": "alice"}, "roles": {},
        "created_by": {"id": "U0LEAD", "name": "lee"},
        "created_at": "2024-05-03T21:18:00Z", "started_at": "2024-05-03T21:00:00Z",
        "detected_at": "2024-05-03T21:02:00Z", "ended_at": "2024-05-03T22:30:00Z",
        "updated_at": "2024-05-03T21:18:00Z",
        "summary": "Checkout failed for 30% of customers after a deploy exhausted the pool",
        "impact": "About 30% of checkouts failed in FR and DE for 88 minutes <!channel>",
        "root_cause": "The 22:58 deploy quadrupled workers, and each opens 10 database "
                      "connections: the pool was exhausted and retries kept it full",
        "resolution": "Rolled back the deploy and raised the pool limit to 400",
        "detection": "Alertmanager: checkout 5xx rate above 5%", "escalation": None,
        "misleading": "We first suspected the payment gateway (<@U0ALICE> checked it)",
        "channel_id": "C0INC7", "channel_name": "inc-7-checkout-is-failing",
        "url": f"{BASE_URL}/incidents/INC-7",
    }


def test_private_incidents_are_never_listed(world: World) -> None:
    text = get(world, "/api/v1/incidents?limit=100").get_data(as_text=True)
    assert world.private_ref not in text and "payroll" not in text and "G0SECRET" not in text
    assert "is_private" not in text
    for query in ("q=payroll", "severity=sev1&status=investigating", "status=open"):
        body = _json_answer(get(world, f"/api/v1/incidents?{query}&limit=100"), 200)
        assert world.private_ref not in [i["ref"] for i in body["incidents"]]


def test_pages_walk_every_incident_once_even_while_new_ones_open(world: World) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=7" + (f"&cursor={cursor}" if cursor else "")
        body = _json_answer(get(world, f"/api/v1/incidents?{query}"), 200)
        assert len(body["incidents"]) <= 7
        seen += [i["ref"] for i in body["incidents"]]
        pages += 1
        if pages == 1:  # an incident opened between two pages shifts nothing
            with world.db.session() as s:
                incidents.create(s, team_id=TEAM, now=NOW, title="Opened meanwhile",
                                 severity="sev3", status="investigating",
                                 created_by="U0BOB", started_at=NOW)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == world.public_refs
    assert pages == -(-len(world.public_refs) // 7)


def test_a_full_last_page_says_there_is_no_next(world: World) -> None:
    n = len(world.public_refs)
    body = _json_answer(get(world, f"/api/v1/incidents?limit={n}"), 200)
    assert len(body["incidents"]) == n and body["next_cursor"] is None
    body = _json_answer(get(world, f"/api/v1/incidents?limit={n - 1}"), 200)
    assert body["next_cursor"] is not None
    rest = _json_answer(get(world, f"/api/v1/incidents?cursor={body['next_cursor']}"), 200)
    assert [i["ref"] for i in rest["incidents"]] == world.public_refs[-1:]
    assert rest["next_cursor"] is None


def _refs(world: World, query: str) -> list[str]:
    body = _json_answer(get(world, f"/api/v1/incidents?limit=100&{query}"), 200)
    return [i["ref"] for i in body["incidents"]]


def _more(pick: Any) -> list[str]:
    return [f"INC-{8 + n}" for n in reversed(range(len(MORE))) if pick(*MORE[n])]


def test_filters(world: World) -> None:
    assert _refs(world, "severity=sev4") == _more(lambda sev, *_: sev == "sev4")
    assert _refs(world, "status=monitoring") == _more(lambda _, status, *__: status == "monitoring")
    assert _refs(world, "status=resolved") == [
        *_more(lambda _, status, *__: status == "resolved"), "INC-7"]
    assert _refs(world, "status=open") == [world.hostile_ref, *_more(
        lambda _, status, *__: status != "resolved")]
    assert _refs(world, "status=resolved&severity=sev4") == _more(
        lambda sev, status, *_: sev == "sev4" and status == "resolved")
    # Started in [May 2 00:00 UTC, May 3 00:00 UTC), given as Paris summer time (+02:00).
    after, before = "2024-05-02T02:00:00%2B02:00", "2024-05-03T02:00:00%2B02:00"
    assert _refs(world, f"started_after={after}&started_before={before}") == _more(
        lambda _, __, hours, *___: 24 <= hours < 48)
    assert _refs(world, "started_before=2024-05-01T00:00:01Z") == ["INC-8"]
    assert _refs(world, "started_after=2024-05-03T20:59:59.5z") == [
        world.hostile_ref, *_more(lambda _, __, hours, *___: hours >= 70), "INC-7"]
    # Text: any case, title or facts; % and _ are plain characters, not wildcards.
    assert _refs(world, "q=DISK%20FULL") == _more(lambda _, __, ___, title: "disk full" in title)
    assert _refs(world, "q=retries%20kept") == ["INC-7"]
    assert _refs(world, "q=50_percent") == ["INC-10"]
    assert _refs(world, "q=100%25") == ["INC-10"]
    assert _refs(world, "q=%25%25") == []
    assert _refs(world, "q=") == world.public_refs
    assert _refs(world, "team=T0OTHER") == []
    # Found by schemathesis on PostgreSQL: a cursor past any id is past every row.
    assert _refs(world, "cursor=99999999999999") == world.public_refs
    assert _refs(world, f"team={TEAM}") == world.public_refs


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=ten", "limit=-1", "limit=1.5", "limit=",
    "cursor=abc", "cursor=0", "cursor=-5", "cursor=",
    "status=closed", "status=", "severity=SEV1", "severity=p1",
    "started_after=2024-05-03", "started_after=2024-05-03T21:00:00",
    "started_before=yesterday", "started_before=2024-13-01T00:00:00Z",
    "q=" + "x" * 201, "q=a%00b", "team=T%00", "team=..%2F",
    "sev=sev1", "limit=5&limit=6", "status=open&status=resolved",
])
def test_bad_parameters_are_400_with_a_message(world: World, query: str) -> None:
    body = _json_answer(get(world, f"/api/v1/incidents?{query}"), 400)
    assert body["error"] == "bad_request" and body["message"]


# --- One incident -------------------------------------------------------------------------


def test_incident_with_timeline_tasks_improvements_and_postmortem(world: World,
                                                                  schema: Any) -> None:
    response = get(world, "/api/v1/incidents/INC-7")
    body = _json_answer(response, 200)
    _conforms(schema, "/api/v1/incidents/{ref}", response)
    assert body["ref"] == "INC-7" and body["severity"] == "sev1"
    entries = body["timeline"]
    assert len(entries) == 23
    assert [e["time"] for e in entries] == sorted(e["time"] for e in entries)
    assert all(e["time"].endswith("Z") for e in entries)
    assert sorted(e["seq"] for e in entries) == list(range(1, 24))
    assert entries[0]["seq"] == 4  # the alert at 21:02, pinned later, comes first
    assert next(e for e in entries if e["seq"] == 1) == {
        "seq": 1, "time": "2024-05-03T21:18:00Z", "kind": "event", "event": "opened",
        "text": "Incident opened by <@U0LEAD> (sev2): Checkout is failing & payments "
                "time out",
        "author": {"id": "U0LEAD", "name": "lee"}, "added_by": {"id": "U0LEAD", "name": "lee"},
        "permalink": None,
    }
    alert = next(e for e in entries if "Alertmanager" in str(e["author"]))
    assert alert["kind"] == "message" and alert["time"] == "2024-05-03T21:02:00Z"
    assert alert["author"] == {"id": None, "name": "Alertmanager"}
    assert alert["permalink"].startswith("https://sitrep-demo.slack.com/archives/C0INC7/p")
    script = next(e for e in entries if "<script>" in e["text"])
    assert script["author"] == {"id": "U0CARA", "name": "cara"}
    assert script["added_by"] == {"id": "U0LEAD", "name": "lee"}
    note = next(e for e in entries if e["kind"] == "note")
    assert note["author"] == {"id": "U0BOB", "name": "bob"}
    assert [t["ref"] for t in body["tasks"]] == ["T-1", "T-2", "T-3"]
    assert body["tasks"][0] == {
        "ref": "T-1", "text": "Roll back the deploy", "owner": {"id": "U0BOB", "name": "bob"},
        "status": "done", "due_date": "2024-05-03", "drop_reason": None,
        "created_at": "2024-05-03T22:40:00Z", "completed_at": None,
    }
    assert body["tasks"][2]["due_date"] is None
    assert [i["text"] for i in body["improvements"]] == [
        "Load-test deploys that change worker counts",
        "Alert on connection pool saturation, not only on 5xx"]
    assert body["improvements"][0]["created_by"] == {"id": "U0LEAD", "name": "lee"}
    pm = body["postmortem"]
    assert [v["version"] for v in pm["versions"]] == [1, 2]
    assert pm["versions"][0] == {
        "version": 1, "published_by": {"id": "U0LEAD", "name": "lee"},
        "published_at": "2024-05-06T08:30:00Z",
        "url": f"{BASE_URL}/incidents/INC-7/postmortem/1"}
    assert pm["latest"] == {**pm["versions"][1],
                            "markdown": "# INC-7\n\nRoot cause: <pool> & retries\n"}


def test_an_incident_without_anything_recorded(world: World, schema: Any) -> None:
    response = get(world, "/api/v1/incidents/INC-8")
    body = _json_answer(response, 200)
    _conforms(schema, "/api/v1/incidents/{ref}", response)
    assert body["timeline"] == [] and body["tasks"] == [] and body["improvements"] == []
    assert body["postmortem"] == {"latest": None, "versions": []}
    assert body["lead"] == {"id": "U0BOB", "name": "bob"}
    assert body["created_by"] == {"id": "U0GONE", "name": None}  # not in the profile cache


def test_unknown_and_private_incidents_are_the_same_404(world: World) -> None:
    unknown = _json_answer(get(world, "/api/v1/incidents/INC-999"), 404)
    private = _json_answer(get(world, f"/api/v1/incidents/{world.private_ref}"), 404)
    assert unknown["error"] == private["error"] == "not_found"
    assert private["message"] == f"There is no incident {world.private_ref}."
    assert "payroll" not in json.dumps(private)
    assert _json_answer(get(world, "/api/v1/incidents/INC-9999999999"), 404)
    for ref in ("INC-0", "inc-7", "7", "INC-7x", "INC-", "INC-99999999999"):
        assert _json_answer(get(world, f"/api/v1/incidents/{ref}"), 400)["error"] == "bad_request"
    assert _json_answer(get(world, "/api/v1/incidents/INC-7?limit=3"), 400)
    assert _json_answer(get(world, "/api/v1/incidents/INC-7/timeline"), 404)


def test_a_number_in_two_workspaces_needs_team(world: World) -> None:
    with world.db.session() as s:
        for _ in range(6):
            incidents.create(s, team_id="T0OTHER", now=NOW, title="Elsewhere",
                             severity="sev3", status="resolved", created_by="U9",
                             started_at=NOW)
        incidents.create(s, team_id="T0OTHER", now=NOW, title="Other workspace's INC-7",
                         severity="sev3", status="resolved", created_by="U9", started_at=NOW)
    body = _json_answer(get(world, "/api/v1/incidents/INC-7"), 409)
    assert body["error"] == "ambiguous" and "T0001, T0OTHER" in body["message"]
    mine = _json_answer(get(world, f"/api/v1/incidents/INC-7?team={TEAM}"), 200)
    theirs = _json_answer(get(world, "/api/v1/incidents/INC-7?team=T0OTHER"), 200)
    assert mine["title"].startswith("Checkout") and theirs["title"] == "Other workspace's INC-7"
    assert _json_answer(get(world, "/api/v1/incidents/INC-8?team=T0OTHER"), 404)


def test_statements_per_request_are_fixed(db: Database) -> None:
    """A page is 2 statements, an incident 7 (+1 transaction), whatever their sizes."""
    small = seed_large(db, entries=3, tasks=1)
    big = seed_large(db, entries=2_000, tasks=300)
    add_bulk(db, small, 0, 0)
    app = _app(db)
    client = app.test_client()
    counted: list[str] = []

    def count(*args: Any) -> None:
        counted.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        sizes = {}
        for incident_id in (small, big):
            with db.session() as s:
                ref = incidents.get(s, incident_id).ref  # type: ignore[union-attr]
            counted.clear()
            body = _json_answer(client.get(f"/api/v1/incidents/{ref}", headers=AUTH), 200)
            sizes[ref] = (len(body["timeline"]), len([c for c in counted
                                                      if c.lstrip().upper().startswith("SELECT")]))
        assert sorted(sizes.values()) == [(3, 6), (2_000, 6)]
        counted.clear()
        _json_answer(client.get("/api/v1/incidents?limit=100", headers=AUTH), 200)
        assert len([c for c in counted if c.lstrip().upper().startswith("SELECT")]) == 2
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        app.extensions["sitrep"].after_ack.shutdown()


# --- Tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", f"Basic {TOKEN}", f"Token {TOKEN}", "Bearer wrong-token",
    f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
    f"Bearer {hashlib.sha256(TOKEN.encode()).hexdigest()}",
])
def test_without_a_valid_token_it_is_401(world: World, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for path in ("/api/v1/incidents", "/api/v1/incidents/INC-7", "/api/v1/incidents/INC-999",
                 f"/api/v1/incidents/{world.private_ref}", "/api/v1/incidents?limit=0"):
        response = get(world, path, headers)
        body = _json_answer(response, 401)
        assert body["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="sitrep"')
        assert "Checkout" not in response.get_data(as_text=True)


def test_a_wrong_token_is_told_invalid_token(world: World) -> None:
    response = get(world, "/api/v1/incidents", {"Authorization": "Bearer nope"})
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="sitrep", error="invalid_token"'


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}", f"bearer {TOKEN}",
                                    f"BEARER   {OTHER_TOKEN} "])
def test_every_configured_token_is_accepted(world: World, header: str) -> None:
    body = _json_answer(get(world, "/api/v1/incidents", {"Authorization": header}), 200)
    assert body["incidents"]


def test_tokens_are_kept_and_compared_only_as_digests(world: World) -> None:
    hashes = world.app.extensions["sitrep"].settings.api_token_hashes
    assert TOKEN not in repr(world.app.extensions["sitrep"].settings)
    assert hashes == tuple(api_rules.digest(t) for t in (TOKEN, OTHER_TOKEN))
    assert api_rules.authorized(f"Bearer {TOKEN}", hashes)
    assert not api_rules.authorized(f"Bearer {hashes[0]}", hashes)
    assert not api_rules.authorized(f"Bearer {TOKEN}", ())


def test_without_api_tokens_there_is_no_api(db: Database) -> None:
    seed_realistic(db)
    app = _app(db, api_token_hashes=())
    client = app.test_client()
    for path in ("/api/v1/incidents", "/api/v1/incidents/INC-7", "/api/v1/openapi.json",
                 "/api/v1/nothing"):
        for headers in ({}, AUTH):
            response = client.get(path, headers=headers)
            assert _json_answer(response, 404)["error"] == "not_found"
    app.extensions["sitrep"].after_ack.shutdown()


# --- Errors and hostile text --------------------------------------------------------------


def test_other_paths_and_methods_answer_json(world: World) -> None:
    assert _json_answer(get(world, "/api/v2/incidents"), 404)["error"] == "not_found"
    assert _json_answer(get(world, "/api"), 404)["error"] == "not_found"
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        response = world.client.open("/api/v1/incidents", method=method, headers=AUTH)
        assert _json_answer(response, 405)["error"] == "method_not_allowed"
        assert response.headers["Allow"] == "GET, HEAD"
    head = world.client.head("/api/v1/incidents", headers=AUTH)
    assert head.status_code == 200 and head.mimetype == "application/json"


def test_a_failure_is_a_json_500_and_an_outage_a_503(world: World,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api_rules.repo, "incident_page", boom)
    response = get(world, "/api/v1/incidents")
    body = _json_answer(response, 500)
    assert body == {"error": "internal_error", "message": "Something went wrong; it was logged."}
    assert "secret internals" not in response.get_data(as_text=True)

    def down(*_: Any) -> None:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(api_rules.repo, "incident_page", down)
    assert _json_answer(get(world, "/api/v1/incidents"), 503)["error"] == "unavailable"


def test_hostile_text_round_trips_as_json_data(world: World) -> None:
    for path in ("/api/v1/incidents?limit=100", f"/api/v1/incidents/{world.hostile_ref}"):
        response = get(world, path)
        raw = response.get_data(as_text=True)
        assert "<" not in raw and ">" not in raw and "&" not in raw and "\u2028" not in raw
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        body = _json_answer(response, 200)
        incident = (body if "timeline" in body else
                    next(i for i in body["incidents"] if i["ref"] == world.hostile_ref))
        assert incident["title"] == HOSTILE and incident["summary"] == HOSTILE
        assert incident["lead"] == {"id": "U0EVIL", "name": HOSTILE}
        assert incident["roles"] == {"comms": {"id": "U0EVIL", "name": HOSTILE}}
        if "timeline" in body:
            assert body["timeline"][0]["text"] == HOSTILE
            assert body["timeline"][0]["author"]["name"] == HOSTILE
    body = _json_answer(get(world, "/api/v1/incidents?q=%3Cscript%3E"), 200)
    assert [i["ref"] for i in body["incidents"]] == [world.hostile_ref]


# --- The OpenAPI document, and schemathesis against it ------------------------------------


def test_openapi_document_is_public_and_valid(world: World, schema: Any) -> None:
    body = _json_answer(world.client.get("/api/v1/openapi.json"), 200)
    assert body["openapi"] == "3.1.0"
    assert set(body["paths"]) == {"/api/v1/incidents", "/api/v1/incidents/{ref}",
                                  "/api/v1/openapi.json"}
    schema.validate()  # against the OpenAPI 3.1 specification's own JSON Schema
    assert "Private incidents are never returned" in body["info"]["description"]


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(world: World,
                                                                          schema: Any) -> None:
    """Both data operations, fuzzed from the document (bounded, deterministic), with data
    it allows and data it forbids: no 5xx, forbidden data refused with a 4xx, and every
    answer has the status, content type, headers and body the document declares.
    (Schemathesis leaves out the document's own path.)"""
    fuzzed = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=30, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case: Any) -> None:
                case.call_and_validate(headers=AUTH)

            fuzz()
            fuzzed.append((operation.path, mode.value))
    assert sorted(fuzzed) == [("/api/v1/incidents", "negative"), ("/api/v1/incidents", "positive"),
                              ("/api/v1/incidents/{ref}", "negative"),
                              ("/api/v1/incidents/{ref}", "positive")]
