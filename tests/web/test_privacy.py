"""Private incidents on the web, as in Slack: only their channel's members see them; anyone
else gets the 404 an unknown incident gets. Signed-in viewers, workspace by workspace."""

from __future__ import annotations

import re

from sqlalchemy import update

from storage import counters
from storage.db import Database
from storage.models import Incident, Task
from tests.postmortem.fixtures import TEAM, at, seed_realistic
from tests.web.conftest import Members, add_incident, incident_id, make_app, sign_in


def refs(html: str) -> list[str]:
    return re.findall(r'href="/incidents/(INC-\d+)"', html)


def setup(db: Database) -> None:
    seed_realistic(db)  # INC-7, public
    secret = add_incident(db, "Secret: payroll leak", started=at(60), is_private=True,
                          channel_id="C0SECRET", severity="sev1")
    iid = incident_id(db, secret)
    with db.session() as s:
        s.add(Task(team_id=TEAM, number=counters.next_value(s, TEAM, "task"),
                   incident_id=iid, owner_user_id="U0BOB",
                   text="Rotate the payroll keys", status="open", created_by="U0LEAD",
                   created_at=at(61)))
    add_incident(db, "Another workspace's", started=at(90), team_id="T0OTHER")


def test_a_private_incident_is_hidden_from_a_non_member_as_if_it_did_not_exist(
        db: Database) -> None:
    setup(db)
    members = Members({"C0SECRET": {"U0LEAD", "U0CARA"}})
    client = make_app(db, auth="slack", members=members).test_client()
    sign_in(client, "U0ALICE")
    assert refs(client.get("/incidents").get_data(as_text=True)) == ["INC-7"]
    missing = client.get("/incidents/INC-99")
    for path in ("/incidents/INC-8", "/incidents/INC-8/postmortem"):
        hidden = client.get(path)
        assert hidden.status_code == 404
        assert hidden.get_data(as_text=True).replace("INC-8", "INC-99") == \
            missing.get_data(as_text=True)
    tasks = client.get("/tasks").get_data(as_text=True)
    assert "Rotate the payroll keys" not in tasks and "Secret" not in tasks
    assert set(members.asked) == {"C0SECRET"}


def test_a_member_sees_it_and_the_owner_sees_their_task(db: Database) -> None:
    setup(db)
    members = Members({"C0SECRET": {"U0LEAD", "U0CARA"}})
    app = make_app(db, auth="slack", members=members)
    client = app.test_client()
    sign_in(client, "U0CARA")
    assert refs(client.get("/incidents").get_data(as_text=True)) == ["INC-8", "INC-7"]
    page = client.get("/incidents/INC-8")
    assert page.status_code == 200
    assert "Private: only its channel's members see it" in page.get_data(as_text=True)
    assert '<a href="/logout">Sign out</a>' in page.get_data(as_text=True)
    # Bob is not in the channel, but owns a task of it: told of the task, as in Slack.
    bob = app.test_client()
    sign_in(bob, "U0BOB")
    assert "Rotate the payroll keys" in bob.get("/tasks").get_data(as_text=True)
    assert bob.get("/incidents/INC-8").status_code == 404


def test_unknown_membership_fails_closed(db: Database) -> None:
    setup(db)
    client = make_app(db, auth="slack", members=Members({})).test_client()  # Slack refused
    sign_in(client, "U0LEAD")
    assert client.get("/incidents/INC-8").status_code == 404


def test_a_viewer_sees_only_their_own_workspace(db: Database) -> None:
    setup(db)
    client = make_app(db, auth="slack", members=Members()).test_client()
    sign_in(client, "U0X", team_id="T0OTHER")
    assert refs(client.get("/incidents").get_data(as_text=True)) == ["INC-1"]
    assert "Another workspace" in client.get("/incidents/INC-1").get_data(as_text=True)
    assert client.get("/incidents/INC-7").status_code == 404


def test_hidden_incidents_never_shorten_the_list_silently(db: Database) -> None:
    """A page keeps its size past private incidents the viewer may not see."""
    from bot.web import rules

    for n in range(rules.PAGE_SIZE * 3):
        add_incident(db, f"Private {n}", started=at(n), is_private=True,
                     channel_id=f"C{n:05d}")
    for n in range(5):
        add_incident(db, f"Public {n}", started=at(-100 - n))
    client = make_app(db, auth="slack", members=Members()).test_client()
    sign_in(client, "U0ALICE")
    html = client.get("/incidents").get_data(as_text=True)
    assert refs(html) == [f"INC-{n}" for n in range(151, 156)]


def test_not_signed_in_is_sent_to_sign_in(db: Database) -> None:
    seed_realistic(db)
    client = make_app(db, auth="slack").test_client()
    for path in ("/incidents", "/incidents/INC-7", "/tasks", "/incidents/INC-7/postmortem"):
        response = client.get(path)
        assert response.status_code == 302, path  # to Sign in with Slack, then back
        assert response.location.startswith("/login?next=")
    assert client.get("/static/site.css").status_code == 200


def test_a_private_incident_without_a_channel_is_its_creators(db: Database) -> None:
    number = add_incident(db, "Channel never created", started=at(0), is_private=True,
                          created_by="U0CARA")
    with db.session() as s:
        s.execute(update(Incident).values(channel_id=None))
    app = make_app(db, auth="slack", members=Members())
    cara, lee = app.test_client(), app.test_client()
    sign_in(cara, "U0CARA")
    sign_in(lee, "U0LEAD")
    assert cara.get(f"/incidents/INC-{number}").status_code == 200
    assert lee.get(f"/incidents/INC-{number}").status_code == 404
