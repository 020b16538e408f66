"""Soak: ``incident-bot serve`` under a steady 50 events/s over HTTP; does its memory stay flat?

Messages posted in an incident channel, 📌 pins and unpins of them, and edits, each a signed
Events API request with its own event id, sent to the real ``serve`` process (its own
process, the fake Slack in another). The serve process's resident memory (``VmRSS``) is read
at the start, every ``--every`` seconds and at the end.

``make bench`` runs a short soak (``BENCH_SOAK_SECONDS``, default 30 s); the real one is
``python -m tests.bench.soak --duration 3600`` (an hour, as issue 13 asks), optionally with
``--database-url`` (default: a fresh SQLite file).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable

from slack_sdk import WebClient

from bot.sandbox.simulator import SlackSimulator
from tests.bench.ack_latency import SECRET, _channel, _free_port, process, rss_mb

RATE = 50.0
SHORT = float(os.environ.get("BENCH_SOAK_SECONDS", "30"))
#: Only a short soak runs on both backends in ``make bench``.
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")


def soak(database_url: str, duration: float, every: float = 300.0, rate: float = RATE,
         report: Callable[[str], None] = lambda line: None) -> list[tuple[str, float, str]]:
    """Run the soak; rows for ``make bench`` (RSS at start, end, peak; events; failures)."""
    fake_port = _free_port()
    fake_url = f"http://127.0.0.1:{fake_port}/api/"
    fake_args = [sys.executable, "-m", "bot.sandbox.fakeslack", "--port", str(fake_port),
                 "--user", "U0LEAD:lee", "--user", "U0ALICE:alice", "--channel", "general"]
    with process(fake_args, dict(os.environ), fake_url + "api.test"):
        slack = WebClient(token="xoxb-fake", base_url=fake_url)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake_url, "DATABASE_URL": database_url, "LOG_LEVEL": "ERROR",
               "PORT": str(port)}
        with process([sys.executable, "-m", "bot.cli", "serve"], env,
                     url + "/healthz") as proc:
            sim = SlackSimulator(url, SECRET, team_id="T0001")
            sim.command("start Soak", channel=_channel(slack, "general"))
            channel = _channel(slack, "-soak")
            time.sleep(1)
            samples = [(0.0, rss_mb(proc.pid))]
            report(f"t=0 s  RSS {samples[0][1]:.1f} MB")
            sent = failed = 0
            posted: list[str] = []
            started = time.perf_counter()
            next_at, next_report = started, started + every
            base = time.time()
            while (now := time.perf_counter()) - started < duration:
                i = sent
                ts = f"{base + i / 1000:.6f}"
                step = i % 5
                if step in (0, 1) or len(posted) < 3:  # two messages in five
                    status = sim.message({"type": "message", "user": "U0ALICE", "ts": ts,
                                          "text": f"observation {i} " + "x" * (i % 400),
                                          "team": sim.team_id}, channel).status
                    posted.append(ts)
                    posted = posted[-1000:]
                elif step == 2:
                    status = sim.reaction("reaction_added", user="U0LEAD", channel=channel,
                                          ts=posted[-2], item_user="U0ALICE").status
                elif step == 3:
                    status = sim.reaction("reaction_removed", user="U0LEAD", channel=channel,
                                          ts=posted[-3], item_user="U0ALICE").status
                else:
                    old = posted[-1]
                    status = sim.message_changed(
                        {"type": "message", "user": "U0ALICE", "ts": old,
                         "text": f"edited {i}", "edited": {"user": "U0ALICE", "ts": ts}},
                        {"type": "message", "user": "U0ALICE", "ts": old, "text": "before"},
                        channel).status
                sent += 1
                failed += status != 200
                if now >= next_report:
                    samples.append((now - started, rss_mb(proc.pid)))
                    report(f"t={now - started:.0f} s  RSS {samples[-1][1]:.1f} MB  "
                           f"events {sent}  failed {failed}")
                    next_report += every
                next_at += 1 / rate
                time.sleep(max(0.0, next_at - time.perf_counter()))
            elapsed = time.perf_counter() - started
            time.sleep(2)  # work after the acks drains
            samples.append((elapsed, rss_mb(proc.pid)))
            report(f"end t={elapsed:.0f} s  RSS {samples[-1][1]:.1f} MB  events {sent}  "
                   f"failed {failed}  ({sent / elapsed:.1f} events/s)")
    return [("duration", elapsed, "s"), ("events sent", sent, "events"),
            ("event rate achieved", sent / elapsed, "events/s"),
            ("events not answered 200", failed, "events"),
            ("serve RSS at start", samples[0][1], "MB"),
            ("serve RSS at end", samples[-1][1], "MB"),
            ("serve RSS peak", max(r for _, r in samples), "MB")]


def measure(database_url: str) -> list[tuple[str, float, str]]:
    return soak(database_url, SHORT, every=max(5.0, SHORT / 3))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=SHORT, help="seconds (default 30)")
    parser.add_argument("--every", type=float, default=300.0, help="RSS every N seconds")
    parser.add_argument("--rate", type=float, default=RATE, help="events per second")
    parser.add_argument("--database-url", default=None,
                        help="default: a fresh SQLite file (the schema is migrated on start)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sitrep-soak-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/soak.db"
        rows = soak(url, args.duration, args.every, args.rate,
                    report=lambda line: print(line, flush=True))
    for metric, value, unit in rows:
        print(f"{metric}: {value:,.1f} {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
