"""Only real edits rewrite a timeline entry (issue 11, item 5).

Slack sends ``message_changed`` when it adds a link preview (no ``edited`` field, same text)
and ``message_replied`` about a thread's parent (over the Events API without its subtype).
Neither is something a person wrote.
"""

from __future__ import annotations

from bot.sandbox.sandbox import Sandbox
from tests.timeline.support import entries, open_incident, post, react, stored_messages


def test_a_link_preview_is_not_an_edit(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    message = post(sb, channel, "U0ALICE", "status page: <https://status.example.com/x>")
    react(sb, channel, message["ts"], "U0LEAD")
    (entry,) = entries(sb, kind="message")
    unfurled = sb.fake.unfurl(channel, message["ts"], "https://status.example.com/x",
                              "Example Status", "All systems operational. Subscribe!")
    assert "edited" not in unfurled
    assert sb.sim.message_changed(unfurled, message, channel).status == 200
    (after,) = entries(sb, kind="message")
    assert after.text == entry.text == "status page: https://status.example.com/x"
    (kept,) = [m for m in stored_messages(sb, channel) if m.ts == message["ts"]]
    assert "Subscribe" not in kept.text
    # A real edit afterwards still shows, without the preview.
    edited = sb.fake.edit_message(channel, message["ts"], "status page is wrong: <https://x.io>")
    assert sb.sim.message_changed(edited, unfurled, channel).status == 200
    assert [e.text for e in entries(sb, kind="message")] == ["status page is wrong: https://x.io"]


def test_an_alert_integration_updating_its_attachment_is_an_edit(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    alert = sb.fake.integration_message(channel, "Alertmanager", "",
                                        attachments=[{"title": "FIRING: checkout 5xx"}])
    assert sb.sim.message(alert, channel).status == 200
    react(sb, channel, alert["ts"], "U0LEAD")
    resolved = {**alert, "attachments": [{"title": "RESOLVED: checkout 5xx"}]}
    assert sb.sim.message_changed(resolved, alert, channel).status == 200
    assert [e.text for e in entries(sb, kind="message")] == ["RESOLVED: checkout 5xx"]


def test_message_replied_creates_no_empty_authorless_message(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = open_incident(sb)
    root = post(sb, channel, "U0ALICE", "investigating the LB")
    post(sb, channel, "U0BOB", "health checks failing", thread_ts=root["ts"])
    parent = next(m for m in sb.fake.messages(channel) if m["ts"] == root["ts"])
    before = {(m.ts, m.user_id, m.text) for m in stored_messages(sb, channel)}
    for with_subtype in (False, True):
        assert sb.sim.message_replied(parent, channel, with_subtype=with_subtype).status == 200
    after = {(m.ts, m.user_id, m.text) for m in stored_messages(sb, channel)}
    assert after == before
    assert all(m.text and m.user_id for m in stored_messages(sb, channel))
