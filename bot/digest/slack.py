"""Slack side of the weekly digest: ``DigestKind``, posted through the pump of due work.

One ``due_work`` row (kind ``digest``) holds the next ``DIGEST_CRON`` slot; ``ensure``
creates it once (an insert that does nothing on a second replica), the claim makes one pass
of one replica post it, and the post carries metadata naming its slot (``DIGEST``), so a
pass that died after Slack accepted it is found in the channel, not posted twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.digest import blocks, rules
from bot.due.outcome import Failed, Outcome, Retry, Sent, Unreachable
from bot.due.pump import DUE, Verdict
from bot.postmortem.followup import zone_named
from bot.slack.client import error_code, find_posted, is_timeout, join_and_post, reason
from bot.tasks.notify import CLOCK_SKEW, classify
from storage import due, followups
from storage.models import DueWork

log = logging.getLogger(__name__)

#: Metadata event type of a digest post (payload: its slot).
DIGEST = "sitrep_digest"


def slot_reason(slot: dt.datetime) -> dict:
    return reason(DIGEST, slot=slot.astimezone(dt.UTC).isoformat(timespec="minutes"))


class DigestKind:
    """The weekly digest as a kind of due work (``bot.due.pump.Kind``)."""

    name = rules.KIND

    def __init__(self, deps: Deps, client: WebClient) -> None:
        self.deps = deps
        self.client = client
        self.cron = deps.settings.digest_cron
        self.zone = deps.settings.timezone

    def _channel(self) -> str | None:
        configured = self.deps.settings.digest_channel
        return self.deps.channels.resolve(self.client, configured) if configured else None

    def ensure(self, session: Session, now: dt.datetime) -> None:
        if due.get(session, rules.KIND, rules.KEY) is None:
            due.ensure(session, rules.KIND, rules.KEY,
                       rules.first_slot(self.cron, self.zone, now), now=now)

    def check(self, session: Session, row: DueWork, now: dt.datetime) -> Verdict:
        found = rules.verdict(self.cron, self.zone, row.due_at, now)
        return DUE if found is True else found  # type: ignore[return-value]

    def deliver(self, row: DueWork, now: dt.datetime) -> Outcome:
        slot = row.due_at or now
        try:
            channel = self._channel()
            if channel is None:
                return Failed("channel_not_found")
            team_id = str(self.client.auth_test()["team_id"])
        except SlackApiError as exc:
            return self._refused(error_code(exc))
        except Exception as exc:
            return Retry(exc.__class__.__name__)
        with self.deps.db.session() as s:
            open_incidents = list(followups.open_incidents(s, team_id))
            unpublished = list(followups.resolved_unpublished(s, team_id))
            # A day's margin: each owner's today is decided in their own zone below.
            tasks = list(followups.overdue_candidates(s, team_id, (now + dt.timedelta(days=1))
                                                      .date()))
            zones = followups.zones(s, rules.owners(tasks))
        digest = rules.compose(slot, now, channel, open_incidents=open_incidents,
                               unpublished=unpublished, tasks=tasks,
                               zone_of=lambda user: zone_named(zones.get(user), self.zone))
        text, message = blocks.digest_message(digest, self.zone)
        try:
            resp = join_and_post(self.client, channel, text=text, blocks=message,
                                 metadata=slot_reason(slot), unfurl_links=False)
        except SlackApiError as exc:
            return self._refused(error_code(exc))
        except Exception as exc:  # a timed-out post may still land: ``find`` checks first
            return Retry(exc.__class__.__name__, uncertain=is_timeout(exc))
        return Sent(resp["channel"], resp["ts"])

    @staticmethod
    def _refused(code: str) -> Outcome:
        outcome = classify(code)
        return Failed(code) if isinstance(outcome, Unreachable) else outcome

    def find(self, row: DueWork, since: dt.datetime) -> Sent | None:
        channel = self._channel()
        if channel is None:
            return None
        found = find_posted(self.client, channel, slot_reason(row.due_at or since),
                            oldest=since.timestamp() - CLOCK_SKEW.total_seconds())
        return Sent(channel, found["ts"]) if found is not None else None

    def next_at(self, row: DueWork, now: dt.datetime) -> dt.datetime | None:
        return rules.first_slot(self.cron, self.zone, max(now, row.due_at or now))

    def superseded(self, row: DueWork, sent: Sent) -> None:
        """Nothing changes the digest's row but a pass: nothing to undo."""

