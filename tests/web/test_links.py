"""With ``WEB_BASE_URL``, the incident card and the published postmortem link to the pages."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from bot.common import links
from bot.common.clock import FixedClock
from bot.incidents.blocks import incident_card
from bot.sandbox.sandbox import Sandbox
from tests.postmortem.fixtures import NOW, seed_realistic
from tests.postmortem.test_slack import posts, run, start
from tests.web.conftest import get_incident, make_app

BASE = "https://sitrep.example.com"


def test_links_match_the_routes(db) -> None:  # type: ignore[no-untyped-def]
    seed_realistic(db)
    client = make_app(db).test_client()
    page = links.incident_page(BASE, "INC-7")
    assert page == f"{BASE}/incidents/INC-7"
    assert client.get(page.removeprefix(BASE)).status_code == 200
    assert links.postmortem_page(BASE, "INC-7", 3) == f"{BASE}/incidents/INC-7/postmortem/3"
    assert links.postmortem_page(BASE + "/", "INC-7") == f"{BASE}/incidents/INC-7/postmortem"
    assert links.incident_page(None, "INC-7") is None


def test_the_card_links_to_the_page_only_with_a_base_url(db) -> None:  # type: ignore[no-untyped-def]
    seed_realistic(db)
    incident = get_incident(db, 7)
    _, blocks = incident_card(incident, ZoneInfo("UTC"), page_url=f"{BASE}/incidents/INC-7")
    assert f"<{BASE}/incidents/INC-7|Incident page>" in blocks[-1]["elements"][0]["text"]
    _, blocks = incident_card(incident, ZoneInfo("UTC"))
    assert "Incident page" not in blocks[-1]["elements"][0]["text"]


@pytest.fixture
def sb(database_url: str) -> Iterator[Sandbox]:
    with Sandbox(database_url, clock=FixedClock(NOW), migrate=False,
                 timezone=ZoneInfo("Europe/Paris"), web_base_url=BASE) as box:
        yield box


def test_the_card_and_the_published_postmortem_link_to_the_pages(sb: Sandbox) -> None:
    channel = start(sb)
    (card,) = [p for p in sb.fake.calls_to("chat.postMessage")
               if p.args.get("channel") == channel and "blocks" in p.args][:1]
    context = card.args["blocks"][-1]["elements"][0]["text"]
    assert f"<{BASE}/incidents/INC-1|Incident page>" in context
    reply = run(sb, channel, "postmortem publish")
    assert f"On the web: {BASE}/incidents/INC-1/postmortem/1" in reply["text"]
    message = posts(sb, channel)[-1]
    assert (f"<{BASE}/incidents/INC-1/postmortem/1|Read it on the web> (version 1)"
            == message["blocks"][-1]["elements"][0]["text"])
    (complete,) = sb.fake.calls_to("files.completeUploadExternal")
    assert f"On the web: {BASE}/incidents/INC-1/postmortem/1" in complete.args["initial_comment"]
