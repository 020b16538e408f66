"""Slack's limits, enforced in one place for everything Sitrep sends (issue 11, item 4).

The fake Slack refuses what Slack refuses (``invalid_blocks``, ``msg_too_long``); these tests
drive the real app into the long cases and check that nothing is refused and that what is
cut in Slack is kept whole where it belongs (the postmortem).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.incidents import rules as incidents
from bot.sandbox.sandbox import Sandbox
from bot.slack import limits
from bot.tasks import notify
from bot.tasks import rules as tasks
from bot.tasks.reminders import Policy
from tests.incidents.test_slack import in_channel, last_reply, start, stored

UTC = ZoneInfo("UTC")


def test_fit_cuts_whole_characters_and_fit_lines_leaves_room_for_more() -> None:
    assert limits.fit("x" * 10, 10) == "x" * 10
    assert limits.fit("a &amp; b", 6) == "a…"
    lines = [f"line {i:02d} " + "x" * 90 for i in range(100)]
    shown, left_out = limits.fit_lines(lines, 4000)
    assert left_out == 100 - len(shown) > 0 and shown == lines[:len(shown)]
    assert sum(len(line) + 1 for line in shown) + limits.MORE_LINE <= 4000
    assert limits.fit_lines(lines[:3], 4000) == (lines[:3], 0)


def test_a_summary_near_the_limit_keeps_the_card_updatable(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = start(sb)["id"]
    summary = "Checkout & cart fail; " * 135  # 2,970 characters typed, more once escaped
    in_channel(sb, channel, f"summary {summary}")
    in_channel(sb, channel, "status identified")
    card = next(m for m in sb.fake.messages(channel) if m["ts"] == stored(sb)[0].card_ts)
    section = card["blocks"][2]["text"]["text"]
    assert len(section) <= 3000 and section.endswith("…")
    assert section.startswith("*Summary*\nCheckout &amp; cart fail; ")
    assert "Identified" in str(card["blocks"][1])  # the later update went through too
    assert stored(sb)[0].summary == summary.strip()
    in_channel(sb, channel, "postmortem publish")
    sb.fake.wait_for(lambda: sb.fake.uploads)
    markdown = next(iter(sb.fake.uploads.values())).decode()
    assert summary.strip() in markdown  # whole in the postmortem


def test_long_lists_stay_readable_and_say_how_many_more(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = start(sb)["id"]
    incident = stored(sb)[0]
    for i in range(40):  # the 40,462-character reply of the issue, and more
        tasks.add_improvement(sb.db, sb.deps.clock, incident.id, "U0LEAD",
                              f"Improvement {i:02d} " + "& more words " * 75)
        tasks.add_task(sb.db, sb.deps.clock, Policy(), incident_id=incident.id, actor="U0LEAD",
                       owner="U0BOB", text=f"Task {i} " + "<b> text " * 99, due=None, zone=UTC)
    in_channel(sb, channel, "tasks")
    reply = last_reply(sb)
    assert len(reply) <= limits.READABLE_TEXT
    assert "more tasks" in reply and "more improvements" in reply
    assert "&lt;b&gt;" in reply and "<b>" not in reply
    assert sb.fake.refused_responses == []

    for i in range(30):
        incidents.open_incident(sb.db, sb.deps.clock, team_id=sb.fake.team_id,
                                user_id="U0ALICE", title=f"Incident {i:02d} & " + "x" * 130)
    in_channel(sb, sb.general, "list")
    reply = last_reply(sb)
    assert reply.startswith("*31 open incidents:*") and len(reply) <= limits.READABLE_TEXT
    assert "… and " in reply.splitlines()[-1]


def test_the_escalation_post_lists_what_fits_and_counts_the_rest(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.deps.clock.set(dt.datetime(2026, 11, 16, 12, tzinfo=dt.UTC))  # type: ignore[attr-defined]
    channel = start(sb)["id"]
    incident = stored(sb)[0]
    for i in range(60):
        tasks.add_task(sb.db, sb.deps.clock, Policy(), incident_id=incident.id, actor="U0LEAD",
                       owner="U0CARA", text=f"Fix {i}: " + "retry & backoff " * 40,
                       due=dt.date(2026, 11, 17), zone=UTC)
    sb.deps.clock.set(dt.datetime(2026, 11, 23, 19, tzinfo=dt.UTC))  # type: ignore[attr-defined]
    report = notify.run_reminders(sb.deps, sb.app.client)
    assert report.escalated == 1
    (post,) = [m["text"] for m in sb.fake.messages(channel) if "overdue:" in m.get("text", "")]
    assert len(post) <= limits.READABLE_TEXT
    assert post.splitlines()[-1].startswith("… and ") and "more overdue" in post
    assert "retry &amp; backoff" in post
