"""``/incident`` end to end: signed requests in, Web API calls and stored rows out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.sandbox.sandbox import Sandbox
from storage.models import Incident, TimelineEntry


def start(sb: Sandbox, text: str = "sev2 Login failures", user: str = "U0LEAD") -> dict:
    def opened() -> int:
        return sum("is open" in r.get("text", "") for r in list(sb.fake.responses))

    before = opened()
    reply = sb.sim.command(f"start {text}", user=user, channel=sb.general)
    assert reply.status == 200
    assert sb.fake.wait_for(lambda: opened() > before), "start never finished"
    pins = sb.fake.calls_to("pins.add")
    channel = sb.fake.channel(pins[-1].args["channel"])
    assert channel is not None
    return channel


def stored(sb: Sandbox) -> list[Incident]:
    with sb.db.session() as s:
        return list(s.scalars(select(Incident).order_by(Incident.number)))


def entries(sb: Sandbox) -> list[TimelineEntry]:
    with sb.db.session() as s:
        return list(s.scalars(select(TimelineEntry).order_by(TimelineEntry.id)))


def in_channel(sb: Sandbox, channel_id: str, text: str, user: str = "U0LEAD") -> None:
    n = len(sb.fake.responses)
    reply = sb.sim.command(text, user=user, channel=channel_id)
    assert reply.status == 200
    assert sb.fake.wait_for(lambda: len(sb.fake.responses) > n), "no reply"


def last_reply(sb: Sandbox) -> str:
    return sb.fake.responses[-1]["text"]


def test_start_sets_up_the_whole_incident(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = start(sb)
    assert channel["name"] == "inc-1-login-failures"
    (incident,) = stored(sb)
    assert (incident.ref, incident.severity, incident.status) == ("INC-1", "sev2",
                                                                  "investigating")
    assert incident.lead_user_id == "U0LEAD" and incident.channel_id == channel["id"]
    invite = sb.fake.calls_to("conversations.invite")[0]
    assert invite.args["channel"] == channel["id"] and invite.args["users"] == "U0LEAD"
    card = sb.fake.calls_to("chat.postMessage")[0]
    assert card.args["channel"] == channel["id"]
    card_text = str(card.args["blocks"])
    for part in ("INC-1: Login failures", "SEV2", "Investigating", "<@U0LEAD>"):
        assert part in card_text
    pin = sb.fake.calls_to("pins.add")[0]
    assert pin.args["timestamp"] == incident.card_ts
    sb.fake.wait_for(lambda: any(r.get("response_type") == "in_channel"
                                 for r in sb.fake.responses))
    announced = [r for r in sb.fake.responses if r.get("response_type") == "in_channel"]
    assert f"<#{channel['id']}>" in announced[0]["text"]
    assert [e.event_type for e in entries(sb)] == ["opened"]


def test_numbers_count_up_and_taken_names_get_a_suffix(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.fake.add_channel("inc-1-db-down")
    start(sb, "DB down")
    sb.fake.reset_calls()
    start(sb, "sev1 DB down")
    names = sorted(c["name"] for c in sb.fake.channels.values() if c["name"].startswith("inc-"))
    assert names == ["inc-1-db-down", "inc-1-db-down-2", "inc-2-db-down"]
    assert [i.ref for i in stored(sb)] == ["INC-1", "INC-2"]


def test_channel_name_is_valid_for_long_and_non_ascii_titles(sandbox: Sandbox) -> None:
    start(sandbox, "Ünïcode façade — " + "very long title " * 7)
    name = sandbox.fake.calls_to("conversations.create")[0].args["name"]
    assert len(name) <= 80 and name.startswith("inc-1-unicode-facade-very-long")


def test_ack_is_immediate_and_empty_for_work(sandbox: Sandbox) -> None:
    reply = sandbox.sim.command("start Login failures", channel=sandbox.general)
    assert reply.status == 200 and reply.body == ""


def test_help_and_unknown_subcommand_answer_in_the_ack(sandbox: Sandbox) -> None:
    sb = sandbox
    body = sb.sim.command("help").json()
    assert body["response_type"] == "ephemeral"
    for sub in ("start", "status", "severity", "lead", "impact", "cause", "resolve",
                "reopen", "started", "ended", "list", "detection"):
        assert f"/incident {sub}" in body["text"]
    body = sb.sim.command("stauts resolved").json()
    assert "did you mean `status`" in body["text"].lower()


def test_subcommand_outside_incident_channel_explains(sandbox: Sandbox) -> None:
    sb = sandbox
    in_channel(sb, sb.general, "status resolved")
    assert "incident's channel" in last_reply(sb) and "/incident list" in last_reply(sb)
    assert stored(sb) == []


def test_changes_update_card_and_record_events(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = start(sb)["id"]
    for text in ("status identified", "severity sev1", "lead <@U0ALICE|alice>",
                 "impact 30% of logins fail", "cause expired TLS cert", "detection pager alert",
                 "summary Logins failing"):
        in_channel(sb, channel, text)
    inc = stored(sb)[0]
    assert (inc.status, inc.severity, inc.lead_user_id) == ("identified", "sev1", "U0ALICE")
    assert (inc.impact, inc.root_cause, inc.detection) == ("30% of logins fail",
                                                            "expired TLS cert", "pager alert")
    updates = sb.fake.calls_to("chat.update")
    assert len(updates) == 7 and all(u.args["ts"] == inc.card_ts for u in updates)
    assert "SEV1" in str(updates[-1].args["blocks"])
    kinds = [e.event_type for e in entries(sb)]
    assert kinds == ["opened", "status", "severity", "lead", "impact", "cause", "detection",
                     "summary"]
    assert all(e.actor_user_id == "U0LEAD" for e in entries(sb))
    assert sb.fake.calls_to("conversations.invite")[-1].args["users"] == "U0ALICE"


def test_a_new_lead_already_in_the_channel_is_the_usual_case(sandbox: Sandbox) -> None:
    """conversations.invite answers already_in_channel for a member: that is success."""
    sb = sandbox
    channel = start(sb)["id"]
    in_channel(sb, channel, "lead <@U0ALICE|alice>")  # alice is invited
    updates = len(sb.fake.calls_to("chat.update"))
    n = len(sb.fake.responses)
    in_channel(sb, channel, "lead <@U0LEAD|lee>", user="U0ALICE")  # lee is in it already
    assert sb.fake.wait_for(lambda: len(sb.fake.calls_to("chat.update")) > updates)
    assert stored(sb)[0].lead_user_id == "U0LEAD"
    assert "<@U0LEAD>" in str(sb.fake.calls_to("chat.update")[-1].args["blocks"])
    assert [(r["text"], r["response_type"]) for r in sb.fake.responses[n:]] == [
        ("<@U0ALICE>: Lead changed to <@U0LEAD>.", "in_channel")]  # no "Slack refused that"
    invites = sb.fake.calls_to("conversations.invite")
    assert invites[-1].args["users"] == "U0LEAD"  # asked, refused as already_in_channel
    assert sb.fake.members(channel).count("U0LEAD") == 1


def test_a_lead_slack_will_not_invite_is_still_recorded_and_said(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = start(sb)["id"]
    sb.fake.fail("conversations.invite", "user_is_restricted", times=1)
    in_channel(sb, channel, "lead <@U0ALICE|alice>")
    assert sb.fake.wait_for(lambda: ":warning:" in last_reply(sb))
    assert "(`user_is_restricted`); please invite them yourself" in last_reply(sb)
    assert stored(sb)[0].lead_user_id == "U0ALICE"
    assert "<@U0ALICE>" in str(sb.fake.calls_to("chat.update")[-1].args["blocks"])


def test_resolve_records_end_and_reopen_clears_it(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = start(sb)["id"]
    sb.deps.clock.advance(minutes=90)  # type: ignore[attr-defined]
    in_channel(sb, channel, "resolve rolled back the deploy")
    inc = stored(sb)[0]
    assert inc.status == "resolved" and inc.resolution == "rolled back the deploy"
    assert inc.ended_at - inc.started_at == __import__("datetime").timedelta(minutes=90)
    assert "1h 30m" in str(sb.fake.calls_to("chat.update")[-1].args["blocks"])
    in_channel(sb, channel, "reopen")
    inc = stored(sb)[0]
    assert inc.status == "investigating" and inc.ended_at is None
    in_channel(sb, channel, "reopen")
    assert "still open" in last_reply(sb)


def test_started_and_ended_backdate_in_incident_timezone(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = start(sb)["id"]
    in_channel(sb, channel, "started 2024-05-03 10:00")
    in_channel(sb, channel, "ended 2024-05-03 11:15")
    inc = stored(sb)[0]
    assert inc.started_at.isoformat() == "2024-05-03T10:00:00+00:00"
    assert inc.ended_at.isoformat() == "2024-05-03T11:15:00+00:00"
    in_channel(sb, channel, "resolve")
    assert stored(sb)[0].ended_at.isoformat() == "2024-05-03T11:15:00+00:00"
    in_channel(sb, channel, "ended 2024-05-03 09:00")
    assert "after the start" in last_reply(sb)
    in_channel(sb, channel, "started yesterday-ish")
    assert "couldn't read" in last_reply(sb)


def test_bad_input_gets_friendly_messages_and_changes_nothing(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = start(sb)["id"]
    before = len(entries(sb))
    for text, expected in [("status exploded", "not a status"), ("severity sev9", "not a severity"),
                           ("lead alice", "Mention the new lead"), ("impact", "Say what"),
                           ("started", "Usage")]:
        in_channel(sb, channel, text)
        assert expected in last_reply(sb), (text, last_reply(sb))
        assert "Traceback" not in last_reply(sb)
    assert len(entries(sb)) == before


def test_broadcasts_in_user_text_stay_inert(sandbox: Sandbox) -> None:
    sb = sandbox
    start(sb, "<!channel> everything is down <!subteam^S1|@oncall>")
    inc = stored(sb)[0]
    assert inc.title == "<!channel> everything is down <!subteam^S1|@oncall>"  # as typed
    for call in sb.fake.calls:
        assert "<!channel>" not in str(call.args) and "<!subteam" not in str(call.args)
    assert "@channel everything is down @oncall" in str(sb.fake.calls_to("chat.postMessage"))


def test_list_shows_open_incidents(sandbox: Sandbox) -> None:
    sb = sandbox
    start(sb, "First")
    start(sb, "sev1 Second")
    in_channel(sb, sb.general, "list")
    assert "2 open incidents" in last_reply(sb)
    assert last_reply(sb).index("INC-2") < last_reply(sb).index("INC-1")


def test_start_without_title_opens_modal_and_submission_opens_incident(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.sim.command("start", channel=sb.general)
    opened = sb.fake.wait_for_calls("views.open")[0]
    view = opened.args["view"]
    assert view["callback_id"] == "incident_start"
    bad = sb.sim.view_submission(view, {"title": {"value": {"type": "plain_text_input",
                                                            "value": "   "}}})
    assert bad.json()["response_action"] == "errors"
    ok = sb.sim.view_submission(view, {
        "title": {"value": {"type": "plain_text_input", "value": "Checkout <!here> slow"}},
        "severity": {"value": {"type": "static_select",
                               "selected_option": {"value": "sev1"}}},
        "description": {"value": {"type": "plain_text_input", "value": "p99 at 4s"}},
    })
    assert ok.status == 200
    sb.fake.wait_for_calls("pins.add")
    inc = stored(sb)[0]
    assert (inc.severity, inc.summary) == ("sev1", "p99 at 4s")
    assert "<!here>" not in str([c.args for c in sb.fake.calls])


@pytest.mark.parametrize("configured", ["#incidents", "incidents"])
def test_announce_channel_given_by_name_is_joined_by_id(
        transport: str, database_url: str, clock,  # type: ignore[no-untyped-def]
        configured: str) -> None:
    """conversations.join takes an id: the name is looked up once (conversations.list)."""
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 announce_channel=configured) as sb:
        sb.fake.page_cap = 40  # Slack may serve fewer than asked: the channel is on page 4
        for n in range(150):
            sb.fake.add_channel(f"team-{n:03d}")
        cid = sb.fake.add_channel("incidents", members=["U0LEAD"])  # Sitrep is not in it
        for number, title in ((1, "Payments down"), (2, "Search slow")):
            sb.sim.command(f"start {title}", channel=sb.general)
            assert sb.fake.wait_for(lambda n=number: len(_texts(sb, cid)) == n)
            assert f"INC-{number}" in _texts(sb, cid)[-1]
        assert [c.args["channel"] for c in sb.fake.calls_to("conversations.join")] == [cid]
        assert all(c.args["channel"].startswith(("C", "D"))  # ids only, never a name
                   for c in sb.fake.calls_to("chat.postMessage"))
        lists = sb.fake.calls_to("conversations.list")  # paged, and looked up only once
        assert len(lists) == 4 and all(c.args.get("cursor") for c in lists[1:])


def test_an_unknown_announce_channel_is_logged_and_the_start_goes_on(
        transport: str, database_url: str, clock,  # type: ignore[no-untyped-def]
        caplog: pytest.LogCaptureFixture) -> None:
    with Sandbox(database_url, clock=clock, migrate=False, transport=transport,
                 announce_channel="#nowhere") as sb:
        channel = start(sb, "Payments down")
        assert sb.fake.calls_to("conversations.join") == []
        assert channel["name"] == "inc-1-payments-down"
    assert "#nowhere was not found" in caplog.text


def _texts(sb: Sandbox, channel: str) -> list[str]:
    return [m.get("text", "") for m in sb.fake.messages(channel)]


def test_rate_limited_channel_creation_is_retried_once_after_retry_after(
        sandbox: Sandbox) -> None:
    sb = sandbox
    sb.fake.fail("conversations.create", "ratelimited", times=1, retry_after=1)
    channel = start(sb, "Rate limited")
    creates = sb.fake.calls_to("conversations.create")
    assert len(creates) == 2 and creates[1].at - creates[0].at >= 1.0
    assert channel["name"] == "inc-1-rate-limited"
    assert len([c for c in sb.fake.channels.values() if c["name"].startswith("inc-")]) == 1


def test_slack_refusing_the_channel_keeps_the_incident_and_says_so(sandbox: Sandbox) -> None:
    sb = sandbox
    sb.fake.fail("conversations.create", "restricted_action", times=1)
    sb.sim.command("start Locked down workspace", channel=sb.general)
    assert sb.fake.wait_for(lambda: any("restricted_action" in r.get("text", "")
                                        for r in sb.fake.responses))
    (incident,) = stored(sb)
    assert incident.ref == "INC-1" and incident.channel_id is None
    assert "INC-1 is recorded" in sb.fake.responses[-1]["text"]
