"""A start cut short by a database outage is reported truthfully, and its retry converges.

The database goes away while ``conversations.create`` is in flight: the channel exists in
Slack, but the incident does not know it. The person is told the incident was opened but
not finished; running the same start again attaches that channel (found by name) to the
same incident — one incident, one channel.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from sqlalchemy import select

from bot.sandbox.sandbox import Sandbox
from storage.models import Incident
from tests.timeline.support import database_down


def _responses_after(sb: Sandbox, before: int) -> list[str]:
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > before, timeout=15)
    return [r.get("text", "") for r in sb.fake.responses[before:]]


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
def test_a_start_cut_by_an_outage_is_told_and_the_same_start_again_converges(
        sandbox: Sandbox, private: bool) -> None:
    """A private incident's channel is private: the retry finds it among private channels."""
    sb = sandbox
    command = f"start {'private ' if private else ''}sev2 Login failures"
    outage = contextlib.ExitStack()
    cut: list[bool] = []

    def cut_the_database(_args: dict[str, Any]) -> bool:
        """Called as the first conversations.create arrives: the database goes away then."""
        if not cut:
            cut.append(True)
            outage.enter_context(database_down(sb))
        return False  # the create itself succeeds

    sb.fake.fail("conversations.create", "ratelimited", times=1, when=cut_the_database)
    before = len(sb.fake.responses)
    assert sb.sim.command(command, channel=sb.general).status == 200
    (told,) = _responses_after(sb, before)
    assert "INC-1 was opened but not finished" in told and "`/incident start` again" in told
    assert "nothing was changed" not in told
    outage.close()  # the database is back
    sb.fake.clear_failures()
    created = [c for c in sb.fake.channels.values() if c["name"].startswith("inc-")]
    assert [c["name"] for c in created] == ["inc-1-login-failures"]
    assert created[0]["is_private"] is private

    before = len(sb.fake.responses)
    assert sb.sim.command(command, channel=sb.general).status == 200
    assert sb.fake.wait_for(lambda: any("is open" in t for t in _responses_after(sb, before)))
    with sb.db.session() as s:
        found = list(s.scalars(select(Incident)))
    assert [(i.number, i.channel_id, i.channel_name) for i in found] == [
        (1, created[0]["id"], "inc-1-login-failures")]
    assert found[0].card_ts in sb.fake.pinned(created[0]["id"])
    assert [c["name"] for c in sb.fake.channels.values()
            if c["name"].startswith("inc-")] == ["inc-1-login-failures"]
    assert len(sb.fake.calls_to("conversations.create")) == 2  # the second: name_taken
