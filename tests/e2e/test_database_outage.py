"""With the database gone, commands answer "unavailable" quickly and the bot recovers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from bot.sandbox.sandbox import Sandbox
from storage import incidents
from storage.db import PoolSettings
from tests.support.tcpproxy import TcpProxy


@pytest.fixture
def proxied(transport: str, pg_url: str | None, clock) -> Iterator[tuple[Sandbox, TcpProxy]]:  # type: ignore[no-untyped-def]
    if pg_url is None:
        pytest.skip("PostgreSQL is not reachable")
    from tests.conftest import _truncate_pg

    _truncate_pg(pg_url)
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False)
    with Sandbox(proxied_url, clock=clock, migrate=False, transport=transport,
                 pool=PoolSettings(size=2, max_overflow=0, timeout=1, connect_timeout=1)) as sb:
        yield sb, proxy
    proxy.up()


def _reply_after(sb: Sandbox, text: str, channel: str) -> str:
    before = len(sb.fake.responses)
    assert sb.sim.command(text, channel=channel).status == 200
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > before, timeout=10)
    return sb.fake.responses[-1]["text"]


def test_commands_during_an_outage_get_a_clear_reply_and_the_bot_recovers(proxied) -> None:  # type: ignore[no-untyped-def]
    sb, proxy = proxied
    sb.sim.command("start Payments down", channel=sb.general)
    assert sb.fake.wait_for(lambda: any("is open" in r.get("text", "")
                                        for r in sb.fake.responses))
    channel = sb.incident_channel(1)["id"]
    proxy.down()
    text = _reply_after(sb, "status identified", channel)
    assert "database is unavailable" in text and "try again" in text
    text = _reply_after(sb, "list", sb.general)
    assert "database is unavailable" in text
    # The replica stays in the load balancer (its inbox keeps Slack's events); the body
    # tells monitoring what is wrong.
    with urllib.request.urlopen(f"{sb.server.url}/healthz", timeout=5) as resp:  # type: ignore[union-attr]
        assert resp.status == 200
        report = json.loads(resp.read())
    assert report["ok"] is False and report["database"] == "unavailable"
    proxy.up()
    text = _reply_after(sb, "status identified", channel)
    assert "identified" in text
    with urllib.request.urlopen(f"{sb.server.url}/healthz", timeout=5) as resp:  # type: ignore[union-attr]
        assert resp.status == 200
    with sb.db.session() as s:
        inc = incidents.by_number(s, sb.fake.team_id, 1)
        assert inc is not None and inc.status == "identified"
