"""``/incident start`` with no title, typed where the bot cannot post (issue 11, item 7).

In a private channel or a DM the bot is not in, the Web API answers ``channel_not_found``;
the command's response URL still works there (for 30 minutes, five times). The start form
keeps it, so the person hears back where they typed, or by DM once it has expired.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.sandbox import Sandbox
from tests.incidents.test_slack import stored

FORM = {
    "title": {"value": {"type": "plain_text_input", "value": "Checkout & payments down"}},
    "severity": {"value": {"type": "static_select", "selected_option": {"value": "sev1"}}},
}


def submit_form(sb: Sandbox, channel: str, *, minutes_later: int = 0) -> dict[str, Any]:
    """Type ``/incident start`` in ``channel`` as lee, fill in the form, submit it."""
    assert sb.sim.command("start", channel=channel).status == 200
    view = sb.fake.wait_for_calls("views.open")[-1].args["view"]
    sb.deps.clock.advance(minutes=minutes_later)  # type: ignore[attr-defined]
    reply = sb.sim.view_submission(view, FORM)
    assert reply.status == 200 and reply.body == ""
    sb.fake.wait_for_calls("pins.add")
    return view


@pytest.mark.parametrize("where", ["private channel", "DM"])
def test_the_person_hears_back_where_the_bot_cannot_post(sandbox: Sandbox, where: str) -> None:
    sb = sandbox
    if where == "DM":
        channel = sb.fake.add_dm("U0LEAD", "U0ALICE")
    else:
        channel = sb.fake.add_channel("payments-oncall", members=["U0LEAD", "U0ALICE"],
                                      is_private=True)
    submit_form(sb, channel)
    (incident,) = stored(sb)
    assert incident.title == "Checkout & payments down" and incident.severity == "sev1"
    assert sb.fake.wait_for(lambda: sb.fake.messages(channel)), "nothing said where typed"
    (said,) = sb.fake.messages(channel)
    assert said["text"].startswith(":rotating_light: *INC-1* (SEV1) opened by <@U0LEAD>: "
                                   "Checkout &amp; payments down — join <#")
    assert sb.fake.refused_responses == []
    # The Web API was never asked to post where the bot is not (it would refuse).
    assert all(c.args.get("channel") != channel for c in sb.fake.calls)


def test_an_expired_response_url_falls_back_to_a_dm(sandbox: Sandbox) -> None:
    sb = sandbox
    secret = sb.fake.add_channel("secret", members=["U0LEAD"], is_private=True)
    submit_form(sb, secret, minutes_later=31)  # Slack's response URLs last 30 minutes
    assert stored(sb)[0].channel_id
    # The DM is opened after the ack, in the work that follows it: wait for it to exist.
    assert sb.fake.wait_for(lambda: sb.fake.dm_channel_id("U0LEAD") is not None)
    dm = sb.fake.dm_channel_id("U0LEAD")
    assert dm and sb.fake.wait_for(lambda: sb.fake.messages(dm))
    assert "*INC-1* (SEV1) opened by <@U0LEAD>" in sb.fake.messages(dm)[0]["text"]
    assert sb.fake.messages(secret) == []


def test_a_form_opened_before_the_upgrade_still_starts_the_incident(sandbox: Sandbox) -> None:
    sb = sandbox
    assert sb.sim.command("start", channel=sb.general).status == 200
    view = sb.fake.wait_for_calls("views.open")[-1].args["view"]
    view = {**view, "private_metadata": sb.general}  # the old metadata: a bare channel id
    assert sb.sim.view_submission(view, FORM).status == 200
    sb.fake.wait_for_calls("pins.add")
    assert stored(sb)[0].origin_channel_id == sb.general
