"""``incident-bot serve`` as a real process: health, a signed command, a clean shutdown."""

from __future__ import annotations

import json
from pathlib import Path

from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.simulator import SlackSimulator
from tests.support import processes

SECRET = "serve-test-secret"


def test_serve_answers_health_and_signed_commands(database_url: str, tmp_path: Path) -> None:
    with FakeSlack(bot_token="xoxb-fake") as fake:
        fake.add_user("U0LEAD", "lee")
        general = fake.add_channel("general", members=["U0LEAD"])
        port, metrics_port = processes.free_port(), processes.free_port()
        proc = processes.start("serve", {
            "SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.url, "DATABASE_URL": database_url, "PORT": str(port),
            "HOST": "127.0.0.1", "METRICS_PORT": str(metrics_port), "LOG_LEVEL": "INFO"},
            tmp_path)
        try:
            url = f"http://127.0.0.1:{port}"
            processes.wait_healthy(url, proc)
            sim = SlackSimulator(url, SECRET, team_id=fake.team_id, fake=fake)
            assert sim.command("start sev1 Served for real", channel=general).status == 200
            fake.wait_for_calls("pins.add", timeout=10)
            assert fake.channel_by_name("inc-1-served-for-real") is not None
            forged = SlackSimulator(url, "wrong-secret", fake=fake)
            assert forged.command("start Forged").status == 401
            # METRICS_PORT keeps /metrics off the public port.
            assert processes.get(url + "/metrics")[0] == 404
            status, text = processes.get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert status == 200
            assert 'sitrep_slack_requests_total{kind="command",status="200"} 1.0' in text
            assert 'sitrep_slack_requests_total{kind="command",status="401"} 1.0' in text
            assert processes.get(f"http://127.0.0.1:{metrics_port}/healthz")[0] == 200
        finally:
            _out, err = processes.stop(proc)
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "Logging error" not in err
        assert "will be unused" not in err  # Bolt's warning about the token our client uses
        assert f"Sitrep listening on http://127.0.0.1:{port} (POST /slack/events" in err
        assert f"metrics and health on http://127.0.0.1:{metrics_port}" in err
        # The scheduler ran its first reminder poll at start, silently.
        assert "apscheduler" not in err
        assert err.rstrip().endswith("bot.lifecycle: stopped")


def test_sigterm_finishes_work_already_acknowledged(database_url: str, tmp_path: Path) -> None:
    """A command acked just before SIGTERM is carried out before the process exits."""
    with FakeSlack(bot_token="xoxb-fake") as fake:
        fake.add_user("U0LEAD", "lee")
        general = fake.add_channel("general", members=["U0LEAD"])
        port = processes.free_port()
        proc = processes.start("serve", {
            "SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.url, "DATABASE_URL": database_url, "PORT": str(port),
            "LOG_LEVEL": "INFO"}, tmp_path)
        try:
            url = f"http://127.0.0.1:{port}"
            processes.wait_healthy(url, proc)
            fake.latency = 0.3  # the work after the ack now takes a couple of seconds
            sim = SlackSimulator(url, SECRET, team_id=fake.team_id, fake=fake)
            assert sim.command("start sev2 Stopping mid-way", channel=general).status == 200
            assert not fake.calls_to("pins.add")  # still under way when SIGTERM comes
        finally:
            _out, err = processes.stop(proc)
        assert proc.returncode == 0, err
        assert "stopping: taking no new work" in err
        assert fake.calls_to("pins.add"), "the acknowledged command was cut short"
        assert any("is open" in r.get("text", "") for r in fake.responses)
        assert fake.channel_by_name("inc-1-stopping-mid-way") is not None


def test_json_logs_one_object_per_line_and_no_secret(database_url: str, tmp_path: Path) -> None:
    token = "xoxb-1000-2000-LongEnoughToFind"
    secret = "0123456789abcdef0123456789abcdef"
    with FakeSlack(bot_token=token) as fake:
        fake.add_user("U0LEAD", "lee")
        general = fake.add_channel("general", members=["U0LEAD"])
        port = processes.free_port()
        proc = processes.start("serve", {
            "SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": fake.url,
            "DATABASE_URL": database_url, "PORT": str(port), "LOG_LEVEL": "DEBUG",
            "LOG_FORMAT": "json"}, tmp_path)
        try:
            url = f"http://127.0.0.1:{port}"
            processes.wait_healthy(url, proc)
            sim = SlackSimulator(url, secret, team_id=fake.team_id, fake=fake)
            assert sim.command("start Logged in JSON", channel=general).status == 200
            fake.wait_for_calls("pins.add", timeout=10)
        finally:
            _out, err = processes.stop(proc)
    assert proc.returncode == 0, err
    entries = [json.loads(line) for line in err.splitlines()]  # every line is one object
    assert len(entries) > 20  # DEBUG: Bolt and slack_sdk say a lot
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert any(e["message"].startswith(f"Sitrep listening on http://0.0.0.0:{port}")
               for e in entries)
    assert token not in err and secret not in err
    assert "LongEnoughToFind" not in err


def test_an_unreachable_database_at_start_is_one_clear_line(tmp_path: Path) -> None:
    """No traceback for an operator's commonest start-up mistake, and no password shown."""
    closed = processes.free_port()
    for command in ("serve", "migrate"):
        proc = processes.start(command, {
            "SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_SIGNING_SECRET": SECRET,
            "DATABASE_URL": f"postgresql://sitrep:hunter2@127.0.0.1:{closed}/sitrep",
            "PORT": str(processes.free_port()), "HOST": "127.0.0.1"}, tmp_path)
        _out, err = proc.communicate(timeout=60)  # it exits by itself
        assert proc.returncode == 3, err
        assert "incident-bot: the database is unreachable (" in err
        assert "Traceback" not in err and "hunter2" not in err
