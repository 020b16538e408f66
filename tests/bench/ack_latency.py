"""Ack latency of Sitrep's ``incident-bot serve`` beside a bare Bolt app served the same way.

Both run as their own processes; the fake Slack and the client run in this one. Each
request is signed and sent over HTTP; latency is request sent → HTTP response read.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from slack_sdk import WebClient

from bot.sandbox.simulator import SlackSimulator

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "500"))
WARMUP = 20
#: Requests per second. A busy incident sees a few per second; 50/s is well above that and
#: leaves the bot's work after each ack time to run, as it would in production.
RATE = float(os.environ.get("BENCH_RATE", "50"))
SECRET = "bench-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def process(args: list[str], env: dict[str, str], health: str) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(health, timeout=1):
                break
        except OSError as exc:
            if getattr(exc, "code", None) == 404:  # the bare app has no /healthz
                break
            time.sleep(0.1)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(send: Callable[[int], int], n: int) -> list[float]:
    """Send ``n`` requests at ``RATE`` per second (one at a time); latency of each."""
    out = []
    next_at = time.perf_counter()
    for i in range(n):
        next_at += 1 / RATE
        started = time.perf_counter()
        status = send(i)
        out.append(time.perf_counter() - started)
        assert status == 200, status
        time.sleep(max(0.0, next_at - time.perf_counter()))
    return out


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def stats(name: str, samples: list[float]) -> list[tuple[str, float, str]]:
    return [(f"{name} median", statistics.median(samples) * 1000, "ms"),
            (f"{name} p99", p99(samples) * 1000, "ms")]


def scenarios(sim: SlackSimulator, slack: WebClient, kind: str) -> dict[str, Callable[[int],
                                                                                      int]]:
    """name → send(i): the requests measured, identical for Sitrep and bare Bolt."""
    general = _channel(slack, "general")
    sim.command(f"start Bench channel {kind}", channel=general)
    channel = _channel(slack, "-bench-channel-sitrep") if kind == "Sitrep" else general
    base = time.time()
    messages = []
    for i in range(REQUESTS + WARMUP):
        message = {"type": "message", "user": "U0LEAD", "text": f"observation {i}",
                   "ts": f"{base + i / 1000:.6f}", "team": sim.team_id}
        sim.message(message, channel)
        messages.append(message)
    return {
        "/incident start": lambda i: sim.command(f"start Bench {i}", channel=general).status,
        "/incident note": lambda i: sim.command(f"note step {i}", channel=channel).status,
        "pin reaction": lambda i: sim.reaction(
            "reaction_added", user="U0LEAD", channel=channel, ts=messages[i]["ts"],
            item_user="U0LEAD").status,
    }


def _channel(slack: WebClient, suffix: str) -> str:
    """The id of the channel whose name ends with ``suffix`` (waits for it to exist)."""
    deadline = time.time() + 10
    while time.time() < deadline:
        for channel in slack.conversations_list(limit=999)["channels"]:
            if channel["name"].endswith(suffix):
                return str(channel["id"])
        time.sleep(0.1)
    raise AssertionError(f"no channel named *{suffix}")


def measure(database_url: str) -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    fake_port = _free_port()
    fake_url = f"http://127.0.0.1:{fake_port}/api/"
    fake_args = [sys.executable, "-m", "bot.sandbox.fakeslack", "--port", str(fake_port),
                 "--user", "U0LEAD:lee", "--channel", "general"]
    with process(fake_args, dict(os.environ), fake_url + "api.test"):
        slack = WebClient(token="xoxb-fake", base_url=fake_url)
        results: dict[str, dict[str, list[float]]] = {}
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake_url, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
               "SPOOL_DIR": tempfile.mkdtemp(prefix="sitrep-bench-spool-")}
        for kind in ("bare Bolt", "Sitrep"):
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            if kind == "Sitrep":
                args = [sys.executable, "-m", "bot.cli", "serve"]
            else:
                args = [sys.executable, "-m", "tests.bench._bare_bolt", str(port), SECRET]
            with process(args, {**env, "PORT": str(port)}, url + "/healthz") as proc:
                sim = SlackSimulator(url, SECRET, team_id="T0001")
                if kind == "Sitrep":
                    time.sleep(1)
                    rows.append(("serve idle RSS", rss_mb(proc.pid), "MB"))
                for name, send in scenarios(sim, slack, kind).items():
                    offset = [0]

                    def numbered(i: int, send=send, offset=offset) -> int:
                        return send(offset[0] + i)

                    timed(numbered, WARMUP)
                    offset[0] = WARMUP
                    results.setdefault(name, {})[kind] = timed(numbered, REQUESTS)
                    time.sleep(1)  # let work after the acks drain before the next scenario
        rows.append(("request rate", RATE, "req/s"))
        for name, by_kind in results.items():
            for kind in ("bare Bolt", "Sitrep"):
                rows += stats(f"{name} ack ({kind})", by_kind[kind])
            ratio = p99(by_kind["Sitrep"]) / p99(by_kind["bare Bolt"])
            rows.append((f"{name} ack p99 ratio to bare Bolt", ratio, "x"))
    return rows
