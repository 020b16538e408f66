"""The JSON API's rules: who may call it, what a request asks, what the answer says. Pure.

The Flask shell (``bot.web.api``) hands in the request's ``Authorization`` header and query
parameters and sends back what these functions return; they read storage through
``storage.api`` and never touch Flask.

An API token is not a person, so it is a member of no Slack channel: by the one privacy rule
(``bot.incidents.access.may_see``) it sees public incidents only. A private incident is
answered exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.incidents.access import LEAD, may_see
from bot.incidents.rules import OPEN_STATUSES, SEVERITIES, STATUSES
from storage import api as repo
from storage.db import Database
from storage.models import Incident

#: Incidents per page: ``limit`` defaults to this, and may be at most ``MAX_LIMIT``.
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
#: ``status`` may also be ``open``: any status but resolved.
STATUS_FILTERS = (*STATUSES, "open")
MAX_QUERY = 200
#: Query parameters each endpoint takes; any other is refused (a typo must not silently
#: widen an export).
LIST_PARAMETERS = frozenset({"limit", "cursor", "status", "severity", "started_after",
                             "started_before", "q", "team"})
DETAIL_PARAMETERS = frozenset({"team"})
#: Patterns the OpenAPI document declares too (``bot.web.api_schema``).
REF_PATTERN = r"^INC-[1-9][0-9]{0,9}$"
CURSOR_PATTERN = r"^[1-9][0-9]{0,17}$"
TEAM_PATTERN = r"^[A-Za-z0-9]{1,32}$"
#: The principal the privacy rule is asked about: nobody, member of no channel.
NOBODY = ""


class ApiError(Exception):
    """An answer other than 200: ``status``, a stable ``error`` code and a human message."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def body(self) -> dict[str, str]:
        return {"error": self.error, "message": self.message}


# --- Authentication ---------------------------------------------------------------------


def digest(token: str) -> str:
    """The SHA-256 hex digest of a token: what ``API_TOKENS`` holds."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1), or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def authorized(header: str | None, hashes: Sequence[str]) -> bool:
    """Whether the header carries a token whose digest is one of ``hashes``.

    Every digest is compared, in constant time, so the answer's timing says nothing about
    which digest, or how much of one, matched.
    """
    token = bearer_token(header)
    if token is None:
        return False
    presented = digest(token)
    found = False
    for known in hashes:
        found |= hmac.compare_digest(presented, known)
    return found


# --- Parameters -------------------------------------------------------------------------


def _one(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = args.get(name) or []
    if len(values) > 1:
        raise ApiError(400, "bad_request", f"`{name}` was given more than once.")
    if not values:
        return None
    value = values[0]
    if "\x00" in value:
        raise ApiError(400, "bad_request", f"`{name}` contains a NUL character.")
    return value


def _known(args: Mapping[str, Sequence[str]], allowed: frozenset[str]) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ApiError(400, "bad_request",
                       f"Unknown query parameter `{unknown[0][:40]}`; this endpoint takes "
                       f"{', '.join(f'`{a}`' for a in sorted(allowed))}.")


def _team(args: Mapping[str, Sequence[str]]) -> str | None:
    team = _one(args, "team")
    if team is not None and not re.fullmatch(TEAM_PATTERN, team):
        raise ApiError(400, "bad_request", "`team` must be a Slack workspace id like T0123ABC.")
    return team


def parse_time(name: str, raw: str) -> dt.datetime:
    """An RFC 3339 date-time with its offset (``2024-05-03T21:00:00Z``), in UTC.

    A leap second (``:60``) counts as the second before it; a time beyond the calendar's
    ends in UTC is pinned to the end (it still filters as the person meant).
    """
    text = raw.strip().upper()
    text = re.sub(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d):60", r"\1:59", text)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or "T" not in text or value.tzinfo is None:
        raise ApiError(400, "bad_request",
                       f"`{name}` must be a date and time with its offset, like "
                       "2024-05-03T21:00:00Z.")
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        end = dt.datetime.min if value.year == 1 else dt.datetime.max
        return end.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class ListRequest:
    query: repo.IncidentQuery
    limit: int


def parse_list(args: Mapping[str, Sequence[str]]) -> ListRequest:
    """``GET /api/v1/incidents``'s query parameters (``ApiError`` 400 when one is wrong)."""
    _known(args, LIST_PARAMETERS)
    limit = DEFAULT_LIMIT
    raw = _one(args, "limit")
    if raw is not None:
        if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
            raise ApiError(400, "bad_request",
                           f"`limit` must be a whole number from 1 to {MAX_LIMIT}.")
        limit = int(raw)
    before_id = None
    raw = _one(args, "cursor")
    if raw is not None:
        if not re.fullmatch(CURSOR_PATTERN, raw):
            raise ApiError(400, "bad_request",
                           "`cursor` must be the `next_cursor` of the previous page.")
        before_id = int(raw)
    status = _one(args, "status")
    statuses: tuple[str, ...] | None = None
    if status is not None:
        if status not in STATUS_FILTERS:
            raise ApiError(400, "bad_request",
                           f"`status` must be one of {', '.join(STATUS_FILTERS)}.")
        statuses = tuple(OPEN_STATUSES) if status == "open" else (status,)
    severity = _one(args, "severity")
    if severity is not None and severity not in SEVERITIES:
        raise ApiError(400, "bad_request", f"`severity` must be one of {', '.join(SEVERITIES)}.")
    after = _one(args, "started_after")
    before = _one(args, "started_before")
    text = _one(args, "q")
    if text is not None and len(text) > MAX_QUERY:
        raise ApiError(400, "bad_request", f"`q` may be at most {MAX_QUERY} characters.")
    query = repo.IncidentQuery(
        statuses=statuses, severity=severity, team_id=_team(args),
        started_after=parse_time("started_after", after) if after is not None else None,
        started_before=parse_time("started_before", before) if before is not None else None,
        text=text.strip() or None if text is not None else None, before_id=before_id,
    )
    return ListRequest(query, limit)


def parse_ref(ref: str) -> int:
    """The number of ``INC-42`` (``ApiError`` 400 for anything else)."""
    if not re.fullmatch(REF_PATTERN, ref):
        raise ApiError(400, "bad_request", "An incident is named like INC-42.")
    return int(ref[4:])


# --- Answers ----------------------------------------------------------------------------


def when(value: dt.datetime | None) -> str | None:
    """UTC ISO 8601 with a ``Z``: ``2024-05-03T21:00:00Z`` (fractions of a second kept)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def person(user_id: str | None, names: Mapping[str, str],
           name: str | None = None) -> dict[str, str | None] | None:
    """``{"id", "name"}`` of a Slack user (or of a bot, known by name only), or None."""
    if not user_id and not name:
        return None
    return {"id": user_id or None, "name": names.get(user_id or "") or name or None}


def incident_people(incident: Incident) -> set[str]:
    people = {incident.lead_user_id or "", incident.created_by or ""}
    people.update(str(u) for u in (incident.roles or {}).values() if u)
    return people


def incident_json(incident: Incident, names: Mapping[str, str],
                  base_url: str | None) -> dict[str, Any]:
    """An incident's public fields (never ``is_private``: private ones are never answered)."""
    roles = {role: person(str(user), names) for role, user in (incident.roles or {}).items()
             if user and role != LEAD}
    return {
        "ref": incident.ref, "number": incident.number, "team_id": incident.team_id,
        "title": incident.title, "description": incident.description,
        "severity": incident.severity, "status": incident.status,
        "lead": person(incident.lead_user_id, names), "roles": roles,
        "created_by": person(incident.created_by, names),
        "created_at": when(incident.created_at), "started_at": when(incident.started_at),
        "detected_at": when(incident.detected_at), "ended_at": when(incident.ended_at),
        "updated_at": when(incident.updated_at),
        "summary": incident.summary, "impact": incident.impact,
        "root_cause": incident.root_cause, "resolution": incident.resolution,
        "detection": incident.detection, "escalation": incident.escalation,
        "misleading": incident.misleading,
        "channel_id": incident.channel_id, "channel_name": incident.channel_name,
        "url": f"{base_url}/incidents/{incident.ref}" if base_url else None,
    }


def _visible(incidents: Iterable[Incident]) -> list[Incident]:
    """The privacy rule, asked for a token: public incidents only (the SQL already left
    private ones out; this keeps the API on the one rule should that ever change)."""
    return [i for i in incidents if may_see(i, NOBODY, None)]


def list_incidents(db: Database, request: ListRequest,
                   base_url: str | None = None) -> dict[str, Any]:
    """One page of incidents, newest first, and the cursor of the next (None: last page)."""
    with db.session() as s:
        found = repo.incident_page(s, request.query, request.limit)
        page = _visible(found[: request.limit])
        names = repo.names(s, (u for i in page for u in incident_people(i)))
    more = len(found) > request.limit
    return {
        "incidents": [incident_json(i, names, base_url) for i in page],
        "limit": request.limit,
        "next_cursor": str(found[request.limit - 1].id) if more else None,
    }


def incident_detail(db: Database, ref: str, args: Mapping[str, Sequence[str]],
                    base_url: str | None = None) -> dict[str, Any]:
    """One incident with its timeline, tasks, improvements and published postmortem.

    ``ApiError`` 404 when there is no such public incident, 409 when the number exists in
    several workspaces and ``team`` does not say which.
    """
    _known(args, DETAIL_PARAMETERS)
    number, team = parse_ref(ref), _team(args)
    with db.session() as s:
        found = _visible(repo.public_by_number(s, number, team))
        if len(found) > 1:
            raise ApiError(409, "ambiguous",
                           f"{ref} exists in several workspaces; say which with `team` "
                           f"({', '.join(i.team_id for i in found)}).")
        if not found:
            raise ApiError(404, "not_found", f"There is no incident {ref}.")
        incident = found[0]
        record = repo.incident_record(s, incident.id)
        ids = incident_people(incident)
        for e in record.entries:
            ids.update((e.author_user_id or "", e.actor_user_id or ""))
        ids.update(t.owner_user_id for t in record.tasks)
        ids.update(i.created_by for i in record.improvements)
        ids.update(v.published_by for v in record.versions)
        names = repo.names(s, ids)
    answer = incident_json(incident, names, base_url)
    answer["timeline"] = [_entry(e, names) for e in record.entries]
    answer["tasks"] = [{
        "ref": f"T-{t.number}", "text": t.text, "owner": person(t.owner_user_id, names),
        "status": t.status, "due_date": t.due_date.isoformat() if t.due_date else None,
        "drop_reason": t.drop_reason, "created_at": when(t.created_at),
        "completed_at": when(t.completed_at),
    } for t in record.tasks]
    answer["improvements"] = [{
        "text": i.text, "created_by": person(i.created_by, names),
        "created_at": when(i.created_at),
    } for i in record.improvements]
    versions = [{
        "version": v.version, "published_by": person(v.published_by, names),
        "published_at": when(v.published_at),
        "url": (f"{base_url}/incidents/{incident.ref}/postmortem/{v.version}"
                if base_url else None),
    } for v in record.versions]
    latest = dict(versions[-1], markdown=record.latest_markdown) if versions else None
    answer["postmortem"] = {"latest": latest, "versions": versions}
    return answer


def _entry(e: Any, names: Mapping[str, str]) -> dict[str, Any]:
    """A timeline entry. ``author``: who wrote the message (a person, or a bot by name), or
    for a note or an event, who typed or did it; ``added_by``: who put it on the timeline."""
    author = (person(e.author_user_id, names, e.author_name)
              if e.kind == "message" else person(e.actor_user_id, names))
    return {
        "seq": e.seq, "time": when(e.occurred_at), "kind": e.kind, "event": e.event_type,
        "text": e.text, "author": author, "added_by": person(e.actor_user_id, names),
        "permalink": e.permalink,
    }
