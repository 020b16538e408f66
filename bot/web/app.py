"""The web view's Flask app: settings, security headers, who is looking, the blueprints.

Flask, because it is WSGI like everything Sitrep already serves under waitress (the Slack
gate, ``/healthz``), renders with the Jinja2 Sitrep already uses, and has well-kept
extensions for what must not be written by hand (Authlib's OpenID Connect client; its
session cookie is signed by itsdangerous). Each feature of the web view is a blueprint in
its own module, listed in ``BLUEPRINTS``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from importlib import import_module
from importlib.resources import files
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, redirect, request, session, url_for

from bot.deps import Deps
from bot.web import api, auth

#: Content Security Policy: nothing but this origin's own styles, images and forms; no
#: scripts at all (the pages need none), no framing.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: The site's icon (``/favicon.ico``): a dark rounded square with a white "S".
ICON = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
        b'<rect width="16" height="16" rx="3" fill="#1f2937"/>'
        b'<text x="8" y="12.5" font-family="sans-serif" font-size="12" font-weight="bold" '
        b'fill="#fff" text-anchor="middle">S</text></svg>')
#: How long a sign-in lasts.
SESSION_HOURS = 12

F = TypeVar("F", bound=Callable[..., Any])


def create_app(deps: Deps) -> Flask:
    """The web view for ``deps`` (its settings, database and clock)."""
    settings = deps.settings
    app = Flask("sitrep.web", template_folder=str(files("bot.templates") / "web"),
                static_folder=None)
    https = (settings.web_base_url or "").startswith("https://")
    app.config.update(
        SECRET_KEY=settings.web_secret_key or secrets.token_hex(32),
        SESSION_COOKIE_NAME="sitrep_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_HOURS * 3600,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions["sitrep"] = deps
    # Every template is escaped, whatever its name: Flask escapes only ``.html`` and the like
    # by default, and the web view's templates are ``*.html.j2``.
    app.select_jinja_autoescape = lambda filename: True  # type: ignore[method-assign]

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.get("/")
    def home() -> Any:
        return redirect(url_for("pages.incidents"))

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """A plain icon: browsers ask every site for one, whatever its pages say, and log a
        404 as an error on the console."""
        return Response(ICON, mimetype="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})

    for register in BLUEPRINTS:
        register(app)
    return app


def deps() -> Deps:
    """The running app's ``Deps``."""
    return current_app.extensions["sitrep"]


def viewer() -> tuple[str, str] | None:
    """Who is looking: (team id, user id) of the signed-in person, or None.

    With ``WEB_AUTH=none`` (loopback only) everyone is a local developer who sees what a
    member of every channel would.
    """
    if deps().settings.web_auth == "none":
        return ("", "")
    person = session.get("viewer")
    if not person:
        return None
    return person["team_id"], person["user_id"]


def signed_in(view: F) -> F:
    """Send a person who is not signed in to sign in, then back here."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if viewer() is None:
            if "auth.login" not in current_app.view_functions:
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _feature(module: str) -> Callable[[Flask], None]:
    """The ``register(app)`` of a feature's module, imported when the app is built (the
    features import this module for ``signed_in``, ``viewer`` and ``deps``, so importing
    them here at the top would be an import circle)."""
    return lambda app: import_module(module).register(app)


#: Each web feature's ``register(app)``; features append theirs (pages, auth, api, …).
BLUEPRINTS: list[Callable[[Flask], None]] = []
BLUEPRINTS.append(auth.register)
BLUEPRINTS.append(api.register)
BLUEPRINTS.append(_feature("bot.web.pages"))
BLUEPRINTS.append(_feature("bot.web.insights"))
