"""The inbox file: durable, ordered by Slack's time per channel, deduplicated by event id."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.spool import Spool, SpoolInUse


def _body(event_id: str, channel: str, ts: str) -> dict:
    return {"event_id": event_id, "event": {"type": "message", "channel": channel,
                                            "event_ts": ts}}


def _add(spool: Spool, event_id: str, channel: str, ts: str) -> bool:
    return spool.append(_body(event_id, channel, ts), channel=channel, event_time=float(ts),
                        now=100.0)


def test_entries_come_out_in_slack_time_order_and_survive_reopening(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    assert _add(spool, "Ev3", "C1", "30.000001")
    assert _add(spool, "Ev1", "C1", "10.000001")
    assert _add(spool, "Ev2", "C2", "20.000001")
    assert not _add(spool, "Ev1", "C1", "10.000001")  # a redelivery while it waits
    assert spool.depth == 3
    spool.close()
    reopened = Spool(tmp_path)
    assert reopened.depth == 3
    assert [e.event_id for e in reopened.ready(now=0)] == ["Ev1", "Ev2", "Ev3"]
    first = reopened.ready(now=0)[0]
    assert first.body == _body("Ev1", "C1", "10.000001")
    reopened.done(first.id)
    assert reopened.depth == 2 and [e.event_id for e in reopened.ready(0)] == ["Ev2", "Ev3"]


def test_an_entry_waiting_for_a_later_try_holds_back_only_its_own_channel(
        tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    _add(spool, "Ev1", "C1", "10.0")
    _add(spool, "Ev2", "C2", "20.0")
    _add(spool, "Ev3", "C1", "30.0")
    first = spool.ready(0)[0]
    spool.defer(first.id, until=60.0, error="ratelimited")
    assert [e.event_id for e in spool.ready(now=50)] == ["Ev2"]
    assert [e.event_id for e in spool.ready(now=60)] == ["Ev1", "Ev2", "Ev3"]
    assert spool.ready(now=60)[0].attempts == 1
    assert spool.next_try() == 0.0


def test_a_poisoned_entry_is_set_aside_not_lost(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    _add(spool, "Ev1", "C1", "10.0")
    entry = spool.ready(0)[0]
    spool.bury(entry.id, "KeyError('x')", now=200.0)
    assert spool.depth == 0 and spool.ready(0) == [] and spool.dead_count() == 1


def test_the_file_is_fsynced_on_every_commit(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    _add(spool, "Ev1", "C1", "10.0")
    conn = sqlite3.connect(spool.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # synchronous is per connection: read the spool's own.
    assert spool._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_one_process_per_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    with pytest.raises(SpoolInUse, match="give each process its own"):
        Spool(tmp_path)
    spool.close()
    Spool(tmp_path).close()  # free again once closed
