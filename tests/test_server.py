"""``/healthz``: which replica stays in the load balancer, and what the body tells monitoring."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.server import health_report
from storage.spool import Spool


class _Database:
    def __init__(self, up: bool) -> None:
        self.up = up

    def healthy(self) -> bool:
        return self.up


def _report(up: bool, inbox: Any = None) -> tuple[bool, dict[str, Any]]:
    return health_report(_Database(up), None, inbox)  # type: ignore[arg-type]


def test_a_database_outage_keeps_a_replica_with_an_inbox_in_the_balancer(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    try:
        inbox = SimpleNamespace(spool=spool)
        assert _report(True, inbox) == (True, {"ok": True, "database": "ok", "slack": "ok",
                                               "inbox": 0})
        keep, body = _report(False, inbox)
        assert keep and body["ok"] is False and body["database"] == "unavailable"
    finally:
        spool.close()


def test_503_when_events_could_be_kept_nowhere(tmp_path: Path) -> None:
    assert _report(False) == (False, {"ok": False, "database": "unavailable", "slack": "ok"})
    spool = Spool(tmp_path)
    spool.close()  # as if its volume were gone
    keep, body = _report(False, SimpleNamespace(spool=spool))
    assert not keep and body["inbox"] == "unavailable"
    keep, body = _report(True, SimpleNamespace(spool=spool))
    assert keep and body["ok"] is False
