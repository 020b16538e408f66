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
