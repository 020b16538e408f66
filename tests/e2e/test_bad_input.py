"""Bad input end to end: each gets a clear message and changes nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.sandbox.sandbox import Sandbox
from storage.models import Incident, Task, TimelineEntry


def _reply(sb: Sandbox, text: str, channel: str) -> str:
    before = len(sb.fake.responses)
    reply = sb.sim.command(text, channel=channel)
    assert reply.status == 200
    if reply.body:  # answered in the ack (help, typos)
        return reply.json()["text"]
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > before, 10)
    return sb.fake.responses[-1]["text"]


def _snapshot(sb: Sandbox) -> tuple:
    with sb.db.session() as s:
        inc = s.scalars(select(Incident)).all()
        entries = s.scalar(select(func.count()).select_from(TimelineEntry))
        return tuple((i.title, i.status, i.severity, i.impact, i.lead_user_id) for i in inc), \
            entries


@pytest.fixture
def opened(sandbox: Sandbox) -> tuple[Sandbox, str]:
    _reply(sandbox, "start Baseline", sandbox.general)
    channel = sandbox.incident_channel(1)["id"]
    assert sandbox.fake.wait_for(lambda: any("is open" in r.get("text", "")
                                             for r in sandbox.fake.responses))
    return sandbox, channel


@pytest.mark.parametrize("text, expected", [
    ("start " + "x" * 40_000, "keep it under"),
    ("start \x00\x01\x02", "needs a title"),
    ("start    ", None),  # opens the form instead
    ("status", "Usage"),
    ("severity ‮sev1", "not a severity"),
    ("lead <@U0NOBODY>", "can't find that person"),
    ("impact " + "é" * 40_000, "keep it under"),
    ("started 2024-13-45 10:00", "not a real date"),
    ("ended -99999999999m", "too far back"),
    ("\u202e\u202d\U0001f525", "I don't know"),
    ("x" * 40_000, "I don't know"),
])
def test_bad_input_is_answered_and_changes_nothing(opened: tuple[Sandbox, str], text: str,
                                                   expected: str | None) -> None:
    sb, channel = opened
    before = _snapshot(sb)
    if expected is None:
        sb.sim.command(text, channel=channel)
        sb.fake.wait_for(lambda: False, 0.5)
        assert _snapshot(sb) == before
        return
    answer = _reply(sb, text, channel)
    assert expected in answer
    assert "Traceback" not in answer and len(answer) < 4000
    assert _snapshot(sb) == before


def test_rtl_and_emoji_titles_work(sandbox: Sandbox) -> None:
    sandbox.sim.command("start שגיאה בהתחברות 🔥 login", channel=sandbox.general)
    channel = sandbox.incident_channel(1)
    assert channel["name"] == "inc-1-login"
    with sandbox.db.session() as s:
        assert s.scalars(select(Incident.title)).one() == "שגיאה בהתחברות 🔥 login"


def test_another_workspaces_channel_is_not_an_incident_here(opened: tuple[Sandbox, str]) -> None:
    sb, channel = opened
    other = sb.sim.team_id
    sb.sim.team_id = "T0OTHER"
    try:
        answer = _reply(sb, "status resolved", channel)
    finally:
        sb.sim.team_id = other
    assert "incident's channel" in answer
    with sb.db.session() as s:
        assert s.scalars(select(Incident.status)).one() == "investigating"


def test_another_workspaces_task_is_not_found_and_untouched(opened: tuple[Sandbox, str]) -> None:
    sb, channel = opened
    _reply(sb, "task <@U0BOB|bob> Rotate the TLS certificate", channel)
    other = sb.sim.team_id
    sb.sim.team_id = "T0OTHER"
    try:
        for text in ("done T-1", "drop T-1 not ours", "due T-1 tomorrow"):
            assert "There is no task T-1" in _reply(sb, text, sb.general)
    finally:
        sb.sim.team_id = other
    with sb.db.session() as s:
        task = s.scalars(select(Task)).one()
        assert (task.status, task.due_date) == ("open", None)


# -- requests that are not Slack's, or that Slack sent malformed (issue 13, item 2) ----------

_EVENT = {"token": "t", "team_id": "T0001", "api_app_id": "A0SITREP", "type": "event_callback",
          "event_id": "Ev0BAD"}
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@pytest.mark.http_only  # raw HTTP bodies and signatures: Socket Mode has neither
@pytest.mark.parametrize("body, kwargs", [
    ("\x00\xffgarbage{", {"signature": "v0=forged"}),
    ('{"type": "event_callback", "event": null}', {"signature": "v0=" + "0" * 64}),
    ('{"type": "url_verification", "challenge": "x"}', {"signature": ""}),
    ('{"type": "url_verification", "challenge": "x"}', {"timestamp": 1}),
    ('{"type": "url_verification", "challenge": "x"}', {"old": 301}),
    ('{"type": "url_verification", "challenge": "x"}',
     {"headers": {"X-Slack-Request-Timestamp": "soon"}}),
], ids=["garbage", "forged", "unsigned", "epoch", "six-minutes-old", "timestamp-not-a-number"])
def test_unsigned_or_forged_requests_are_refused_unread(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture, body: str,
        kwargs: dict) -> None:
    import time
    if "old" in kwargs:
        kwargs = {"timestamp": int(time.time()) - kwargs["old"]}
    reply = sandbox.sim.send(body, JSON, **kwargs)
    assert reply.status == 401
    assert "Traceback" not in caplog.text and "Traceback" not in reply.body


def _bad(sb: Sandbox, body: str, content_type: str,
         caplog: pytest.LogCaptureFixture) -> int:
    import logging
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        reply = sb.sim.send(body, content_type)
    # Sitrep's own lines: waitress may warn that its queue is busy on a loaded machine.
    lines = [r for r in caplog.records
             if r.levelno >= logging.WARNING and not r.name.startswith("waitress")]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].exc_info is None and "malformed" in lines[0].getMessage()
    assert "Traceback" not in reply.body
    return reply.status


def _event(event: object, **top: object) -> str:
    import json
    return json.dumps({**_EVENT, "event": event, **top})


@pytest.mark.http_only  # raw HTTP bodies and signatures: Socket Mode has neither
@pytest.mark.parametrize("body", [
    "[1, 2]", '"just a string"', "{not json", "", "42", "{}",
    _event(None), _event("reaction_added"), _event({"no": "type"}),
    _event({"type": "message", "channel": 5, "ts": "1.000100", "text": "x", "user": "U1"}),
    _event({"type": "message", "channel": "C1", "ts": 1.0001, "text": "x"}),
    _event({"type": "message", "channel": "C1", "ts": "1.1", "text": ["x"]}),
    _event({"type": "message", "subtype": "message_changed", "channel": "C1",
            "message": "edited"}),
    _event({"type": "message", "channel": "C1", "ts": "1.1", "attachments": {"a": 1}}),
    _event({"type": "reaction_added", "user": "U1", "reaction": "pushpin", "item": "x"}),
    _event({"type": "reaction_removed", "user": 7, "reaction": "pushpin",
            "item": {"type": "message", "channel": "C1", "ts": "1.1"}}),
    _event({"type": "reaction_added", "user": "U1", "reaction": "pushpin",
            "item": {"type": "message", "channel": ["C1"], "ts": "1.1"}}),
    _event({"type": "message"}, team_id=5),
])
def test_signed_malformed_events_are_answered_200_once(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture, body: str) -> None:
    """200, not 4xx: Slack retries every event answer that is not 2xx."""
    assert _bad(sandbox, body, JSON, caplog) == 200


@pytest.mark.http_only  # raw HTTP bodies and signatures: Socket Mode has neither
@pytest.mark.parametrize("body", [
    "payload=%7Bnope", "payload=%5B1%5D", "payload=%22x%22", "payload=null",
    "payload=%7B%22type%22%3A%22block_actions%22%7D",  # no user
    "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A1%7D%7D",
    ("payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U1%22%7D"
     "%2C%22actions%22%3A%22x%22%7D"),
    ("payload=%7B%22type%22%3A%22shortcut%22%2C%22user%22%3A%7B%22id%22%3A%22U1%22%7D"
     "%2C%22team%22%3A%22T1%22%7D"),
    "a=b", "text=hello",
])
def test_signed_malformed_commands_and_interactions_are_answered_400_once(
        sandbox: Sandbox, caplog: pytest.LogCaptureFixture, body: str) -> None:
    """400: Slack never retries a command or an interaction; the person sees it fail."""
    assert _bad(sandbox, body, FORM, caplog) == 400


def test_unknown_but_wellformed_deliveries_are_answered_200(sandbox: Sandbox) -> None:
    import json
    for body in (json.dumps({"type": "something_new", "team_id": "T0001"}),
                 _event({"type": "team_join", "user": {"id": "U9"}})):
        assert sandbox.sim.send(body, JSON).status == 200


def test_a_malformed_event_changes_nothing_and_the_next_one_works(
        opened: tuple[Sandbox, str]) -> None:
    sb, channel = opened
    before = _snapshot(sb)
    sb.sim.send(_event({"type": "reaction_added", "user": "U0LEAD", "reaction": "pushpin",
                        "item": {"type": "message", "channel": 5, "ts": "1.1"}}), JSON)
    assert _snapshot(sb) == before
    assert _reply(sb, "status identified", channel)


def test_a_one_megabyte_message_is_stored_capped(opened: tuple[Sandbox, str]) -> None:
    """Issue 13, item 6: storage keeps at most Slack's own 40,000 characters of a text."""
    from storage.models import STORED_TEXT, ChannelMessage
    sb, channel = opened
    message = sb.fake.user_message(channel, "U0ALICE", "x" * 1_000_000)
    assert sb.sim.message(message, channel).status == 200
    with sb.db.session() as s:
        kept = s.get(ChannelMessage, (channel, message["ts"]))
        assert kept is not None and len(kept.text) == STORED_TEXT
        assert kept.text.endswith("too long to keep]")
