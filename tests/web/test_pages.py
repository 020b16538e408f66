"""Every page with realistic data (``WEB_AUTH=none``): what it shows, filters, pages,
published versions, tasks, hostile text escaped, security headers."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient

from bot.common.clock import FixedClock
from bot.postmortem import compile as postmortem
from bot.postmortem.templates import Templates
from bot.web import rules
from storage import counters, users
from storage.db import Database
from storage.models import Improvement, PostmortemVersion, Task
from tests.postmortem.fixtures import NOW, TEAM, at, seed_realistic
from tests.web.conftest import PARIS, add_incident, incident_id, make_app

HOSTILE = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>{{7*7}}"


def text(html: str) -> str:
    """The page's visible text, roughly (tags dropped, whitespace folded)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def publish(db: Database, iid: int, user: str = "U0LEAD", name: str = "lee") -> None:
    pm = postmortem.compile_incident(db, iid, PARIS, now=NOW)
    postmortem.publish(db, FixedClock(NOW), Templates(), pm, user_id=user, user_name=name)


def test_home_goes_to_the_incident_list(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response.location.endswith("/incidents")


def test_the_list_shows_every_incident_newest_first(db: Database, client: FlaskClient) -> None:
    seed_realistic(db)  # INC-7, started 2024-05-03 23:00 Paris
    add_incident(db, "Older: DNS flaps", started=at(-60 * 24 * 30), status="resolved",
                 severity="sev4", ended_at=at(-60 * 24 * 30 + 45))
    add_incident(db, "Newer: queue backlog", started=at(60 * 24))
    html = client.get("/incidents").get_data(as_text=True)
    shown = re.findall(r'href="/incidents/(INC-\d+)"', html)
    assert shown == ["INC-9", "INC-7", "INC-8"]
    row = text(html)
    assert "INC-7 Checkout is failing &amp; payments time out SEV1 resolved alice " \
           "2024-05-03 23:00 CEST 1h 30m" in row
    assert "INC-9 Newer: queue backlog SEV3 investigating lee" in row and "ongoing" in row
    assert '<label for="q">' in html and 'role="search"' in html


def test_filters_by_status_severity_dates_and_text(db: Database, client: FlaskClient) -> None:
    seed_realistic(db)
    add_incident(db, "Payments slow", started=at(60 * 24), severity="sev2",
                 summary="The gateway answered in 4 s")
    add_incident(db, "DNS flaps", started=at(60 * 48), status="resolved",
                 root_cause="A 100% CPU resolver")

    def refs(query: str) -> list[str]:
        html = client.get("/incidents?" + query).get_data(as_text=True)
        return re.findall(r'href="/incidents/(INC-\d+)"', html)

    assert refs("status=resolved") == ["INC-9", "INC-7"]
    assert refs("status=open") == ["INC-8"]
    assert refs("severity=sev2") == ["INC-8"]
    assert refs("q=gateway") == ["INC-8", "INC-7"]  # a summary; INC-7's misleading path
    assert refs("q=GATEWAY+Answered") == ["INC-8"]  # every word, any case
    assert refs("q=resolver") == ["INC-9"]  # the root cause
    assert refs("q=100%25") == ["INC-9"]  # % is a character, not a wildcard
    assert refs("q=_") == []
    assert refs("from=2024-05-04&to=2024-05-04") == ["INC-8"]  # days in Paris
    assert refs("from=2024-05-03&to=2024-05-03") == ["INC-7"]
    assert refs("from=2024-05-04") == ["INC-9", "INC-8"]
    html = client.get("/incidents?status=bogus&from=yesterday").get_data(as_text=True)
    assert "Unknown status &#39;bogus&#39;" in html and "From must be a date" in html
    assert re.findall(r'href="/incidents/(INC-\d+)"', html) == ["INC-9", "INC-8", "INC-7"]
    assert '<option value="open" selected>' in client.get(
        "/incidents?status=open").get_data(as_text=True)


def test_the_list_is_paginated_by_key(db: Database, client: FlaskClient) -> None:
    total = rules.PAGE_SIZE * 2 + 5
    for n in range(total):
        add_incident(db, f"Incident {n}", started=at(n * 60), severity="sev2" if n % 2 else "sev3")
    seen: list[str] = []
    url = "/incidents"
    pages = 0
    while url:
        html = client.get(url).get_data(as_text=True)
        refs = re.findall(r'href="/incidents/(INC-\d+)"', html)
        assert len(refs) <= rules.PAGE_SIZE
        seen += refs
        found = re.search(r'<a href="([^"]+)" rel="next">Older incidents</a>', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
        pages += 1
        if pages > 1:
            assert "Newest incidents" in html
    assert pages == 3
    assert seen == [f"INC-{n}" for n in range(total, 0, -1)]
    # Filters are kept from page to page.
    html = client.get("/incidents?severity=sev2").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)" rel="next">', html)
    assert link and "severity=sev2" in link.group(1)
    # A damaged cursor says so and starts again from the newest.
    html = client.get("/incidents?after=nonsense").get_data(as_text=True)
    assert "That page link is damaged" in html
    assert re.findall(r'href="/incidents/(INC-\d+)"', html)[0] == f"INC-{total}"


def test_the_incident_page_shows_the_card_timeline_tasks_and_versions(
        db: Database, client: FlaskClient) -> None:
    iid = seed_realistic(db)
    publish(db, iid)
    publish(db, iid, "U0ALICE", "alice")
    response = client.get("/incidents/INC-7")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text(html)
    for fact in ("Severity SEV1", "Status resolved", "Lead alice",
                 "Impact started 2024-05-03 23:00 CEST", "Detected 2024-05-03 23:02 CEST",
                 "Time to detect 2m", "Impact ended 2024-05-04 00:30 CEST", "Duration 1h 30m",
                 "Declared 2024-05-03 23:18 CEST by lee", "Channel #inc-7-checkout-is-failing",
                 "Summary Checkout failed for 30% of customers",
                 "Root cause The 22:58 deploy quadrupled workers",
                 "Resolution Rolled back the deploy",
                 "Misleading paths We first suspected the payment gateway (@alice checked it)"):
        assert fact in page, fact
    # The timeline: by day in Paris, mentions as names, links into Slack, audit marked.
    assert '<h3 class="day" id="day-2024-05-03">' in html
    assert '<h3 class="day" id="day-2024-05-04">' in html
    assert ("Declaring an incident. @alice can you look at the payment gateway dashboards?"
            in page)
    assert ('<a class="permalink" href="https://sitrep-demo.slack.com/archives/C0INC7/'
            'p1714770120000000">Message in Slack') in html
    assert re.search(r'<li id="entry-2" class="event audit">.*Impact start set to', html)
    assert re.search(r'<li id="entry-8" class="event">.*Status changed from investigating',
                     html)
    assert "23 entries" in page
    # Tasks (T-2 is overdue on NOW's day), improvements, versions newest first.
    assert re.search(r'<tr class="overdue">\s*<th scope="row" data-label="Task">T-2</th>',
                     html)
    assert "Cap connections per worker at 4 cara no due date open" in page
    assert "Alert on connection pool saturation, not only on 5xx" in page
    assert re.findall(r'href="/incidents/INC-7/postmortem/(\d)"', html) == ["2", "1"]
    assert ">Version 2</a>, published by alice on 2024-05-06 10:30 CEST" in html


def test_the_timeline_is_paginated(db: Database, client: FlaskClient) -> None:
    from tests.postmortem.fixtures import seed_large

    seed_large(db, entries=rules.ENTRIES_PAGE + 20, tasks=3)
    html = client.get("/incidents/INC-1").get_data(as_text=True)
    assert len(re.findall(r'<li id="entry-', html)) == rules.ENTRIES_PAGE
    assert f"{rules.ENTRIES_PAGE + 20} entries" in html
    link = re.search(r'<a href="([^"]+)" rel="next">Later entries</a>', html)
    assert link
    html = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    seqs = [int(n) for n in re.findall(r'<li id="entry-(\d+)"', html)]
    assert seqs == list(range(rules.ENTRIES_PAGE + 1, rules.ENTRIES_PAGE + 21))
    assert "Later entries" not in html and "First entries" in html


def test_unknown_incidents_are_404(db: Database, client: FlaskClient) -> None:
    seed_realistic(db)
    for path in ("/incidents/INC-99", "/incidents/inc-7", "/incidents/INC-0",
                 "/incidents/INC-99/postmortem", "/incidents/INC-7/postmortem",
                 "/incidents/INC-7/postmortem/1", "/static/nothing.css"):
        response = client.get(path)
        assert response.status_code == 404, path


def test_the_postmortem_renders_each_published_version_as_published(
        db: Database, client: FlaskClient) -> None:
    iid = seed_realistic(db)
    publish(db, iid)
    with db.session() as s:  # recorded after version 1
        s.get(Task, 1).text = "Changed after version 1"  # type: ignore[union-attr]
    publish(db, iid, "U0ALICE", "alice")
    latest = client.get("/incidents/INC-7/postmortem")
    assert latest.status_code == 200 and latest.mimetype == "text/html"
    html = latest.get_data(as_text=True)
    assert "<em>Version 2, published by alice on 2024-05-06 10:30 CEST.</em>" in html
    assert "Changed after version 1" in html
    assert '<link rel="stylesheet" href="/static/postmortem.css">' in html
    assert "<style>" not in html  # the CSP allows no inline style
    assert '<a href="/incidents/INC-7">INC-7</a>' in html
    first = client.get("/incidents/INC-7/postmortem/1").get_data(as_text=True)
    assert "<em>Version 1, published by lee on 2024-05-06 10:30 CEST.</em>" in first
    assert "Roll back the deploy" in first and "Changed after version 1" not in first
    assert "retries &lt;script&gt;alert(1)&lt;/script&gt;" in first
    assert "{{ 7*7 }}" in first  # user text is data, never template source
    css = client.get("/static/postmortem.css")
    assert css.mimetype == "text/css" and b"@media print" in css.data


def test_a_version_published_before_snapshots_shows_its_markdown(
        db: Database, client: FlaskClient) -> None:
    iid = seed_realistic(db)
    with db.session() as s:
        s.add(PostmortemVersion(incident_id=iid, version=1, published_by="U0LEAD",
                                published_at=NOW, markdown=f"# INC-7 Postmortem\n\n{HOSTILE}"))
    html = client.get("/incidents/INC-7/postmortem/1").get_data(as_text=True)
    assert '<pre class="markdown"># INC-7 Postmortem' in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)" in html


def test_tasks_by_owner_with_overdue_and_mine(db: Database) -> None:
    seed_realistic(db)  # T-2 alice due 2024-05-05 (overdue on NOW), T-3 cara undated
    app = make_app(db)
    html = app.test_client().get("/tasks").get_data(as_text=True)
    owners = re.findall(r'<h2 id="owner-\d+">([^<]+) <span', html)
    assert owners == ["alice", "cara"]  # T-1 is done
    assert "2024-05-05, overdue" in html and "1 open, 1 overdue" in html
    assert 'href="/incidents/INC-7">INC-7</a> Checkout is failing' in html
    assert 'id="mine"' not in html  # WEB_AUTH=none: nobody is signed in
    html = app.test_client().get("/tasks?overdue=1").get_data(as_text=True)
    assert re.findall(r'<h2 id="owner-\d+">([^<]+) <span', html) == ["alice"]

    signed = make_app(db, auth="slack").test_client()
    with signed.session_transaction() as session:
        session["viewer"] = {"team_id": TEAM, "user_id": "U0CARA"}
    html = signed.get("/tasks?mine=1").get_data(as_text=True)
    assert re.findall(r'<h2 id="owner-\d+">([^<]+) <span', html) == ["cara"]
    assert 'id="mine" name="mine" type="checkbox" value="1" checked' in html


def test_hostile_text_is_escaped_everywhere(db: Database) -> None:
    with db.session() as s:
        users.upsert(s, user_id="U0EVIL", team_id=TEAM, display_name=HOSTILE, tz=None,
                     deleted=False, now=NOW)
    number = add_incident(db, HOSTILE, started=at(0), summary=HOSTILE, impact=HOSTILE,
                          root_cause=HOSTILE, lead_user_id="U0EVIL", channel_name="inc-1",
                          roles={"comms": "U0EVIL"})
    iid = incident_id(db, number)
    from storage import timeline

    with db.session() as s:
        timeline.add(s, incident_id=iid, kind="note", occurred_at=at(1), now=at(1),
                     actor_user_id="U0EVIL", text=f"{HOSTILE} <@U0EVIL>")
        timeline.add(s, incident_id=iid, kind="message", occurred_at=at(2), now=at(2),
                     author_user_id="U0EVIL", author_name=HOSTILE, text=HOSTILE,
                     permalink="javascript:alert(3)")
        s.add(Task(team_id=TEAM, number=counters.next_value(s, TEAM, "task"), incident_id=iid,
                   owner_user_id="U0EVIL", text=HOSTILE, due_date=dt.date(2024, 5, 1),
                   status="open", created_by="U0EVIL", created_at=at(3)))
        s.add(Improvement(incident_id=iid, text=HOSTILE, created_by="U0EVIL", created_at=at(3)))
    publish(db, iid, "U0EVIL", HOSTILE)
    client = make_app(db).test_client()
    for path in ("/incidents", f"/incidents/INC-{number}", f"/incidents/INC-{number}/postmortem",
                 "/tasks", "/incidents?q=%3Cscript%3E%22%3E"):
        html = client.get(path).get_data(as_text=True)
        assert "<script" not in html, path
        assert "<img" not in html, path
        assert "javascript:" not in html, path
        assert "49" not in text(html), path  # {{7*7}} is shown, never evaluated
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)" \
               "&gt;{{7*7}}" in html or "&lt;script&gt;" in html, path


def test_security_headers_on_every_page(db: Database, client: FlaskClient) -> None:
    iid = seed_realistic(db)
    publish(db, iid)
    for path in ("/incidents", "/incidents/INC-7", "/incidents/INC-7/postmortem", "/tasks",
                 "/incidents/INC-99", "/static/site.css"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "style-src 'self'" in csp, path
        assert "script-src" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        if path.startswith("/static"):
            assert response.headers["Cache-Control"] == "public, max-age=3600"
        else:
            assert response.headers["Cache-Control"] == "private, no-store"
            html = response.get_data(as_text=True)
            assert " style=" not in html and "<style" not in html and "<script" not in html


def test_the_layout_is_accessible(client: FlaskClient, db: Database) -> None:
    seed_realistic(db)
    for path in ("/incidents", "/incidents/INC-7", "/tasks"):
        html = client.get(path).get_data(as_text=True)
        assert '<a class="skip" href="#main">Skip to content</a>' in html
        assert '<main id="main"' in html and '<nav aria-label="Main">' in html
        assert '<html lang="en">' in html and 'name="viewport"' in html
        assert len(re.findall(r"<h1[ >]", html)) == 1
        assert 'aria-current="page"' in html
        assert '<a href="/insights"' in html
        assert "/logout" not in html  # WEB_AUTH=none: nobody to sign out
        for field in re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', html):
            assert f'<label for="{field}">' in html, (path, field)
    css = client.get("/static/site.css").get_data(as_text=True)
    assert ":focus-visible" in css and "@media (max-width: 40rem)" in css
    assert "@media print" in css
