"""The read-only JSON API (``/api/v1/…``): the Flask shell over ``bot.web.api_rules``.

Every answer is JSON with ``Cache-Control: no-store`` — errors too, with ``{"error",
"message"}``, never an HTML page or a traceback. Bearer tokens are checked against the
SHA-256 digests in ``API_TOKENS``; with none configured there is no API at all (404).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from bot.deps import Deps
from bot.web import api_rules as rules
from bot.web import api_schema
from storage.db import is_unavailable

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
OPENAPI = f"{PREFIX}/openapi.json"
bp = Blueprint("api", __name__)


#: Characters that never appear in JSON's own syntax, escaped inside strings anyway, so that
#: a consumer that wrongly sniffs the body as HTML (or pastes it into a page) finds no tag.
_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                            "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")).translate(_HTML_SAFE)
    response = Response(text, status=status, mimetype="application/json", headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(error: rules.ApiError) -> Response:
    headers = {}
    if error.status == 401:
        # RFC 6750 §3: the scheme, and ``invalid_token`` when a token was presented.
        given = rules.bearer_token(request.headers.get("Authorization")) is not None
        headers["WWW-Authenticate"] = ('Bearer realm="sitrep", error="invalid_token"'
                                       if given else 'Bearer realm="sitrep"')
    if error.status == 405:
        headers["Allow"] = "GET, HEAD"
    return _json(error.body(), error.status, headers)


def deps() -> Deps:
    """The running app's ``Deps`` (not ``bot.web.app.deps``: that module imports this one)."""
    return current_app.extensions["sitrep"]


@bp.before_request
def authenticate() -> Response | None:
    """No API without tokens; every endpoint but the OpenAPI document needs one."""
    hashes = deps().settings.api_token_hashes
    if not hashes:
        return _error(rules.ApiError(404, "not_found",
                                     "The API is off: API_TOKENS is not set."))
    if request.path == OPENAPI:
        return None
    if not rules.authorized(request.headers.get("Authorization"), hashes):
        return _error(rules.ApiError(401, "unauthorized",
                                     "Send `Authorization: Bearer <token>` with a token "
                                     "whose SHA-256 digest is in API_TOKENS."))
    return None


@bp.get(f"{PREFIX}/incidents", provide_automatic_options=False)
def incidents() -> Response:
    request_ = rules.parse_list(request.args.to_dict(flat=False))
    return _json(rules.list_incidents(deps().db, request_, deps().settings.web_base_url))


@bp.get(f"{PREFIX}/incidents/<ref>", provide_automatic_options=False)
def incident(ref: str) -> Response:
    return _json(rules.incident_detail(deps().db, ref, request.args.to_dict(flat=False),
                                       deps().settings.web_base_url))


@bp.get(OPENAPI, provide_automatic_options=False)
def openapi() -> Response:
    return _json(api_schema.document())


@bp.route("/api", defaults={"rest": ""},
          methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
@bp.route("/api/<path:rest>",
          methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
def elsewhere(rest: str) -> Response:
    """Anything else under ``/api``: a JSON 404, or 405 for a known path's other methods.

    A route rather than an error handler, so that the API's errors stay JSON whatever
    handlers the HTML pages register for the rest of the app.
    """
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _ = adapter.match(request.path, method="GET")
    except HTTPException:
        endpoint = bp.name + ".elsewhere"
    if endpoint != bp.name + ".elsewhere":
        raise MethodNotAllowed(valid_methods=["GET", "HEAD"])
    raise NotFound()


@bp.errorhandler(rules.ApiError)
def api_error(error: rules.ApiError) -> Response:
    return _error(error)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    code = error.code or 500
    messages = {404: "There is no such endpoint.", 405: "Only GET is allowed here."}
    return _error(rules.ApiError(code, error.name.lower().replace(" ", "_"),
                                 messages.get(code, error.description or error.name)))


@bp.errorhandler(Exception)
def crash(error: Exception) -> Response:
    if is_unavailable(error):
        log.warning("API: database unavailable: %s", type(error).__name__)
        return _error(rules.ApiError(503, "unavailable",
                                     "The database is unavailable; try again shortly."))
    log.exception("API request failed: %s %s", request.method, request.path)
    return _error(rules.ApiError(500, "internal_error", "Something went wrong; it was logged."))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
