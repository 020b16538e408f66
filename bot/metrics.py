"""Every Prometheus metric Sitrep exports, defined and documented in one place.

``GET /metrics`` (on ``PORT`` for ``serve``, or on ``METRICS_PORT``) serves them in
Prometheus' text format, beside prometheus_client's own ``process_*`` and ``python_*``
metrics. The Slack shell and the wiring record them; the rules know nothing of metrics.

Label values come from small fixed sets (request kinds, HTTP statuses, Slack event types,
Web API method names, Slack error codes), never from what a person typed, and nothing from
a request whose signature failed reaches a label but its kind and status.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# One series per metric, not an extra ``*_created`` timestamp beside each counter.
disable_created_metrics()

#: Ack latencies around Slack's 3-second limit.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
#: Web API calls: tens of milliseconds, up to rate-limit waits of a few seconds.
API_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: A reminder pass: milliseconds when nothing is due, minutes for thousands of reminders.
PASS_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)

#: Interactivity payload types (``type`` of the payload).
INTERACTION_TYPES = frozenset({
    "block_actions", "block_suggestion", "view_submission", "view_closed", "shortcut",
    "message_action", "interactive_message", "dialog_submission", "dialog_cancellation",
    "dialog_suggestion", "workflow_step_edit"})
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")

# -- requests from Slack ------------------------------------------------------------------------
REQUESTS = Counter(
    "sitrep_slack_requests",
    "Requests from Slack (HTTP or Socket Mode) by kind (command, event, interaction, other) "
    "and the HTTP status of the answer (401: signature refused; 500: not processed).",
    ["kind", "status"])
ACK_SECONDS = Histogram(
    "sitrep_slack_ack_seconds",
    "Time from receiving a request from Slack to answering it (the ack), by kind. Slack "
    "allows 3 s.",
    ["kind"], buckets=ACK_BUCKETS)
EVENTS = Counter(
    "sitrep_slack_events",
    "Events API callbacks by event type and outcome: stored (kept in the inbox and answered "
    "2xx; Slack will not send it again) or refused (answered 5xx: the inbox could not keep "
    "it; Slack redelivers it).",
    ["type", "outcome"])
EVENTS_REDELIVERED = Counter(
    "sitrep_slack_events_redelivered",
    "Events that arrived as Slack's redelivery of an earlier attempt (X-Slack-Retry-Num), "
    "by event type and Slack's reason (X-Slack-Retry-Reason).",
    ["type", "reason"])

# -- the Web API --------------------------------------------------------------------------------
API_CALLS = Counter(
    "sitrep_slack_api_calls",
    "Web API calls by method and result: ok, Slack's error code, or the exception's name "
    "for a call that got no answer (after the client's own retries).",
    ["method", "error"])
API_SECONDS = Histogram(
    "sitrep_slack_api_call_seconds",
    "Web API call duration by method, retries and rate-limit waits included.",
    ["method"], buckets=API_BUCKETS)
RATE_LIMITED = Counter(
    "sitrep_slack_rate_limited",
    "ratelimited answers (HTTP 429) from the Web API, each followed by a wait and a retry, "
    "by method.",
    ["method"])
RATE_LIMIT_WAIT = Counter(
    "sitrep_slack_rate_limit_wait_seconds",
    "Seconds spent waiting for Slack's Retry-After before retrying a rate-limited call, by "
    "method.",
    ["method"])

# -- reminders ----------------------------------------------------------------------------------
REMINDERS = Counter(
    "sitrep_reminders",
    "Task reminders by outcome: sent; failed (a Slack error or no answer: still due at the "
    "next pass); unreachable (the owner is gone: their reminders stop and the lead is told); "
    "skipped (claimed, then given back unsent for the next pass: the owner was just found "
    "unreachable, or the pass ran out of time).",
    ["outcome"])
DUE_WORK = Counter(
    "sitrep_due_work",
    "Due work other than task reminders (kind: nudge, followup, digest) by outcome: sent; "
    "recovered (left unrecorded by a pass that died, found already delivered); retried "
    "(still due next pass); backed_off (refused for a reason not understood); superseded "
    "(a person's change came while it was sent: withdrawn).",
    ["kind", "outcome"])
REMINDER_PASS_SECONDS = Histogram(
    "sitrep_reminder_pass_seconds",
    "Duration of one reminder pass (its count is the number of passes).",
    buckets=PASS_BUCKETS)

# -- the database and the work after acks --------------------------------------------------------
DATABASE_UNAVAILABLE = Counter(
    "sitrep_database_unavailable_answers",
    "Answers telling a person that the database is unavailable (nothing was changed; they "
    "are asked to try again).")
WORK_QUEUED = Gauge(
    "sitrep_work_queued",
    "Work handed over after an ack (replies to commands, buttons, forms, confirmations) "
    "waiting for a free worker: the depth of the queue after acks.")
WORK_RUNNING = Gauge(
    "sitrep_work_running",
    "Work after an ack being done right now (at most the pool's 16 workers).")

# -- the inbox (events answered, applied afterwards) ----------------------------------------------
INBOX_DEPTH = Gauge(
    "sitrep_inbox_depth",
    "Events answered and kept in the local spool (SPOOL_DIR) but not yet applied to the "
    "database: waiting for the worker, for a rate-limited Slack read, or for the database.")
INBOX_APPLIED = Counter(
    "sitrep_inbox_applied",
    "Inbox entries the worker tried, by outcome: applied; database_unavailable (kept, tried "
    "again when the database is back); slack_later (a Slack read was rate-limited or failed: "
    "tried again later); error (failed for a reason of its own: tried again); failed (set "
    "aside in the spool's dead table after repeated errors).",
    ["outcome"])
INBOX_APPLY_SECONDS = Histogram(
    "sitrep_inbox_apply_seconds",
    "Time to apply one inbox entry (database work and any Slack read it needed).",
    buckets=API_BUCKETS)


def label(value: object, default: str = "other") -> str:
    """``value`` if it looks like a Slack name (``reaction_added``, ``chat.postMessage``)."""
    text = str(value or "")
    return text if _LABEL.match(text) else default


def request_kind(body: Mapping[str, Any]) -> str:
    """``command``, ``event``, ``interaction`` or ``other`` (URL verification, SSL check…)."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    if kind == "event_callback":
        return "event"
    if kind in INTERACTION_TYPES:
        return "interaction"
    return "other"


def record_request(body: Mapping[str, Any], headers: Mapping[str, Any], status: int,
                   seconds: float) -> None:
    """Count one request from Slack and how long its answer took."""
    kind = request_kind(body)
    REQUESTS.labels(kind, str(status)).inc()
    if status in (401, 403):
        return  # not from Slack: nothing in it is trusted, not even as a label
    ACK_SECONDS.labels(kind).observe(seconds)
    if kind != "event":
        return
    event = body.get("event")
    event_type = label(event.get("type") if isinstance(event, Mapping) else None)
    EVENTS.labels(event_type, "refused" if status >= 500 else "stored").inc()
    retry = _header(headers, "x-slack-retry-num")
    if retry:
        EVENTS_REDELIVERED.labels(event_type,
                                  label(_header(headers, "x-slack-retry-reason"))).inc()


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    """One header from Bolt's request headers (lower-case names, each a list of values)."""
    value = headers.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return str(value) if value else None
