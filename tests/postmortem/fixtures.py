"""Realistic incidents for the postmortem tests, golden file and benchmark.

Seeded straight through the storage repositories and models (the timeline and task
features write the same rows), with fixed times so the rendering is reproducible.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, update

from storage import counters, incidents, timeline, users
from storage.db import Database
from storage.models import Counter, Improvement, Incident, Task, TimelineEntry

TEAM = "T0001"
CHANNEL = "C0INC7"
UTC = dt.UTC

#: 2024-05-03 21:00 UTC is 23:00 in Paris: the incident runs past local midnight.
T0 = dt.datetime(2024, 5, 3, 21, 0, tzinfo=UTC)
#: When the golden postmortem is compiled.
NOW = dt.datetime(2024, 5, 6, 8, 30, tzinfo=UTC)

PEOPLE = {"U0LEAD": "lee", "U0ALICE": "alice", "U0BOB": "bob", "U0CARA": "cara"}


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _message(s, incident_id: int, minutes: float, user: str | None, text: str, *,  # type: ignore[no-untyped-def]
             name: str | None = None, pinned_by: str = "U0LEAD") -> None:
    ts = f"{at(minutes).timestamp():.6f}"
    timeline.add(
        s, incident_id=incident_id, kind="message", occurred_at=at(minutes), now=at(minutes + 1),
        sort_ts=ts, author_user_id=user, author_name=name, actor_user_id=pinned_by, text=text,
        message_channel_id=CHANNEL, message_ts=ts,
        permalink=f"https://sitrep-demo.slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}",
    )


def seed_realistic(db: Database) -> int:
    """INC-7: backdated start, a dozen pins, notes, status changes, 2 improvements, 3 tasks."""
    with db.session() as s:
        for uid, name in PEOPLE.items():
            users.upsert(s, user_id=uid, team_id=TEAM, display_name=name,
                         tz="Europe/Paris", deleted=False, now=NOW)
        for _ in range(6):
            counters.next_value(s, TEAM, "incident")
        inc = incidents.create(
            s, team_id=TEAM, now=at(18), title="Checkout is failing & payments time out",
            severity="sev2", status="investigating", lead_user_id="U0LEAD",
            created_by="U0LEAD", started_at=at(18), channel_id=CHANNEL,
            channel_name="inc-7-checkout-is-failing", origin_channel_id="C0GENERAL",
        )
        iid = inc.id
        ev = timeline.add_event
        ev(s, incident_id=iid, event_type="opened", actor="U0LEAD", now=at(18),
           text="Incident opened by <@U0LEAD> (sev2): Checkout is failing & payments time out")
        inc.started_at = at(0)
        ev(s, incident_id=iid, event_type="started", actor="U0LEAD", now=at(20),
           text="Impact start set to 2024-05-03 23:00 CEST")
        inc.detected_at = at(2)
        ev(s, incident_id=iid, event_type="detected", actor="U0LEAD", now=at(21),
           text="Detection time set to 2024-05-03 23:02 CEST")
        _message(s, iid, 2, None, ":rotating_light: Alert: checkout 5xx rate above 5% "
                 "<!channel>", name="Alertmanager")
        _message(s, iid, 19, "U0LEAD", "Declaring an incident. <@U0ALICE> can you look at "
                 "the payment gateway dashboards?")
        _message(s, iid, 24, "U0ALICE", "Gateway p99 is 4s, pool usage at 100% "
                 "<https://grafana.example.com/d/pay?from=now-1h&amp;to=now|dashboard>")
        timeline.add(s, incident_id=iid, kind="note", occurred_at=at(25), now=at(26),
                     actor_user_id="U0BOB",
                     text="Customer support reports failed checkouts in FR and DE")
        ev(s, incident_id=iid, event_type="status", actor="U0ALICE", now=at(31),
           text="Status changed from investigating to identified",
           data={"from": "investigating", "to": "identified"})
        _message(s, iid, 33, "U0BOB", "The 22:58 deploy raised worker count from 8 to 32; "
                 "each worker opens 10 connections")
        _message(s, iid, 35, "U0ALICE", "Rolling back the deploy now. {{ 7*7 }} {% raw %}")
        _message(s, iid, 41, "U0BOB", "Rollback done, pool usage dropping: 100% → 64%")
        _message(s, iid, 46, "U0CARA", "Still seeing errors for <!here> EU customers\n"
                 "second line: retries <script>alert(1)</script>")
        ev(s, incident_id=iid, event_type="severity", actor="U0LEAD", now=at(50),
           text="Severity changed from sev2 to sev1", data={"from": "sev2", "to": "sev1"})
        _message(s, iid, 52, "U0ALICE", "Found it: the retry storm keeps the pool full. "
                 "Raising the pool limit to 400 as a stopgap")
        _message(s, iid, 58, "U0BOB", "Pool limit raised, error rate back under 0.1% :tada:")
        ev(s, incident_id=iid, event_type="status", actor="U0ALICE", now=at(61),
           text="Status changed from identified to monitoring",
           data={"from": "identified", "to": "monitoring"})
        _message(s, iid, 64, "U0CARA", "Support confirms checkouts work again in FR and DE")
        ev(s, incident_id=iid, event_type="lead", actor="U0LEAD", now=at(70),
           text="Lead changed to <@U0ALICE>", data={"from": "U0LEAD", "to": "U0ALICE"})
        _message(s, iid, 80, "U0ALICE", "Backlog of queued payments fully processed")
        _message(s, iid, 85, "U0LEAD", "Sending the customer update now")
        _message(s, iid, 88, "U0ALICE", "No errors for 30 minutes, resolving")
        timeline.add(s, incident_id=iid, kind="note", occurred_at=at(89), now=at(95),
                     actor_user_id="U0ALICE", text="Handing over to the day shift")
        ev(s, incident_id=iid, event_type="resolved", actor="U0ALICE", now=at(90),
           text="Incident resolved", data={"from": "monitoring"})

        inc.severity, inc.status, inc.lead_user_id = "sev1", "resolved", "U0ALICE"
        inc.ended_at = at(90)
        inc.summary = "Checkout failed for 30% of customers after a deploy exhausted the pool"
        inc.impact = "About 30% of checkouts failed in FR and DE for 88 minutes <!channel>"
        inc.root_cause = ("The 22:58 deploy quadrupled workers, and each opens 10 database "
                          "connections: the pool was exhausted and retries kept it full")
        inc.resolution = "Rolled back the deploy and raised the pool limit to 400"
        inc.detection = "Alertmanager: checkout 5xx rate above 5%"
        inc.misleading = "We first suspected the payment gateway (<@U0ALICE> checked it)"

        for text in ("Load-test deploys that change worker counts",
                     "Alert on connection pool saturation, not only on 5xx"):
            s.add(Improvement(incident_id=iid, text=text, created_by="U0LEAD",
                              created_at=at(100)))
        for owner, text, due, status in (
            ("U0BOB", "Roll back the deploy", dt.date(2024, 5, 3), "done"),
            ("U0ALICE", "Add a pool saturation alert at 80%", dt.date(2024, 5, 5), "open"),
            ("U0CARA", "Cap connections per worker at 4", None, "open"),
        ):
            s.add(Task(team_id=TEAM, number=counters.next_value(s, TEAM, "task"),
                       incident_id=iid, owner_user_id=owner, text=text, due_date=due,
                       status=status, created_by="U0LEAD", created_at=at(100)))
    return iid


def seed_large(db: Database, entries: int = 10_000, tasks: int = 500,
               team_id: str = TEAM) -> int:
    """A long incident: ``entries`` timeline entries and ``tasks`` tasks, bulk inserted."""
    with db.session() as s:
        for uid, name in PEOPLE.items():
            users.upsert(s, user_id=uid, team_id=team_id, display_name=name,
                         tz="Europe/Paris", deleted=False, now=NOW)
        inc = incidents.create(
            s, team_id=team_id, now=at(0), title="A very long incident", severity="sev1",
            status="resolved", lead_user_id="U0LEAD", created_by="U0LEAD", started_at=at(0),
            ended_at=at(entries), root_cause="Everything at once",
        )
        s.add(Improvement(incident_id=inc.id, text="Fewer shards", created_by="U0LEAD",
                          created_at=at(1)))
    add_bulk(db, inc.id, entries, tasks)
    return inc.id


def add_bulk(db: Database, incident_id: int, entries: int, tasks: int) -> None:
    """Add ``entries`` timeline entries (one a minute) and ``tasks`` tasks to an incident."""
    ids = list(PEOPLE)
    with db.session() as s:
        inc = incidents.get(s, incident_id)
        assert inc is not None
        start = inc.started_at
        if entries:
            first_seq = inc.last_entry_seq + 1
            s.execute(update(Incident).where(Incident.id == incident_id)
                      .values(last_entry_seq=first_seq + entries - 1))
            s.execute(insert(TimelineEntry), [
                {"incident_id": incident_id, "seq": first_seq + i,
                 "kind": "message" if i % 3 else "note",
                 "occurred_at": start + dt.timedelta(minutes=i),
                 "sort_ts": f"{(start + dt.timedelta(minutes=i)).timestamp():.6f}",
                 "author_user_id": ids[i % 4], "actor_user_id": ids[(i + 1) % 4],
                 "text": f"Entry {i}: <@{ids[(i + 2) % 4]}> checked shard {i % 97} and saw "
                         f"nothing unusual", "created_at": start}
                for i in range(entries)
            ])
        if tasks:
            first = counters.next_value(s, inc.team_id, "task")
            s.execute(insert(Task), [
                {"team_id": inc.team_id, "number": first + n, "incident_id": incident_id,
                 "owner_user_id": ids[n % 4], "text": f"Follow-up {n} for shard {n % 97}",
                 "due_date": dt.date(2024, 6, 1) + dt.timedelta(days=n % 30),
                 "status": ("open", "done", "dropped")[n % 3], "created_by": "U0LEAD",
                 "created_at": start}
                for n in range(tasks)
            ])
            s.execute(update(Counter).where(Counter.team_id == inc.team_id,
                                            Counter.kind == "task")
                      .values(value=first + tasks - 1))


def get_incident(db: Database, incident_id: int) -> Incident:
    with db.session() as s:
        inc = incidents.get(s, incident_id)
        assert inc is not None
        return inc
