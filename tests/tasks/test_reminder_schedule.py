"""When reminders fall: REMINDER_CRON slots in the owner's zone, DST, windows, snoozes."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.common.cron import cron_error, next_slot
from bot.due.lease import RETRY_MAX, retry_delay
from bot.tasks.reminders import (
    Policy,
    due_at_forced_slot,
    first_reminder,
    next_reminder,
    snoozed_reminder,
)
from storage.models import Task

PARIS = ZoneInfo("Europe/Paris")
AUCKLAND = ZoneInfo("Pacific/Auckland")  # UTC+13 in the southern summer, +12 in winter
HONOLULU = ZoneInfo("Pacific/Honolulu")  # UTC-10, no DST
WEEKDAYS_9AM = "0 9 * * mon-fri"
POLICY = Policy(WEEKDAYS_9AM, lead_days=2, escalate_after_days=3)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def slots(cron: str, zone: ZoneInfo, after: dt.datetime, n: int) -> list[dt.datetime]:
    out: list[dt.datetime] = []
    for _ in range(n):
        slot = next_slot(cron, zone, after)
        assert slot is not None
        out.append(slot)
        after = slot
    return out


def test_nine_am_stays_nine_am_across_paris_dst_changes() -> None:
    # Spring: clocks go forward on Sunday 29 March 2026; Friday's 09:00 is 08:00 UTC,
    # Monday's is 07:00 UTC. The weekend has no slot.
    assert slots(WEEKDAYS_9AM, PARIS, utc(2026, 3, 26, 12), 2) == [
        utc(2026, 3, 27, 8), utc(2026, 3, 30, 7)]
    # Autumn: back on Sunday 25 October 2026.
    assert slots(WEEKDAYS_9AM, PARIS, utc(2026, 10, 22, 12), 2) == [
        utc(2026, 10, 23, 7), utc(2026, 10, 26, 8)]
    for slot in slots(WEEKDAYS_9AM, PARIS, utc(2026, 3, 20), 12):
        local = slot.astimezone(PARIS)
        assert (local.hour, local.minute) == (9, 0) and local.weekday() < 5


def test_owner_at_utc_plus_13_and_across_their_dst_end() -> None:
    # Wednesday 25 March 12:00 UTC is already Thursday 01:00 in Auckland (UTC+13).
    assert next_slot(WEEKDAYS_9AM, AUCKLAND, utc(2026, 3, 25, 12)) == utc(2026, 3, 25, 20)
    # New Zealand leaves DST on Sunday 5 April 2026: Monday's 09:00 is UTC+12.
    assert slots(WEEKDAYS_9AM, AUCKLAND, utc(2026, 4, 2, 12), 2) == [
        utc(2026, 4, 2, 20), utc(2026, 4, 5, 21)]


def test_owner_at_utc_minus_10_skips_the_weekend() -> None:
    # Friday 27 March 20:00 UTC is Friday 10:00 in Honolulu: next is Monday 09:00 HST.
    assert next_slot(WEEKDAYS_9AM, HONOLULU, utc(2026, 3, 27, 20)) == utc(2026, 3, 30, 19)
    assert next_slot(WEEKDAYS_9AM, HONOLULU, utc(2026, 3, 27, 18)) == utc(2026, 3, 27, 19)


def test_skipped_and_repeated_wall_times_fire_once() -> None:
    nightly = "30 2 * * *"
    # 02:30 does not exist on 29 March in Paris: it fires at the moved-forward 03:30 CEST.
    assert slots(nightly, PARIS, utc(2026, 3, 28, 12), 2) == [
        utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]
    # 02:30 happens twice on 25 October: once is enough.
    assert slots(nightly, PARIS, utc(2026, 10, 24, 12), 2) == [
        utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_slot_boundaries_are_exclusive_unless_asked() -> None:
    slot = utc(2026, 3, 27, 8)
    assert next_slot(WEEKDAYS_9AM, PARIS, slot) == utc(2026, 3, 30, 7)
    assert next_slot(WEEKDAYS_9AM, PARIS, slot, inclusive=True) == slot
    just_before = slot - dt.timedelta(microseconds=500_000)
    assert next_slot(WEEKDAYS_9AM, PARIS, just_before) == slot
    assert next_slot("0 9 31 2 *", PARIS, slot) is None


# Wednesday 25 November 2026, 12:00 UTC (13:00 in Paris).
WED = utc(2026, 11, 25, 12)


@pytest.mark.parametrize("due, expected", [
    (dt.date(2026, 11, 27), utc(2026, 11, 26, 8)),  # due Friday: in the window already
    (dt.date(2026, 11, 25), utc(2026, 11, 26, 8)),  # due today: overdue tomorrow, still
    (dt.date(2026, 11, 20), utc(2026, 11, 26, 8)),  # overdue: every slot
    (dt.date(2026, 11, 30), utc(2026, 11, 30, 8)),  # due Monday: window opens Saturday
    (dt.date(2026, 12, 10), utc(2026, 12, 8, 8)),   # two days before
    (None, utc(2026, 11, 30, 8)),                   # undated: first slot of next week
])
def test_next_reminder_follows_the_lead_window(due: dt.date | None,
                                               expected: dt.datetime) -> None:
    assert next_reminder(due, PARIS, POLICY, WED) == expected


def test_undated_tasks_hear_at_the_first_slot_of_each_week() -> None:
    monday_before_nine = utc(2026, 11, 30, 7)
    assert next_reminder(None, PARIS, POLICY, monday_before_nine) == utc(2026, 11, 30, 8)
    assert next_reminder(None, PARIS, POLICY, utc(2026, 11, 30, 8)) == utc(2026, 12, 7, 8)
    tue_thu = Policy("0 9 * * tue,thu")
    assert next_reminder(None, PARIS, tue_thu, WED) == utc(2026, 12, 1, 8)
    # Auckland's week starts while it is still Sunday in UTC.
    assert next_reminder(None, AUCKLAND, POLICY, WED) == utc(2026, 11, 29, 20)


def test_snooze_skips_at_least_that_long() -> None:
    overdue = dt.date(2026, 11, 20)
    pressed = utc(2026, 11, 30, 8, 5)  # Monday 09:05 in Paris, on that morning's reminder
    assert snoozed_reminder(overdue, PARIS, POLICY, pressed, 1) == utc(2026, 12, 2, 8)
    assert snoozed_reminder(overdue, PARIS, POLICY, pressed, 7) == utc(2026, 12, 8, 8)
    friday = utc(2026, 12, 4, 8, 5)
    assert snoozed_reminder(overdue, PARIS, POLICY, friday, 1) == utc(2026, 12, 7, 8)
    # Pressed on Saturday 24 Oct at 08:30 CEST: a day later is 08:30 CET on Sunday, after
    # the clocks went back, not 07:30.
    saturday = utc(2026, 10, 24, 6, 30)
    assert snoozed_reminder(dt.date(2026, 10, 20), PARIS, Policy("0 8,9 * * *"), saturday,
                            1) == utc(2026, 10, 25, 8)


def test_no_reminder_within_the_hour_after_being_told() -> None:
    overdue = dt.date(2026, 11, 20)
    assert first_reminder(overdue, PARIS, POLICY, utc(2026, 11, 30, 7, 30)) == utc(2026, 12, 1, 8)
    assert first_reminder(overdue, PARIS, POLICY, utc(2026, 11, 30, 7)) == utc(2026, 11, 30, 8)
    assert first_reminder(overdue, PARIS, POLICY, utc(2026, 11, 30, 6)) == utc(2026, 11, 30, 8)


def _task(due: dt.date | None, **fields: object) -> Task:
    values = {"status": "open", "created_at": utc(2026, 11, 1), "reminders_stopped": None,
              "last_reminded_at": None, "next_reminder_at": None, **fields}
    return Task(due_date=due, **values)


def test_forced_slot_reminds_who_a_slot_now_would() -> None:
    now = utc(2026, 11, 25, 14)  # Wednesday afternoon in Paris
    nxt = utc(2026, 11, 26, 8)
    overdue = dt.date(2026, 11, 20)
    assert due_at_forced_slot(_task(overdue, next_reminder_at=nxt), PARIS, POLICY, now)
    assert due_at_forced_slot(_task(dt.date(2026, 11, 27), next_reminder_at=nxt), PARIS,
                              POLICY, now)
    assert not due_at_forced_slot(_task(dt.date(2026, 12, 10),
                                        next_reminder_at=utc(2026, 12, 8, 8)), PARIS, POLICY, now)
    # Reminded half an hour ago (a repeated run), snoozed for a week, done, stopped.
    assert not due_at_forced_slot(_task(overdue, next_reminder_at=nxt,
                                        last_reminded_at=now - dt.timedelta(minutes=30)),
                                  PARIS, POLICY, now)
    assert not due_at_forced_slot(_task(overdue, next_reminder_at=utc(2026, 12, 2, 8)), PARIS,
                                  POLICY, now)
    assert not due_at_forced_slot(_task(overdue, status="done"), PARIS, POLICY, now)
    assert not due_at_forced_slot(_task(overdue, reminders_stopped="account_inactive"), PARIS,
                                  POLICY, now)
    # Undated: once a week.
    monday = utc(2026, 11, 30, 8)
    assert due_at_forced_slot(_task(None, next_reminder_at=monday,
                                    last_reminded_at=utc(2026, 11, 16, 8)), PARIS, POLICY, now)
    assert not due_at_forced_slot(_task(None, next_reminder_at=monday,
                                        last_reminded_at=utc(2026, 11, 23, 8)), PARIS, POLICY,
                                  now)
    assert not due_at_forced_slot(_task(None, next_reminder_at=monday,
                                        created_at=utc(2026, 11, 24)), PARIS, POLICY, now)


def test_cron_errors_are_explained() -> None:
    assert cron_error("0 9 * * mon-fri") is None
    assert "five fields" in (cron_error("daily") or "")
    assert cron_error("0 25 * * *")


def test_a_refused_reminder_waits_twice_as_long_each_time_up_to_a_day() -> None:
    minutes = [retry_delay(n) / dt.timedelta(minutes=1) for n in range(1, 14)]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1440, 1440]
    assert retry_delay(0) == retry_delay(1) and retry_delay(10**6) == RETRY_MAX
    # A pass every 30 s once tried 2,880 times a day; now the first day has 11 tries.
    elapsed, tries = dt.timedelta(0), 0
    while elapsed < dt.timedelta(days=1):
        tries += 1
        elapsed += retry_delay(tries)
    assert tries == 11
