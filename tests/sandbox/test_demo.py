"""The zero-config demo plays the whole story against the fake Slack."""

import io

from bot.sandbox.demo import run_demo


def test_demo_plays_every_act_and_ends_on_the_postmortem() -> None:
    out = io.StringIO()
    assert run_demo(out=out) == 0
    text = out.getvalue()
    assert "#inc-1-checkout-is-failing" in text
    assert "Did you mean `status`?" in text
    assert "pinned card, as it reads now" in text and "Resolved" in text
    assert "Added to the *INC-1* timeline" in text
    for heading in ("Issue Summary", "Timeline", "Root Cause and Resolution",
                    "Corrective and Preventative Measures"):
        assert heading in text
    assert text.rstrip().splitlines()[-1].startswith("Done:")
    # Impact 09:07 to 09:44, detected 09:20: the figures come from those times only.
    published = text.split("== 7. The published postmortem")[1]
    assert "- **Time to detect:** 13m\n- **Time to resolve:** 37m" in published
    story = published.split("## Timeline")[1].split("## Root Cause")[0]
    assert "- **09:07** Impact began" in story and "- **09:44** Impact ended" in story
    assert "recorded" not in story and "set to" not in story  # the audit trail stays out
    assert "*Audit trail* _(what was recorded and when; not in the postmortem)_" in text
    assert "Traceback" not in text
    assert text.count("<!channel>") == 1  # as typed; everything Sitrep posted is inert
    # The private incident: its own private channel, nothing in #general, listed to members.
    private = text.split("== 8. A private incident: #general sees nothing of it")[1]
    assert "#inc-2-suspicious-logins-on-admin-accounts is private" in private
    assert "#general: 0 new messages about it" in private
    bob, alice = private.split("@bob types: /incident list")[1].split("@alice types:")
    assert "No open incidents" in bob and "INC-2" not in bob
    assert "*INC-2* SEV1" in alice and "*Comms* @alice" in private
    # Status updates go to the channel and #general (threaded there); a nudge when overdue.
    moving = text.split("== 9. Keeping everyone informed")[1]
    assert moving.count("Status update #1") == 2 and moving.count("Status update #2") == 2
    assert "[20:45] Sitrep: :alarm_clock: @lee: No status update for 30m on *INC-3*" in moving
    assert "@alice snoozed update nudges for *INC-3* until 21:15 UTC" in moving
    assert "[21:16] Sitrep: :alarm_clock:" in moving  # held back by the snooze, then again
    assert "now reads: :white_check_mark: Update nudge answered" in moving
    assert "\n      [21:17] Sitrep: :mega: *INC-3 · Status update #2*" in moving  # threaded


def test_demo_tells_the_same_story_whatever_day_it_runs() -> None:
    """The story has its own date: the transcript names it, never today's."""
    first, second = io.StringIO(), io.StringIO()
    assert run_demo(out=first) == 0 and run_demo(out=second) == 0
    assert first.getvalue() == second.getvalue()
    assert "*Started*: 2026-03-11 09:31 UTC" in first.getvalue()
    assert "Monday 16 Mar, 09:00 in Auckland: a reminder pass" in first.getvalue()
