"""``incident-bot remind --now`` killed with SIGKILL mid-pass, again and again: no reminder is
doubled, none is missing (issue 13, item 4).

Each runner is a real process talking to the fake Slack over HTTP. It is killed after a
random number of reminders, so it dies with sends that Slack accepted and that were never
recorded. Its leases are then made to run out (as five minutes would), and the next runner
must find those reminders in the owners' DMs by their metadata instead of sending them again.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
from collections import Counter
from pathlib import Path

from sqlalchemy import select, update

from bot.sandbox.fakeslack import FakeSlack
from bot.tasks.notify import REMINDER, SEND_WORKERS
from bot.tasks.reminders import CLAIM_PER_WORKER
from storage import incidents as incident_repo
from storage import tasks as repo
from storage.db import Database
from storage.models import Task
from tests.support import processes

TASKS = 300
OWNERS = 30
KILLS = 8


def _seed(db: Database, fake: FakeSlack) -> dict[str, int]:
    """``TASKS`` overdue tasks over ``OWNERS`` people; task ref → id."""
    now = dt.datetime.now(dt.UTC)
    owners = [f"U0KILL{n:02d}" for n in range(OWNERS)]
    for owner in owners:
        fake.add_user(owner, owner.lower(), tz="Europe/Paris", tz_offset=3600)
    refs = {}
    with db.session() as s:
        incident = incident_repo.create(
            s, team_id=fake.team_id, now=now - dt.timedelta(days=9), title="Killed runners",
            severity="sev3", status="resolved", lead_user_id="U0LEAD", created_by="U0LEAD",
            started_at=now - dt.timedelta(days=9))
        for n in range(TASKS):
            task = repo.create(s, team_id=fake.team_id, incident_id=incident.id,
                               owner_user_id=owners[n % OWNERS], text=f"Task {n}",
                               due_date=now.date() - dt.timedelta(days=1), created_by="U0LEAD",
                               now=now - dt.timedelta(days=9),
                               next_reminder_at=now - dt.timedelta(hours=2))
            refs[task.ref] = task.id
    return refs


def _reminders(fake: FakeSlack) -> Counter[str]:
    """Reminder DMs Slack holds, by task ref (read from their metadata)."""
    counts: Counter[str] = Counter()
    for cid, channel in list(fake.channels.items()):
        if not channel.get("is_im"):
            continue
        for msg in fake.messages(cid):
            meta = msg.get("metadata") or {}
            if meta.get("event_type") == REMINDER:
                counts[meta["event_payload"]["task"]] += 1
    return counts


def _expire_leases(db: Database) -> int:
    """What five minutes would do to the dead runner's leases; how many it held.

    Only leases still running count as the dead runner's: rows an earlier runner left
    (expired here already, and not claimed again since) are not its.
    """
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        live = s.execute(update(Task).where(Task.lease_owner.is_not(None),
                                            Task.lease_until > now)
                         .values(lease_until=now - dt.timedelta(seconds=1)))
        return live.rowcount


def test_runners_killed_mid_pass_double_nothing_and_miss_nothing(
        database_url: str, tmp_path: Path) -> None:
    rng = random.Random(1300)
    db = Database(database_url)
    env = {"SLACK_BOT_TOKEN": "xoxb-fake", "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    try:
        with FakeSlack(bot_token="xoxb-fake") as fake:
            env["SLACK_API_URL"] = fake.url
            refs = _seed(db, fake)
            kills = held_max = 0
            for _ in range(KILLS):
                before = len(fake.calls_to("chat.postMessage"))
                if len(_reminders(fake)) > TASKS - 40:
                    break
                proc = processes.start("remind", env, tmp_path, "--now")
                target = before + rng.randint(5, 40)
                died = fake.wait_for(
                    lambda: len(fake.calls_to("chat.postMessage")) >= target  # noqa: B023
                    or proc.poll() is not None, timeout=60)  # noqa: B023
                assert died
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                proc.communicate(timeout=30)
                held_max = max(held_max, _expire_leases(db))
            finals = []
            for _ in range(5):  # then runners left alone, until every task is recorded
                # A row whose fate a runner could not settle (an error while checking it)
                # keeps its lease for the next pass: let it run out, as five minutes would.
                _expire_leases(db)
                proc = processes.start("remind", env, tmp_path, "--now")
                out, err = proc.communicate(timeout=120)
                assert proc.returncode == 0, err[-3000:]
                finals.append(out.strip() + "\n" + err[-2000:])
                with db.session() as s:
                    if not s.scalars(select(Task.id).where(Task.reminder_count == 0)).first():
                        break
            counts = _reminders(fake)
            duplicates = sum(n - 1 for n in counts.values())
            missing = sorted(set(refs) - set(counts))
            with db.session() as s:
                recorded = Counter(s.scalars(select(Task.reminder_count)))
            reads = len(fake.calls_to("conversations.history"))
            print(f"\n{kills} runners killed mid-pass; most rows held by one: {held_max}; "
                  f"{reads} DM history reads; {sum(counts.values())} reminders for {TASKS} "
                  f"tasks: {duplicates} duplicates, {len(missing)} missing")
            assert kills >= 3
            held = 2 * SEND_WORKERS * CLAIM_PER_WORKER  # two batches: one sent, one claimed
            assert 0 < reads <= kills * held  # only rows a dead runner left
            assert (duplicates, missing) == (0, []), "\n".join(finals)
            assert recorded == Counter({1: TASKS})
            assert held_max <= held
    finally:
        db.dispose()
