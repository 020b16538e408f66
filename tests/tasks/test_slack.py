"""Corrective tasks end to end: /incident task … through Bolt, DMs and buttons via the fake."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from bot.sandbox.sandbox import Sandbox
from storage.models import Improvement, Task, TimelineEntry
from tests.incidents.test_slack import in_channel, last_reply, start

# Wednesday 25 November 2026, 12:00 UTC: Thursday 01:00 for bob in Auckland (UTC+13),
# Wednesday 02:00 for cara in Honolulu (UTC-10), 13:00 for lee in Paris.
WED = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


def setup(sb: Sandbox) -> str:
    sb.deps.clock.set(WED)  # type: ignore[attr-defined]
    return start(sb, "sev2 Checkout failing")["id"]


def stored_tasks(sb: Sandbox) -> list[Task]:
    with sb.db.session() as s:
        return list(s.scalars(select(Task).order_by(Task.number)))


def events(sb: Sandbox) -> list[str | None]:
    with sb.db.session() as s:
        return [e.event_type for e in s.scalars(select(TimelineEntry).order_by(TimelineEntry.id))]


def dm_messages(sb: Sandbox, user: str) -> list[dict[str, Any]]:
    channel = sb.fake.dm_channel_id(user)
    return sb.fake.messages(channel) if channel else []


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    for block in message.get("blocks", []):
        if block["type"] == "actions":
            return {e["action_id"]: {**e, "block_id": block["block_id"]}
                    for e in block["elements"]}
    return {}


def press(sb: Sandbox, user: str, message: dict[str, Any], action_id: str, *,
          reply: bool = False) -> None:
    """``user`` presses a button of their DM; waits for the DM update (or a reply to them)."""
    updates = len(sb.fake.calls_to("chat.update"))
    responses = len(sb.fake.responses)
    answer = sb.sim.block_action(buttons(message)[action_id], user=user,
                                 channel=sb.fake.dm_channel_id(user) or "", message=message)
    assert answer.status == 200 and answer.body == ""
    if reply:
        assert sb.fake.wait_for(lambda: len(sb.fake.responses) > responses), "no reply"
    else:
        assert sb.fake.wait_for(lambda: len(sb.fake.calls_to("chat.update")) > updates), \
            "the DM was not updated"


def test_task_tells_the_owner_the_channel_and_the_timeline(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = setup(sb)
    in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage <!channel> due friday")
    said = last_reply(sb)
    assert said.startswith("<@U0LEAD> added *T-1* for <@U0BOB>: Alert on pool usage @channel")
    assert "due Fri 27 Nov 2026" in said  # Friday in Auckland, where it is already Thursday
    (task,) = stored_tasks(sb)
    assert (task.owner_user_id, task.due_date, task.status) == ("U0BOB", dt.date(2026, 11, 27),
                                                                "open")
    assert task.next_reminder_at == dt.datetime(2026, 11, 25, 20, tzinfo=dt.UTC)  # Thu 09:00
    assert sb.fake.calls_to("conversations.open")[0].args["users"] == "U0BOB"
    (dm,) = dm_messages(sb, "U0BOB")
    assert (task.dm_channel_id, task.dm_ts) == (sb.fake.dm_channel_id("U0BOB"), dm["ts"])
    body = str(dm["blocks"])
    for part in ("You own *T-1* from *INC-1*", "added by <@U0LEAD>", "Fri 27 Nov 2026 (tomorrow)",
                 "INC-1: Checkout failing", "First reminder: 2026-11-26 09:00 NZDT"):
        assert part in body, part
    assert set(buttons(dm)) == {"task_done", "task_snooze_day", "task_snooze_week"}
    assert buttons(dm)["task_done"]["value"] == str(task.id)
    assert "<!channel>" not in str(sb.fake.calls)
    assert events(sb) == ["opened", "task_added"]


def test_due_dates_are_read_in_the_owners_time_zone(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = setup(sb)
    for who in ("<@U0BOB|bob>", "<@U0CARA|cara>", "me"):
        in_channel(sb, channel, f"task {who} Fix it due tomorrow")
    assert [(t.owner_user_id, t.due_date.isoformat()) for t in stored_tasks(sb)] == [
        ("U0BOB", "2026-11-27"), ("U0CARA", "2026-11-26"), ("U0LEAD", "2026-11-26")]


def test_improvements_and_the_task_list(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = setup(sb)
    in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage due 2026-11-20".replace(
        "2026-11-20", "2026-12-01"))
    in_channel(sb, channel, "task <@U0CARA|cara> Write the runbook")
    in_channel(sb, channel, "improvement Run a game day every quarter")
    assert last_reply(sb) == ("<@U0LEAD> recorded an improvement: Run a game day every "
                              "quarter")
    in_channel(sb, channel, "done T-2")
    in_channel(sb, channel, "tasks")
    listing = last_reply(sb)
    assert listing.splitlines() == [
        "*Corrective tasks of INC-1* (1 open of 2):",
        "• *T-1* Alert on pool usage — <@U0BOB> · due Tue 1 Dec 2026 (in 5 days)",
        "• :white_check_mark: ~*T-2* Write the runbook~ — <@U0CARA> · done",
        "*Improvements* (1):",
        "• Run a game day every quarter — <@U0LEAD>",
    ]
    assert sb.fake.responses[-1]["response_type"] == "ephemeral"
    with sb.db.session() as s:
        assert [i.text for i in s.scalars(select(Improvement))] == [
            "Run a game day every quarter"]


def test_bad_input_is_explained_and_changes_nothing(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = setup(sb)
    in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage")
    sb.fake.add_user("U0GONE", "gone", deleted=True)
    before = (len(stored_tasks(sb)), events(sb))
    for text, expected in [
        ("task bob Fix it", "Start with the task's owner"),
        ("task <@U0BOB|bob>", "Say what the task is"),
        ("task <@U0BOB|bob> Fix it due fridya", "couldn't read `fridya` as a due date"),
        ("task <@U0BOB|bob> Fix it due 2020-01-01", "in the past"),
        ("task <@U0GONE|gone> Fix it", "no longer in this workspace"),
        ("done T-99", "There is no task T-99"),
        ("done INC-1", "tasks look like `T-7`"),
        ("done", "Usage: `/incident done T-<n>`"),
        ("due T-1 someday", "couldn't read `someday`"),
        ("due T-1", "Say when T-1 is due"),
        ("reassign T-1 bob", "Mention the new owner"),
        ("reassign T-1 <@U0BOB|bob>", "already owns T-1"),
        ("drop T-1", "Say why T-1 is dropped"),
        ("improvement", "Say what the improvement is"),
    ]:
        in_channel(sb, channel, text)
        assert expected in last_reply(sb), (text, last_reply(sb))
        assert sb.fake.responses[-1]["response_type"] == "ephemeral"
    in_channel(sb, sb.general, "task <@U0BOB|bob> Fix it")
    assert "incident's channel" in last_reply(sb)
    assert (len(stored_tasks(sb)), events(sb)) == before
    assert not any("Traceback" in r.get("text", "") for r in sb.fake.responses)


def test_done_reassign_due_and_drop_work_from_anywhere(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = setup(sb)
    for text in ("task <@U0BOB|bob> Alert on pool usage due friday",
                 "task <@U0BOB|bob> Write the runbook", "task <@U0ALICE|alice> Load test"):
        in_channel(sb, channel, text)
    posted = len(sb.fake.messages(channel))
    in_channel(sb, sb.general, "done T-1")
    assert last_reply(sb) == (f"OK: T-1 done: Alert on pool usage. (I've told <#{channel}>.)")
    assert sb.fake.messages(channel)[posted]["text"] == "<@U0LEAD>: T-1 done: Alert on pool usage."
    first_dm = dm_messages(sb, "U0BOB")[0]
    assert "*T-1* is done" in str(first_dm["blocks"]) and not buttons(first_dm)
    in_channel(sb, sb.general, "reassign T-2 <@U0CARA|cara>")
    (cara_dm,) = dm_messages(sb, "U0CARA")
    assert "You own *T-2* from *INC-1*" in str(cara_dm["blocks"])
    bob_dm = dm_messages(sb, "U0BOB")[1]
    assert "*T-2* now belongs to <@U0CARA>" in str(bob_dm["blocks"]) and not buttons(bob_dm)
    in_channel(sb, sb.general, "due T-3 next week")
    in_channel(sb, sb.general, "drop T-2 covered by T-1")
    in_channel(sb, sb.general, "done T-1")
    assert last_reply(sb) == "T-1 is already done."
    t1, t2, t3 = stored_tasks(sb)
    assert (t1.status, t1.completed_at) == ("done", WED)
    assert (t2.owner_user_id, t2.status, t2.drop_reason) == ("U0CARA", "dropped",
                                                             "covered by T-1")
    assert t3.due_date == dt.date(2026, 11, 30)  # next Monday, in New York
    assert events(sb)[-4:] == ["task_done", "task_reassigned", "task_due", "task_dropped"]
    texts = [m["text"] for m in sb.fake.messages(channel)[posted:]]
    assert texts[1:] == ["<@U0LEAD>: T-2 reassigned from <@U0BOB> to <@U0CARA>.",
                         "<@U0LEAD>: T-3 now due Mon 30 Nov 2026.",
                         "<@U0LEAD>: T-2 dropped: covered by T-1."]


def test_mytasks_lists_my_open_tasks_across_incidents(sandbox: Sandbox) -> None:
    sb = sandbox
    first = setup(sb)
    second = start(sb, "Search is slow")["id"]
    in_channel(sb, first, "task <@U0BOB|bob> Undated thing")
    in_channel(sb, second, "task <@U0BOB|bob> Later thing due 2026-12-20")
    in_channel(sb, first, "task <@U0BOB|bob> Soon thing due tomorrow")
    in_channel(sb, first, "task <@U0BOB|bob> Finished thing")
    in_channel(sb, first, "task <@U0ALICE|alice> Not mine")
    in_channel(sb, first, "done T-4")
    in_channel(sb, sb.general, "mytasks", user="U0BOB")
    lines = last_reply(sb).splitlines()
    assert lines[0] == "*Your open tasks* (3):"
    assert [line.split("*")[1] for line in lines[1:4]] == ["T-3", "T-2", "T-1"]
    assert f"INC-2 <#{second}>" in lines[2] and "(tomorrow)" in lines[1]
    in_channel(sb, sb.general, "mytasks", user="U0CARA")
    assert "no open corrective tasks" in last_reply(sb)


def test_dm_buttons_update_the_task_and_the_dm_in_place(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = setup(sb)
    in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage due friday")
    (dm,) = dm_messages(sb, "U0BOB")
    sb.deps.clock.set(dt.datetime(2026, 11, 25, 20, 5, tzinfo=dt.UTC))  # type: ignore[attr-defined]
    press(sb, "U0BOB", dm, "task_snooze_day")  # Thursday 09:05 in Auckland
    update = sb.fake.calls_to("chat.update")[-1]
    assert (update.args["channel"], update.args["ts"]) == (sb.fake.dm_channel_id("U0BOB"),
                                                          dm["ts"])
    # A day from Thursday 09:05 is past Friday's 09:00 slot; the weekend has none.
    assert "Snoozed: 2026-11-30 09:00 NZDT (your time)" in str(update.args["blocks"])
    (task,) = stored_tasks(sb)
    assert task.next_reminder_at == dt.datetime(2026, 11, 29, 20, tzinfo=dt.UTC)
    press(sb, "U0BOB", dm, "task_snooze_week")
    assert stored_tasks(sb)[0].next_reminder_at == dt.datetime(2026, 12, 3, 20, tzinfo=dt.UTC)
    press(sb, "U0BOB", dm, "task_done")
    update = sb.fake.calls_to("chat.update")[-1]
    assert update.args["ts"] == dm["ts"] and "*T-1* is done. Thank you!" in str(
        update.args["blocks"])
    assert not buttons(sb.fake.messages(sb.fake.dm_channel_id("U0BOB") or "")[0])
    task = stored_tasks(sb)[0]
    assert (task.status, task.next_reminder_at) == ("done", None)
    assert sb.fake.messages(channel)[-1]["text"] == "<@U0BOB>: T-1 done: Alert on pool usage."
    assert events(sb) == ["opened", "task_added", "task_done"]


def test_an_owner_sitrep_cannot_dm_is_reported_at_once(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = setup(sb)
    sb.fake.fail("conversations.open", "user_not_found")
    in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage")
    sb.fake.wait_for(lambda: any("can't reach" in r.get("text", "") for r in sb.fake.responses))
    warning = next(r for r in sb.fake.responses if "can't reach" in r.get("text", ""))
    assert warning["response_type"] == "ephemeral" and "`user_not_found`" in warning["text"]
    assert stored_tasks(sb)[0].reminders_stopped == "user_not_found"
    in_channel(sb, channel, "reassign T-1 <@U0ALICE|alice>")
    task = stored_tasks(sb)[0]
    assert task.reminders_stopped is None and task.owner_user_id == "U0ALICE"
    assert dm_messages(sb, "U0ALICE")


def test_buttons_on_a_dm_about_a_task_that_moved_on(sandbox: Sandbox) -> None:
    sb = sandbox
    channel = setup(sb)
    in_channel(sb, channel, "task <@U0BOB|bob> Alert on pool usage")
    (dm,) = dm_messages(sb, "U0BOB")
    in_channel(sb, channel, "reassign T-1 <@U0ALICE|alice>")
    press(sb, "U0BOB", dm, "task_done", reply=True)
    assert "T-1 now belongs to <@U0ALICE>" in sb.fake.responses[-1]["text"]
    assert sb.fake.responses[-1]["response_type"] == "ephemeral"
    assert stored_tasks(sb)[0].status == "open"
    (alice_dm,) = dm_messages(sb, "U0ALICE")
    in_channel(sb, channel, "done T-1")
    press(sb, "U0ALICE", alice_dm, "task_snooze_day", reply=True)  # on a DM not yet redrawn
    assert "T-1 is already done" in sb.fake.responses[-1]["text"]
    assert sb.fake.wait_for(lambda: "is done" in str(
        sb.fake.messages(sb.fake.dm_channel_id("U0ALICE") or "")[0]["blocks"]))
    assert events(sb) == ["opened", "task_added", "task_reassigned", "task_done"]
