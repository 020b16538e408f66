"""A database outage longer than Slack's retries, with a restart in the middle: nothing lost.

A real ``incident-bot serve`` reaches PostgreSQL through a TCP proxy the test cuts. During
the outage people pin, edit, unpin and delete; every event is answered 200 (Slack would
otherwise give up after three retries in about five minutes) and kept in ``SPOOL_DIR``. The
process is stopped and started again while the database is still away (it starts without
it), takes more events, and when the database is back applies all of them, once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.simulator import SlackSimulator
from storage.db import Database
from storage.models import ChannelMessage, TimelineEntry, TimelineReaction
from tests.support import processes
from tests.support.tcpproxy import TcpProxy

SECRET = "inbox-outage-secret"


def _listening(url: str, proc: Any, timeout: float = 30) -> None:
    """Wait until the process answers HTTP at all (``/healthz`` says ``"ok": false`` while
    the database is away)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-4000:]
        try:
            processes.get(url + "/healthz", timeout=3)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("never listened")


def _wait(predicate: Any, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


def test_events_during_an_outage_and_a_restart_are_all_applied_once_it_is_back(
        pg_url: str | None, tmp_path: Path) -> None:
    if pg_url is None:
        pytest.skip("PostgreSQL is not reachable")
    from tests.conftest import _truncate_pg

    _truncate_pg(pg_url)
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    db = Database(pg_url)  # the test's own view, around the proxy
    spool = tmp_path / "spool"
    with FakeSlack(bot_token="xoxb-fake") as fake:
        for user in ("U0LEAD", "U0ALICE", "U0BOB"):
            fake.add_user(user, user[2:].lower())
        general = fake.add_channel("general", members=["U0LEAD", "U0ALICE", "U0BOB"])
        port = processes.free_port()
        env = {"SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake.url, "DATABASE_URL": proxied, "PORT": str(port),
               "HOST": "127.0.0.1", "SPOOL_DIR": str(spool), "DB_POOL_TIMEOUT": "1",
               "DB_CONNECT_TIMEOUT": "1", "LOG_LEVEL": "INFO"}
        base = f"http://127.0.0.1:{port}"
        sim = SlackSimulator(base, SECRET, team_id=fake.team_id,
                             bot_user_id=fake.bot_user_id, fake=fake)
        proc = processes.start("serve", env, tmp_path)
        try:
            processes.wait_healthy(base, proc)
            assert sim.command("start sev2 Outage drill", channel=general).status == 200
            fake.wait_for_calls("pins.add", timeout=15)
            channel = fake.channel_by_name("inc-1-outage-drill")["id"]

            def say(user: str, text: str) -> dict[str, Any]:
                message = fake.user_message(channel, user, text)
                assert sim.message(message, channel).status == 200
                return message

            def react(ts: str, user: str, add: bool = True) -> None:
                event = (fake.add_reaction if add else fake.remove_reaction)(
                    channel, ts, "pushpin", user)
                assert sim.event(event).status == 200

            def texts() -> list[str]:
                with db.session() as s:
                    return [e.text for e in s.scalars(
                        select(TimelineEntry).where(TimelineEntry.kind == "message")
                        .order_by(TimelineEntry.message_ts))]

            edited, unpinned, deleted = (say("U0ALICE", "error rate 40%"),
                                         say("U0BOB", "maybe DNS?"),
                                         say("U0ALICE", "typo, ignore"))
            for message in (edited, unpinned, deleted):
                react(message["ts"], "U0LEAD")
            assert _wait(lambda: len(texts()) == 3)

            proxy.down()
            # During the outage: a new message pinned, an edit, an unpin and a deletion.
            new = say("U0BOB", "rolled back the resolver config")
            react(new["ts"], "U0BOB")
            changed = fake.edit_message(channel, edited["ts"], "error rate 45%")
            assert sim.message_changed(changed, edited, channel).status == 200
            react(unpinned["ts"], "U0LEAD", add=False)
            status, body = processes.get(base + "/healthz", timeout=10)
            # Still in the load balancer: events are kept, commands told the truth.
            assert status == 200 and json.loads(body)["inbox"] == 4
            assert json.loads(body)["database"] == "unavailable"

            # Restart during the outage: the new process starts without its database.
            _out, err = processes.stop(proc)
            assert proc.returncode == 0, err
            assert spool.joinpath("inbox.sqlite3").exists()
            proc = processes.start("serve", env, tmp_path)
            _listening(base, proc)
            fake.delete_message(channel, deleted["ts"])
            assert sim.message_deleted(deleted, channel).status == 200
            late = say("U0ALICE", "resolver fixed, errors gone")
            react(late["ts"], "U0LEAD")
            status, body = processes.get(base + "/healthz", timeout=10)
            assert status == 200 and json.loads(body)["inbox"] == 7

            proxy.up()
            assert _wait(lambda: json.loads(processes.get(base + "/healthz")[1])["ok"])
            assert _wait(lambda: json.loads(processes.get(base + "/healthz")[1])["inbox"] == 0)
            assert texts() == ["error rate 45%", "rolled back the resolver config",
                               "resolver fixed, errors gone"]
            with db.session() as s:
                pinners = sorted(s.execute(select(TimelineReaction.message_ts,
                                                  TimelineReaction.user_id)).all())
                kept = set(s.scalars(select(ChannelMessage.ts)
                                     .where(ChannelMessage.channel_id == channel)))
            assert pinners == sorted([(edited["ts"], "U0LEAD"), (new["ts"], "U0BOB"),
                                      (late["ts"], "U0LEAD")])
            assert deleted["ts"] not in kept and {new["ts"], late["ts"]} <= kept
        finally:
            proxy.up()
            _out, err = processes.stop(proc)
            db.dispose()
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
