"""Crontab lines read in a person's own time zone: validation and the next slot, DST-safe.

Reminder slots (``REMINDER_CRON``) are wall-clock times in each owner's zone; settings
validate such lines at start-up, so this lives below both.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger


def cron_error(cron: str) -> str | None:
    """Why ``cron`` is not a usable five-field crontab line, or None if it is."""
    if len(cron.split()) != 5:
        return "it needs five fields (minute hour day month weekday)"
    try:
        CronTrigger.from_crontab(cron, timezone=dt.UTC)
    except ValueError as exc:
        return str(exc)
    return None


@functools.lru_cache(maxsize=512)
def _trigger(cron: str, zone: ZoneInfo) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=zone)


def _repeated(local: dt.datetime) -> bool:
    """True for the second occurrence of a wall time that a DST change repeats."""
    return bool(local.fold) and local.replace(fold=0).utcoffset() != local.utcoffset()


def next_slot(cron: str, zone: ZoneInfo, after: dt.datetime, *,
              inclusive: bool = False) -> dt.datetime | None:
    """The first ``cron`` slot in ``zone`` after ``after`` (or at it, if ``inclusive``), in UTC.

    None if the expression never fires again (``0 9 31 2 *``).
    """
    start = after if inclusive else after.replace(microsecond=0) + dt.timedelta(seconds=1)
    trigger = _trigger(cron, zone)
    for _ in range(8):
        slot = trigger.get_next_fire_time(None, start)
        if slot is None:
            return None
        utc = slot.astimezone(dt.UTC)
        if not _repeated(utc.astimezone(zone)):
            return utc
        start = utc + dt.timedelta(seconds=1)
    return None
