"""Idle memory (RSS) of ``incident-bot serve`` and ``incident-bot socket``.

Each runs as its own process against the fake Slack (``python -m bot.sandbox.fakeslack``),
connected and idle for a few seconds (a reminder pass or two included), then its resident
set size is read from ``/proc``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

from tests.bench.ack_latency import _free_port, rss_mb

IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "8"))
APP_TOKEN = "xapp-1-A0BOT-1-bench"


def _rss_after_idle(command: str, env: dict[str, str], ready: str) -> float:
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", command], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(ready, timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"{command} exited: {proc.stderr.read()}") from None
                time.sleep(0.2)
        time.sleep(IDLE_SECONDS)
        return rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def measure(database_url: str) -> list[tuple[str, object, str]]:
    fake = subprocess.Popen([sys.executable, "-m", "bot.sandbox.fakeslack", "--app-token",
                             APP_TOKEN], stdout=subprocess.PIPE, text=True)
    try:
        api_url = fake.stdout.readline().strip()  # type: ignore[union-attr]
        port, metrics_port = _free_port(), _free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_SIGNING_SECRET": "bench",
               "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": api_url,
               "DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port),
               "LOG_LEVEL": "WARNING"}
        serve = _rss_after_idle("serve", env, f"http://127.0.0.1:{port}/healthz")
        socket = _rss_after_idle("socket", {**env, "METRICS_PORT": str(metrics_port)},
                                 f"http://127.0.0.1:{metrics_port}/healthz")
    finally:
        fake.terminate()
        fake.wait(10)
    return [("incident-bot serve, idle", round(serve, 1), "MB RSS"),
            ("incident-bot socket, idle", round(socket, 1), "MB RSS")]
