"""The contract suite: real payload shapes replayed, signed, through the Bolt app.

Each file in ``payloads/`` is one request as Slack sends it, written from Slack's
documentation and slackapi/bolt-python's test payloads (``sources`` says which): messages
of every kind the bot meets, reactions, interactions and Enterprise Grid ``W…`` users.
Placeholders (``$CHANNEL``, ``$ROOT_TS`` …) are filled in from a small world: an open
incident whose channel has a message from alice (pinned by lee) and bob's reply in its
thread. Every replay must be answered 200 with no traceback logged, and do what ``expect``
says: keep a message or not, change the timeline or not, answer the person.
"""

from __future__ import annotations

import itertools
import json
import logging
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.sandbox.sandbox import Sandbox
from storage.models import ChannelMessage, Incident, Task, TimelineEntry
from tests.incidents.test_slack import in_channel
from tests.timeline.support import entries, ephemerals, open_incident, post, react

PAYLOADS = sorted((Path(__file__).parent / "payloads").glob("*.json"))
_event_ids = itertools.count(1)
GRID_USER = "W0GRID0001"


def world(sb: Sandbox, setup: str | None) -> dict[str, str]:
    """The incident, its messages (and a task when asked); the placeholders' values."""
    sb.fake.add_user(GRID_USER, "grace", real_name="Grace Grid", display_name="grace")
    channel = open_incident(sb, "sev2 Checkout failing")
    root = post(sb, channel, "U0ALICE", "investigating the LB")
    reply = post(sb, channel, "U0BOB", "health checks failing", thread_ts=root["ts"])
    react(sb, channel, root["ts"], "U0LEAD")
    ephemerals(sb, 1)
    values = {"$TEAM": sb.fake.team_id, "$APP": sb.sim.app_id, "$BOT": sb.fake.bot_user_id,
              "$CHANNEL": channel, "$GENERAL": sb.general, "$ROOT_TS": root["ts"],
              "$REPLY_TS": reply["ts"]}
    if setup == "task":
        in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage")
        with sb.db.session() as s:
            task = s.scalars(select(Task)).one()
        values.update({"$TASK_ID": str(task.id), "$DM_CHANNEL": task.dm_channel_id or "",
                       "$DM_TS": task.dm_ts or ""})
    return values


def fill(text: str, values: dict[str, str]) -> str:
    for key in sorted(values, key=len, reverse=True):  # $ROOT_TS before $ROOT
        text = text.replace(key, values[key])
    return text


def send(sb: Sandbox, kind: str, body: dict[str, Any]) -> Any:
    if kind == "event":
        reply = sb.sim.send(json.dumps(body), "application/json")
        sb.inbox.wait_idle()  # applied after the answer: wait until it was
        return reply
    if kind == "interaction":
        form = urllib.parse.urlencode({"payload": json.dumps(body)})
    else:
        form = urllib.parse.urlencode(body)
    return sb.sim.send(form, "application/x-www-form-urlencoded")


def messages(sb: Sandbox, channel: str) -> dict[str, ChannelMessage]:
    with sb.db.session() as s:
        rows = s.scalars(select(ChannelMessage).where(ChannelMessage.channel_id == channel))
        return {row.ts: row for row in rows}


def timeline_texts(sb: Sandbox) -> list[str]:
    return [e.text for e in entries(sb, kind="message")]


def check(sb: Sandbox, expect: dict[str, Any], values: dict[str, str]) -> None:
    channel, fake = values["$CHANNEL"], sb.fake
    if "stored" in expect:
        want = expect["stored"]
        ts = want["ts"]

        def stored_as_expected() -> bool:
            row = messages(sb, channel).get(ts)
            return row is not None and row.text == want["text"]

        assert fake.wait_for(stored_as_expected), (messages(sb, channel).get(ts), want)
        row = messages(sb, channel)[ts]
        assert row.user_id == want.get("user", row.user_id)
        assert row.bot_name == want.get("bot_name", row.bot_name)
        assert row.thread_ts == want.get("thread_ts", row.thread_ts)
        if "files" in want:
            assert (row.files or {}).get("names") == want["files"]
    if "not_stored" in expect:
        assert expect["not_stored"] not in messages(sb, channel)
        assert all(row.text or row.files for row in messages(sb, channel).values())
    if "timeline" in expect:
        assert fake.wait_for(lambda: timeline_texts(sb) == expect["timeline"]), \
            timeline_texts(sb)
    if "ephemeral" in expect:
        want = expect["ephemeral"]
        assert fake.wait_for(lambda: any(
            e["user"] == want["user"] and e.get("thread_ts") == want["thread_ts"]
            for e in fake.ephemerals)), fake.ephemerals
    if "response" in expect:
        assert fake.wait_for(lambda: any(expect["response"] in r.get("text", "")
                                         for r in fake.responses)), fake.responses
    if "incident" in expect:
        want = expect["incident"]

        def opened() -> Incident | None:
            with sb.db.session() as s:
                return s.scalars(select(Incident).where(Incident.number == want["number"])
                                 ).one_or_none()

        assert fake.wait_for(lambda: opened() is not None and opened().card_ts is not None)
        incident = opened()
        assert incident is not None
        assert (incident.title, incident.lead_user_id) == (want["title"], want["lead"])
    if "task_status" in expect:
        def status() -> str:
            with sb.db.session() as s:
                return s.scalars(select(Task)).one().status

        assert fake.wait_for(lambda: status() == expect["task_status"]), status()
        assert fake.wait_for(lambda: any(c.args.get("ts") == expect["updated"]
                                         for c in fake.calls_to("chat.update")))
    if "note" in expect:
        want = expect["note"]

        def notes() -> list[TimelineEntry]:
            return entries(sb, kind="note")

        assert fake.wait_for(lambda: len(notes()) == 1), notes()
        (note,) = notes()
        assert (note.author_user_id, note.text) == (want["user"], want["text"])


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.stem)
def test_replayed_payload(sandbox: Sandbox, path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sb = sandbox
    spec = json.loads(path.read_text())
    assert spec["about"] and spec["sources"] and spec["kind"] in ("event", "interaction",
                                                                  "command")
    values = world(sb, spec.get("setup"))
    body_text = json.dumps(spec["body"])
    response_channel = (values["$CHANNEL"] if "$CHANNEL" in body_text and spec["kind"] != "event"
                        and "$DM_CHANNEL" not in body_text else values["$GENERAL"])
    values.update({"$NEW_TS": sb.fake._next_ts(), "$EVENT_ID": f"EvC{next(_event_ids):08d}",
                   "$RESPONSE_URL": sb.fake.response_url(response_channel)})
    body = json.loads(fill(body_text, values))
    expect = json.loads(fill(json.dumps(spec["expect"]), values))
    caplog.set_level(logging.INFO)
    reply = send(sb, spec["kind"], body)
    assert reply.status == 200, reply.body
    check(sb, expect, values)
    sb.fake.wait_for(lambda: False, timeout=0.2)  # let work after the ack finish
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not problems, [r.getMessage() for r in problems]
    assert not any("Traceback" in str(r) for r in sb.fake.responses)
    assert sb.fake.refused_responses == []
