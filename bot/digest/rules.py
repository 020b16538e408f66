"""What the weekly digest lists. Pure: plain values in, a ``Digest`` out.

- **Open incidents**, most severe first, then the longest open first.
- **Resolved incidents without a published postmortem**, the most recently resolved first
  (the ones still worth writing up; the list says how many more there are).
- **Overdue tasks by owner** (open, due before the owner's today in their own zone): owners
  with the most overdue task first, each owner's tasks most overdue first.

Nothing of a private incident is listed, its tasks included: whether an incident may be
spoken of in the digest's channel is ``access.may_post_in``, like every other post.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.common.cron import next_slot
from bot.common.duedates import days_overdue, local_today
from bot.incidents import access
from storage.models import Incident, Task

KIND = "digest"
#: The one row of the digest: its ``due_at`` is the next slot.
KEY = "weekly"
#: A slot missed by longer than this (nothing ran) is skipped, not posted late.
STALE_AFTER = dt.timedelta(hours=12)
SEVERITY_ORDER = {"sev1": 1, "sev2": 2, "sev3": 3, "sev4": 4}


@dataclass(frozen=True)
class OpenItem:
    incident: Incident
    age: dt.timedelta


@dataclass(frozen=True)
class UnpublishedItem:
    incident: Incident
    resolved_at: dt.datetime | None


@dataclass(frozen=True)
class OverdueTask:
    task: Task
    incident: Incident
    days: int


@dataclass(frozen=True)
class OwnerOverdue:
    owner: str
    tasks: tuple[OverdueTask, ...]


@dataclass(frozen=True)
class Digest:
    slot: dt.datetime
    open: tuple[OpenItem, ...]
    unpublished: tuple[UnpublishedItem, ...]
    overdue: tuple[OwnerOverdue, ...]

    @property
    def empty(self) -> bool:
        return not (self.open or self.unpublished or self.overdue)


def compose(slot: dt.datetime, now: dt.datetime, channel_id: str, *,
            open_incidents: Iterable[Incident],
            unpublished: Iterable[tuple[Incident, dt.datetime | None]],
            tasks: Iterable[tuple[Task, Incident]],
            zone_of: Callable[[str], ZoneInfo]) -> Digest:
    """The digest posted in ``channel_id`` for ``slot`` (``now``: ages and overdue days)."""

    def shown(incident: Incident) -> bool:
        return access.may_post_in(incident, channel_id)

    opened = sorted((OpenItem(i, max(dt.timedelta(0), now - i.created_at))
                     for i in open_incidents if shown(i)),
                    key=lambda o: (SEVERITY_ORDER.get(o.incident.severity, 9),
                                   o.incident.created_at, o.incident.number))
    waiting = sorted((UnpublishedItem(i, at) for i, at in unpublished if shown(i)),
                     key=lambda u: (-(u.resolved_at or u.incident.updated_at).timestamp(),
                                    -u.incident.number))
    by_owner: dict[str, list[OverdueTask]] = {}
    for task, incident in tasks:
        if task.status != "open" or not shown(incident):
            continue
        days = days_overdue(task.due_date, local_today(zone_of(task.owner_user_id), now))
        if days > 0:
            by_owner.setdefault(task.owner_user_id, []).append(OverdueTask(task, incident, days))
    owners = [OwnerOverdue(owner, tuple(sorted(items, key=lambda o: (-o.days, o.task.number))))
              for owner, items in by_owner.items()]
    owners.sort(key=lambda o: (-o.tasks[0].days, o.owner))
    return Digest(slot, tuple(opened), tuple(waiting), tuple(owners))


def first_slot(cron: str, zone: ZoneInfo, now: dt.datetime) -> dt.datetime | None:
    """The digest's next slot after ``now`` (``DIGEST_CRON`` in ``INCIDENT_TIMEZONE``)."""
    return next_slot(cron, zone, now)


def verdict(cron: str, zone: ZoneInfo, slot: dt.datetime | None,
            now: dt.datetime) -> dt.datetime | bool | None:
    """Whether the digest row due at ``slot`` is to be posted now (True), or the slot to
    move it to: ``slot`` is no slot of ``cron`` (``DIGEST_CRON`` changed since) or was
    missed by more than ``STALE_AFTER`` (a stale digest is skipped, not posted late)."""
    if slot is None:
        return first_slot(cron, zone, now)
    if next_slot(cron, zone, slot, inclusive=True) != slot or now - slot > STALE_AFTER:
        return first_slot(cron, zone, now)
    return True


def owners(tasks: Sequence[tuple[Task, Incident]]) -> list[str]:
    return sorted({t.owner_user_id for t, _ in tasks})
