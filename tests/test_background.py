"""The scheduler's jobs: named, failures survived, and a run longer than its interval told."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.background import _safe, start_background
from bot.deps import Deps
from bot.settings import Settings
from storage.db import Database


class Ticks:
    """A timer that returns the given readings in turn."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def __call__(self) -> float:
        return self.readings.pop(0)


def test_a_run_longer_than_its_interval_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[str] = []
    job = _safe("task_reminders", lambda deps, client: runs.append("ran"), None, None,  # type: ignore[arg-type]
                30, timer=Ticks(100.0, 145.5))
    with caplog.at_level(logging.INFO):
        job()
    assert runs == ["ran"]
    assert ("background job task_reminders took 45.5 s, longer than its 30 s interval: the "
            "next run starts late") in caplog.text


def test_a_quick_run_says_nothing_and_a_failure_is_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    def fail(_deps: Any, _client: Any) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.INFO, logger="bot.background"):
        _safe("quick", lambda deps, client: None, None, None, 30, timer=Ticks(0, 0.2))()  # type: ignore[arg-type]
        assert caplog.text == ""
        _safe("broken", fail, None, None, 30, timer=Ticks(0, 0.1))()  # type: ignore[arg-type]
    assert "background job broken failed; it will run again" in caplog.text
    assert "RuntimeError: boom" in caplog.text


@pytest.fixture
def deps(database_url: str) -> Iterator[Deps]:
    settings = dataclasses.replace(Settings(), database_url=database_url,
                                   reminder_poll_seconds=45)
    deps = Deps(settings=settings, db=Database(database_url))
    yield deps
    deps.after_ack.shutdown()
    deps.db.dispose()


def test_jobs_carry_their_names_for_the_scheduler_s_own_warnings(deps: Deps) -> None:
    scheduler = start_background(deps, None)  # type: ignore[arg-type]
    try:
        jobs = {job.id: (job.name, job.trigger.interval.total_seconds())
                for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
    assert jobs == {"purge_stored": ("purge_stored", 600),
                    "due_work": ("due_work", 45)}
