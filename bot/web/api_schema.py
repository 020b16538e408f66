"""The OpenAPI 3.1 document of the JSON API, served at ``/api/v1/openapi.json``. Pure.

Written by hand, next to the rules it describes (``bot.web.api_rules``), and built from the
same constants (statuses, severities, limits, patterns), so the two cannot drift apart
silently; the tests validate it against the OpenAPI specification and fuzz the API with
schemathesis against it.
"""

from __future__ import annotations

from typing import Any

from bot.incidents.rules import SEVERITIES, STATUSES
from bot.web import api_rules as rules

TEXT = {"type": "string"}
MAYBE_TEXT = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
MAYBE_URL = {"type": ["string", "null"],
             "description": "The web view's page (null unless WEB_BASE_URL is set)."}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(properties), "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


MAYBE_PERSON = {"oneOf": [_ref("Person"), {"type": "null"}]}

INCIDENT = {
    "ref": {"type": "string", "pattern": rules.REF_PATTERN, "examples": ["INC-42"]},
    "number": {"type": "integer", "minimum": 1},
    "team_id": {**TEXT, "description": "The Slack workspace."},
    "title": TEXT,
    "description": MAYBE_TEXT,
    "severity": {"type": "string", "enum": list(SEVERITIES)},
    "status": {"type": "string", "enum": list(STATUSES)},
    "lead": MAYBE_PERSON,
    "roles": {"type": "object", "additionalProperties": _ref("Person"),
              "description": "Role name → holder, for the roles other than the lead."},
    "created_by": MAYBE_PERSON,
    "created_at": TIME,
    "started_at": {**TIME, "description": "When the impact started."},
    "detected_at": MAYBE_TIME,
    "ended_at": MAYBE_TIME,
    "updated_at": TIME,
    "summary": MAYBE_TEXT,
    "impact": MAYBE_TEXT,
    "root_cause": MAYBE_TEXT,
    "resolution": MAYBE_TEXT,
    "detection": MAYBE_TEXT,
    "escalation": MAYBE_TEXT,
    "misleading": MAYBE_TEXT,
    "channel_id": {**MAYBE_TEXT, "description": "The incident's Slack channel."},
    "channel_name": MAYBE_TEXT,
    "url": MAYBE_URL,
}

VERSION = {
    "version": {"type": "integer", "minimum": 1},
    "published_by": MAYBE_PERSON,
    "published_at": TIME,
    "url": MAYBE_URL,
}

SCHEMAS: dict[str, Any] = {
    "Person": _object({"id": {**MAYBE_TEXT, "description": "Slack user id (null: a bot)."},
                       "name": {**MAYBE_TEXT, "description": "Display name, if known."}},
                      "A Slack user, or a bot known by name only."),
    "Incident": _object(INCIDENT, "An incident's facts. Texts are as typed in Slack "
                                  "(mrkdwn), as data: escape them wherever you show them."),
    "IncidentList": _object({
        "incidents": {"type": "array", "items": _ref("Incident"), "maxItems": rules.MAX_LIMIT},
        "limit": {"type": "integer", "minimum": 1, "maximum": rules.MAX_LIMIT},
        "next_cursor": {"type": ["string", "null"], "pattern": rules.CURSOR_PATTERN,
                        "description": "Pass as `cursor` (with the same filters) for the "
                                       "next page; null on the last page."},
    }),
    "TimelineEntry": _object({
        "seq": {"type": "integer", "minimum": 1,
                "description": "The entry's number on the timeline (never reused)."},
        "time": {**TIME, "description": "When it happened, in UTC."},
        "kind": {"type": "string", "enum": ["message", "note", "event"]},
        "event": {**MAYBE_TEXT, "description": "For an event: which (status, severity, …)."},
        "text": TEXT,
        "author": MAYBE_PERSON,
        "added_by": MAYBE_PERSON,
        "permalink": {**MAYBE_TEXT, "description": "The message in Slack."},
    }),
    "Task": _object({
        "ref": {"type": "string", "pattern": r"^T-[1-9][0-9]*$"},
        "text": TEXT,
        "owner": MAYBE_PERSON,
        "status": {"type": "string", "enum": ["open", "done", "dropped"]},
        "due_date": {"type": ["string", "null"], "format": "date"},
        "drop_reason": MAYBE_TEXT,
        "created_at": TIME,
        "completed_at": MAYBE_TIME,
    }),
    "Improvement": _object({"text": TEXT, "created_by": MAYBE_PERSON, "created_at": TIME}),
    "PostmortemVersion": _object(VERSION),
    "LatestPostmortem": _object({**VERSION, "markdown": TEXT}),
    "Postmortem": _object({
        "latest": {"oneOf": [_ref("LatestPostmortem"), {"type": "null"}]},
        "versions": {"type": "array", "items": _ref("PostmortemVersion")},
    }, "The published postmortem: the latest version's Markdown and every version."),
    "IncidentDetail": _object({
        **INCIDENT,
        "timeline": {"type": "array", "items": _ref("TimelineEntry")},
        "tasks": {"type": "array", "items": _ref("Task")},
        "improvements": {"type": "array", "items": _ref("Improvement")},
        "postmortem": _ref("Postmortem"),
    }, "An incident with everything recorded about it."),
    "Error": _object({"error": TEXT, "message": TEXT}),
}


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref("Error")}}, **extra}


UNAUTHORIZED = _error(
    "No valid bearer token (or the API is off: API_TOKENS is empty, then 404).",
    headers={"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}})
UNAVAILABLE = _error("The database is unavailable; try again.")
TEAM = {"name": "team", "in": "query", "required": False,
        "description": "The Slack workspace, when one database serves several.",
        "schema": {"type": "string", "pattern": rules.TEAM_PATTERN}}


def document() -> dict[str, Any]:
    """The OpenAPI document (a fresh dict each time)."""
    query = "query"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Sitrep API", "version": "1",
            "description": (
                "Read-only access to Sitrep's incidents, for exports and dashboards. "
                "Authenticate with `Authorization: Bearer <token>`, a token whose SHA-256 "
                "digest is in API_TOKENS. Private incidents are never returned: only the "
                "members of their Slack channel may see them, and a token is not a person."),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/incidents": {"get": {
                "operationId": "listIncidents",
                "summary": "Public incidents, newest first, a page at a time.",
                "description": (
                    "Pages are keyed, not offset: follow `next_cursor` until it is null. "
                    "Incidents opened meanwhile never shift a page, so an export sees each "
                    "incident once."),
                "parameters": [
                    {"name": "limit", "in": query, "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": rules.MAX_LIMIT,
                                "default": rules.DEFAULT_LIMIT}},
                    {"name": "cursor", "in": query, "required": False,
                     "description": "`next_cursor` of the previous page.",
                     "schema": {"type": "string", "pattern": rules.CURSOR_PATTERN}},
                    {"name": "status", "in": query, "required": False,
                     "description": "`open`: any status but resolved.",
                     "schema": {"type": "string", "enum": list(rules.STATUS_FILTERS)}},
                    {"name": "severity", "in": query, "required": False,
                     "schema": {"type": "string", "enum": list(SEVERITIES)}},
                    {"name": "started_after", "in": query, "required": False,
                     "description": "Impact started at or after this time (with its offset).",
                     "schema": {"type": "string", "format": "date-time"}},
                    {"name": "started_before", "in": query, "required": False,
                     "description": "Impact started before this time (with its offset).",
                     "schema": {"type": "string", "format": "date-time"}},
                    {"name": "q", "in": query, "required": False,
                     "description": "Text contained (any case) in the title, description, "
                                    "summary, impact, root cause or resolution.",
                     "schema": {"type": "string", "maxLength": rules.MAX_QUERY,
                                "pattern": "^[^\\x00]*$"}},
                    TEAM,
                ],
                "responses": {
                    "200": {"description": "A page of incidents.",
                            "content": {"application/json": {"schema": _ref("IncidentList")}}},
                    "400": _error("A query parameter is wrong; `message` says which."),
                    "401": UNAUTHORIZED,
                    "503": UNAVAILABLE,
                },
            }},
            "/api/v1/incidents/{ref}": {"get": {
                "operationId": "getIncident",
                "summary": "One public incident with its timeline, tasks, improvements "
                           "and published postmortem.",
                "parameters": [
                    {"name": "ref", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": rules.REF_PATTERN}},
                    TEAM,
                ],
                "responses": {
                    "200": {"description": "The incident.",
                            "content": {"application/json": {
                                "schema": _ref("IncidentDetail")}}},
                    "400": _error("The reference or a query parameter is wrong."),
                    "401": UNAUTHORIZED,
                    "404": _error("No such incident, or a private one."),
                    "409": _error("The number exists in several workspaces: pass `team`."),
                    "503": UNAVAILABLE,
                },
            }},
            "/api/v1/openapi.json": {"get": {
                "operationId": "openapi",
                "summary": "This document.",
                "security": [],
                "responses": {"200": {"description": "The OpenAPI document.",
                                      "content": {"application/json": {
                                          "schema": {"type": "object"}}}}},
            }},
        },
    }
