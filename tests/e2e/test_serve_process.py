"""``incident-bot serve`` as a real process: health, a signed command, a clean shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.simulator import SlackSimulator

SECRET = "serve-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "exited"
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve never became healthy")


def test_serve_answers_health_and_signed_commands(database_url: str, tmp_path: Path) -> None:
    with FakeSlack(bot_token="xoxb-fake") as fake:
        fake.add_user("U0LEAD", "lee")
        general = fake.add_channel("general", members=["U0LEAD"])
        port = _free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake.url, "DATABASE_URL": database_url, "PORT": str(port),
               "LOG_LEVEL": "WARNING"}
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, proc)
            sim = SlackSimulator(url, SECRET, team_id=fake.team_id, fake=fake)
            assert sim.command("start sev1 Served for real", channel=general).status == 200
            fake.wait_for_calls("pins.add", timeout=10)
            assert fake.channel_by_name("inc-1-served-for-real") is not None
            forged = SlackSimulator(url, "wrong-secret", fake=fake)
            assert forged.command("start Forged").status == 401
        finally:
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
