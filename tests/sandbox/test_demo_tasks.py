"""The demo's corrective-task act plays through and shows what it promises."""

import io

from bot.sandbox.demo import run_demo


def test_demo_shows_a_task_its_dm_a_reminder_and_the_buttons() -> None:
    out = io.StringIO()
    assert run_demo(out=out) == 0
    text = out.getvalue()
    for part in ("added *T-1* for @bob", "DM from Sitrep to @bob:",
                 "You own *T-1* from *INC-1*", "[ Done ] [ Snooze a day ] [ Snooze a week ]",
                 "pass: 1 reminder sent", "Reminder: *T-1* from *INC-1* is 4 days overdue.",
                 "more than 3 days overdue:", "Snoozed: ", "*T-1* is done. Thank you!",
                 "@bob: T-1 done", "You have no open corrective tasks."):
        assert part in text, part
    assert "Traceback" not in text
