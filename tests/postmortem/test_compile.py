"""The postmortem compiled from an incident: golden Markdown, placeholders, what is missing.

Runs on SQLite and PostgreSQL (the ``db`` fixture). ``UPDATE_GOLDEN=1`` rewrites the golden
file after a deliberate change; review the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.common.clock import FixedClock
from bot.common.errors import NotFound, UserError
from bot.postmortem import compile as postmortem
from bot.postmortem.templates import Templates
from storage import incidents, timeline
from storage import postmortem as repo
from storage.db import Database
from storage.models import Task
from tests.postmortem.fixtures import NOW, TEAM, at, seed_realistic

GOLDEN = Path(__file__).resolve().parent / "golden" / "postmortem.md"
PARIS = ZoneInfo("Europe/Paris")


def compile_(db: Database, incident_id: int, **kw) -> postmortem.Postmortem:  # type: ignore[no-untyped-def]
    return postmortem.compile_incident(db, incident_id, PARIS, now=NOW, **kw)


def bare_incident(db: Database, **fields) -> int:  # type: ignore[no-untyped-def]
    """An incident with nothing recorded beyond its opening."""
    with db.session() as s:
        values = {"title": "Search is slow", "severity": "sev3", "status": "investigating",
                  "lead_user_id": None, "created_by": "U0LEAD", "started_at": at(0), **fields}
        inc = incidents.create(s, team_id=TEAM, now=at(0), **values)
        timeline.add_event(s, incident_id=inc.id, event_type="opened", actor="U0LEAD",
                           now=at(0), text="Incident opened by <@U0LEAD> (sev3): Search is slow")
        return inc.id


def test_golden_markdown(db: Database) -> None:
    incident_id = seed_realistic(db)
    markdown = postmortem.render(compile_(db, incident_id), Templates()).text
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(markdown, encoding="utf-8")
    assert markdown == GOLDEN.read_text(encoding="utf-8")


def test_sections_come_in_order_and_user_text_stays_inert(db: Database) -> None:
    pm = compile_(db, seed_realistic(db))
    for fmt in ("md", "slack", "html"):
        text = postmortem.render(pm, Templates(), fmt).text
        headings = ["Issue Summary", "Timeline", "Root Cause and Resolution",
                    "Corrective and Preventative Measures"]
        positions = [text.index(h) for h in headings]
        assert positions == sorted(positions), fmt
        assert "<!channel>" not in text and "<!here>" not in text
        assert not re.search(r"(?<!\\)<script>", text), fmt  # Markdown: \<script> is text
        assert "{{ 7*7 }}" in text and "49" not in text  # typed, shown, never evaluated
    slack = postmortem.render(pm, Templates(), "slack").text
    assert "<@" not in slack and "<http" not in slack  # names, not mentions; no live links


def test_the_postmortem_reads_like_people_talk(db: Database) -> None:
    pm = compile_(db, seed_realistic(db))
    assert pm.ref == "INC-7" and pm.severity == "SEV1" and pm.lead == "alice"
    assert (pm.started, pm.ended, pm.duration) == ("2024-05-03 23:00 CEST",
                                                   "2024-05-04 00:30 CEST", "1h 30m")
    # detected − impact start; impact end − impact start
    assert (pm.time_to_detect, pm.time_to_resolve) == ("2m", "1h 30m")
    assert pm.spans_days and pm.timeline_day is None
    assert pm.timeline[0] == postmortem.Entry("2024-05-03 23:00", "", "Impact began",
                                              "milestone", "started", None)
    assert [e.text for e in pm.timeline[1:3]] == [
        "Issue detected", ":rotating_light: Alert: checkout 5xx rate above 5% @channel"]
    assert pm.timeline[2].author == "Alertmanager"  # a bot's stored name
    assert "@alice" in pm.timeline[4].text  # <@U0ALICE> as a name
    assert pm.timeline[-1].text == "Impact ended" and pm.timeline[-2].text == "Incident resolved"
    assert [t.ref for t in pm.tasks] == ["T-1", "T-2", "T-3"]
    assert [(t.done, t.overdue, t.due) for t in pm.tasks] == [
        (True, False, "2024-05-03"), (False, True, "2024-05-05"), (False, False, None)]
    assert pm.improvements[0] == "Load-test deploys that change worker counts"
    times = [e.time for e in pm.timeline]
    assert times == sorted(times)


def test_single_day_incident_shows_times_without_dates(db: Database) -> None:
    incident_id = bare_incident(db, started_at=at(-30))
    pm = compile_(db, incident_id)
    assert not pm.spans_days and pm.timeline_day == "2024-05-03"
    assert [(e.time, e.text) for e in pm.timeline] == [
        ("22:30", "Impact began"), ("23:00", "Incident opened by @U0LEAD (sev3): Search is slow")]
    assert "Times in Europe/Paris, on 2024-05-03." in postmortem.render(pm, Templates()).text


def test_nothing_recorded_shows_placeholders_never_empty_headings(db: Database) -> None:
    pm = compile_(db, bare_incident(db))
    md = postmortem.render(pm, Templates()).text
    for placeholder in ("## Issue Summary\n\n_Not recorded yet: `/incident summary <text>`_",
                        "- **Impact:** _Not recorded yet: `/incident impact <text>`_",
                        "**Root cause:** _Not recorded yet: `/incident cause <text>`_",
                        "**Resolution:** _Not recorded yet: `/incident resolution <text>`_",
                        "_No improvements recorded yet", "_No tasks yet",
                        "_not ended yet: `/incident ended <time>`_", "**Lead:** _no lead_"):
        assert placeholder in md
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#"):
            following = next(x for x in lines[i + 1:] if x.strip())
            assert not following.startswith("## "), f"empty section {line!r}"
    assert "Detection" not in md and "Time to" not in md  # shown only when known
    html = postmortem.render(pm, Templates(), "html").text
    assert "Not recorded yet: <code>/incident cause &lt;text&gt;</code>" in html


def test_missing_lists_what_is_still_to_record(db: Database) -> None:
    pm = compile_(db, bare_incident(db))
    what = [m.what for m in postmortem.missing(pm)]
    assert what == [
        "No summary yet", "The impact is not recorded", "No root cause yet",
        "No resolution recorded", "How it was detected is not recorded",
        "When it was detected is not recorded", "The incident has no end time yet",
        "Nothing on the timeline yet besides Sitrep's own events "
        "(react with :pushpin: to a message)",
        "No corrective tasks or improvements",
    ]
    assert postmortem.missing(pm)[2].commands == ("cause <text>",)
    complete = compile_(db, seed_realistic(db))
    assert [(m.what, m.commands) for m in postmortem.missing(complete)] == [
        ("T-3 has no due date", ("due T-3 <date>",))]


def test_dropped_tasks_are_struck_through_with_their_reason(db: Database) -> None:
    incident_id = bare_incident(db)
    with db.session() as s:
        s.add(Task(team_id=TEAM, number=9, incident_id=incident_id, owner_user_id="U0BOB",
                   text="Page the DBAs", status="dropped", drop_reason="alert covers it",
                   created_by="U0LEAD", created_at=at(1)))
    md = postmortem.render(compile_(db, incident_id), Templates()).text
    assert "- [ ] ~~**T-9** Page the DBAs~~ (owner U0BOB; dropped: alert covers it)" in md


def test_unknown_names_are_resolved_once_together(db: Database) -> None:
    incident_id = bare_incident(db, lead_user_id="U0NEW")
    with db.session() as s:
        timeline.add(s, incident_id=incident_id, kind="note", occurred_at=at(5), now=at(5),
                     actor_user_id="U0OTHER", text="asked <@U0THIRD> and <@U0NEW>")
    calls: list[list[str]] = []

    def resolve(ids: list[str]) -> dict[str, str]:
        calls.append(ids)
        return {uid: uid.lower()[2:] for uid in ids if uid != "U0THIRD"}

    pm = compile_(db, incident_id, resolve_names=resolve)
    assert calls == [["U0LEAD", "U0NEW", "U0OTHER", "U0THIRD"]]
    assert pm.lead == "new"
    assert pm.timeline[-1].author == "other"
    assert pm.timeline[-1].text == "asked @U0THIRD and @new"


def test_long_timeline_is_cut_for_slack_only(db: Database) -> None:
    incident_id = bare_incident(db)
    with db.session() as s:
        for i in range(300):
            timeline.add(s, incident_id=incident_id, kind="note", occurred_at=at(i), now=at(i),
                         actor_user_id="U0LEAD", text=f"note {i}")
    pm = compile_(db, incident_id)  # impact began, opened, 300 notes
    cut = postmortem.for_slack(pm, keep=100)
    assert len(cut.timeline) == 100 and cut.timeline_omitted == 202
    slack = postmortem.render(cut, Templates(), "slack").text
    assert "note 47" in slack and "note 48" not in slack and "note 250" in slack
    assert "202 more entries" in slack
    assert slack.index("note 47") < slack.index("202 more entries") < slack.index("note 250")
    assert postmortem.for_slack(pm, keep=1000) is pm


def test_publish_numbers_versions_and_stores_the_markdown(db: Database) -> None:
    incident_id = seed_realistic(db)
    clock = FixedClock(NOW)
    pm = compile_(db, incident_id)
    first = postmortem.publish(db, clock, Templates(), pm, user_id="U0LEAD", user_name="lee")
    second = postmortem.publish(db, clock, Templates(), pm, user_id="U0BOB")
    assert (first.postmortem.version, second.postmortem.version) == (1, 2)
    assert "_Version 1, published by lee on 2024-05-06 10:30 CEST._" in first.markdown.text
    with db.session() as s:
        stored = repo.versions(s, incident_id)
    assert [(v.version, v.published_by) for v in stored] == [(1, "U0LEAD"), (2, "U0BOB")]
    assert stored[0].markdown == first.markdown.text
    assert compile_(db, incident_id).last_version == 2


def test_missing_incident_and_team_lookup(db: Database) -> None:
    with pytest.raises(NotFound):
        compile_(db, 12345)
    with pytest.raises(NotFound):
        postmortem.only_team(db)
    bare_incident(db)
    assert postmortem.only_team(db) == TEAM
    with db.session() as s:
        incidents.create(s, team_id="T0OTHER", now=at(0), title="x", severity="sev3",
                         status="investigating", created_by="U0LEAD", started_at=at(0))
    with pytest.raises(UserError, match="several workspaces"):
        postmortem.only_team(db)


def test_times_follow_the_zone_given(db: Database) -> None:
    pm = postmortem.compile_incident(db, seed_realistic(db), ZoneInfo("UTC"),
                                     now=dt.datetime(2024, 5, 6, tzinfo=dt.UTC))
    assert pm.started == "2024-05-03 21:00 UTC" and pm.timezone == "UTC"
    assert not pm.spans_days and [e.time for e in pm.timeline[:3]] == ["21:00", "21:02", "21:02"]


def test_an_incident_recorded_after_the_fact_tells_its_story_not_the_write_up(
        db: Database) -> None:
    """Opened on 2024-05-06 about the night of 2024-05-03: the write-up's typing stays out."""
    typed = NOW - dt.timedelta(hours=1)  # 2024-05-06 09:30 CEST
    with db.session() as s:
        inc = incidents.create(
            s, team_id=TEAM, now=typed, title="Search is slow", severity="sev3",
            status="resolved", created_by="U0LEAD", lead_user_id="U0LEAD", started_at=at(0),
            ended_at=at(45), ended_at_set=True, detected_at=at(10))
        for event_type, text in (("opened", "Incident opened by <@U0LEAD>"),
                                 ("started", "Impact start set to 2024-05-03 23:00 CEST"),
                                 ("status", "Status changed from investigating to identified"),
                                 ("impact", "Impact recorded"), ("resolved", "Incident resolved")):
            timeline.add_event(s, incident_id=inc.id, event_type=event_type, actor="U0LEAD",
                               now=typed, text=text)
        timeline.add(s, incident_id=inc.id, kind="note", occurred_at=at(20), now=typed,
                     actor_user_id="U0BOB", author_user_id="U0BOB", author_name="bob",
                     text="reindexing")
        incident_id = inc.id
    pm = compile_(db, incident_id)
    assert pm.recorded_after_the_fact and pm.declared == "2024-05-06 09:30 CEST"
    assert [(e.time, e.author, e.text) for e in pm.timeline] == [
        ("23:00", "", "Impact began"), ("23:10", "", "Issue detected"),
        ("23:20", "bob", "reindexing"), ("23:45", "", "Impact ended")]
    assert pm.timeline_day == "2024-05-03"
    # Both figures from the recorded times, never from when they were typed.
    assert (pm.time_to_detect, pm.time_to_resolve, pm.duration) == ("10m", "45m", "45m")
    for fmt in ("md", "slack", "html"):
        text = postmortem.render(pm, Templates(), fmt).text
        assert text.count("Recorded after the fact") == 1, fmt
        assert "2024-05-06 09:30 CEST" in text and "Impact recorded" not in text, fmt
    live = compile_(db, bare_incident(db))
    assert not live.recorded_after_the_fact
    assert "after the fact" not in postmortem.render(live, Templates()).text


def test_figures_need_both_ends_and_are_never_negative(db: Database) -> None:
    pm = compile_(db, bare_incident(db))
    assert (pm.time_to_detect, pm.time_to_resolve, pm.detected) == (None, None, None)
    detected_early = bare_incident(db, detected_at=at(-5), ended_at=at(30))
    pm = compile_(db, detected_early)  # stored before the start (only possible by hand)
    assert (pm.time_to_detect, pm.time_to_resolve) == (None, "30m")
    at_once = compile_(db, bare_incident(db, detected_at=at(0)))
    assert at_once.time_to_detect == "0m" and at_once.time_to_resolve is None
