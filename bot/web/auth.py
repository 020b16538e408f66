"""Sign in with Slack: who may see the web view.

OpenID Connect with Slack as the provider (https://docs.slack.dev/authentication/sign-in-with-slack),
through Authlib's Flask client: it finds Slack's endpoints in the discovery document (the
fake Slack's in tests and the demo, next to ``SLACK_API_URL``), keeps ``state`` and ``nonce``
in the session, exchanges the code at ``openid.connect.token`` and verifies the ID token
(RS256 signature against Slack's published keys, ``iss``, ``aud``, ``exp``, ``iat``,
``nonce``, ``at_hash``). Sitrep then lets in only a person of the workspace it is installed
in (the bot token's ``auth.test`` team) whom ``users.info`` does not show deactivated, and
keeps ``{team_id, user_id, name}`` in the signed session cookie, which ``app.viewer()``
reads. The session is emptied on sign-in (no fixation) and on sign-out.

Pages: ``GET /login?next=/path`` (sends the browser to Slack), ``GET /auth/slack/callback``
(Slack sends it back), ``GET /logout`` (a confirmation form: the pages run no script) and
``POST /logout``, ``GET /signed-out``. Refusals are pages that say why, never tracebacks.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from authlib.oidc.core import CodeIDToken
from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from joserfc.errors import JoseError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.common.clock import Clock
from bot.deps import Deps
from bot.slack.client import UNREACHABLE_ERRORS
from bot.web.slack import slack_client

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

#: The user scopes Sitrep asks for: ``openid`` (always required) and ``profile`` (the
#: person's name). Not ``email``: Sitrep has no use for it. manifest.yml declares the same
#: (tests/test_manifest.py checks).
SCOPES = ("openid", "profile")
#: Where Slack sends the browser back; manifest.yml's ``oauth_config.redirect_urls``.
CALLBACK_PATH = "/auth/slack/callback"
#: The only issuer Sitrep accepts ID tokens from, fake Slack included
#: (https://docs.slack.dev/authentication/sign-in-with-slack#response: "iss").
ISSUER = "https://slack.com"
TEAM_CLAIM = "https://slack.com/team_id"
USER_CLAIM = "https://slack.com/user_id"
#: Seconds of clock skew tolerated on ``exp`` and ``iat``.
LEEWAY = 60
#: Paths ``next`` may not lead back to (they would loop through sign-in).
_NOT_NEXT = frozenset({"/login", "/logout", CALLBACK_PATH, "/signed-out"})

#: Why a sign-in was refused: (HTTP status, title, what to tell the person).
REFUSALS: dict[str, tuple[int, str, str]] = {
    "not_configured": (503, "Sign-in is not set up",
                       "Sitrep's web view has no Slack app credentials (SLACK_CLIENT_ID and "
                       "SLACK_CLIENT_SECRET). Ask whoever runs Sitrep."),
    "unreachable": (502, "Slack did not answer",
                    "Sitrep could not reach Slack to sign you in. Try again in a moment."),
    "cancelled": (403, "Sign-in cancelled",
                  "Slack did not sign you in (you may have cancelled). You can try again."),
    "failed": (400, "Sign-in failed",
               "This sign-in could not be verified: it may have expired, been used already, "
               "or been started in another browser. Please try again."),
    "other_workspace": (403, "Wrong workspace",
                        "You signed in to a Slack workspace that this Sitrep does not serve. "
                        "Sign in with your account in Sitrep's own workspace."),
    "deactivated": (403, "Account deactivated",
                    "Your Slack account in this workspace is deactivated."),
}


def deps() -> Deps:
    """The running app's ``Deps`` (as ``bot.web.app.deps``; app.py imports this module)."""
    return current_app.extensions["sitrep"]


def discovery_url(api_url: str) -> str:
    """Slack's discovery document next to the Web API: ``https://slack.com/api/`` →
    ``https://slack.com/.well-known/openid-configuration`` (the fake's likewise)."""
    parts = urlsplit(api_url)
    path = parts.path
    if path.endswith("/api/"):
        path = path[: -len("api/")]
    elif not path.endswith("/"):
        path += "/"
    return urlunsplit((parts.scheme, parts.netloc, path + ".well-known/openid-configuration",
                       "", ""))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, else ``/`` (no open redirect)."""
    if not target or len(target) > 2000:
        return "/"
    if (not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target)):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in _NOT_NEXT:
        return "/"
    return target


def _claims_class(clock: Clock) -> type[CodeIDToken]:
    """Authlib's ID token checks, with "now" from Sitrep's clock (tests control it)."""

    class SlackIDToken(CodeIDToken):
        def validate(self, now: Any = None, leeway: int = 0) -> None:
            super().validate(now=int(clock.now().timestamp()), leeway=leeway)

    return SlackIDToken


def _oauth() -> Any:
    """The registered Slack client, or None without credentials."""
    oauth: OAuth = current_app.extensions["sitrep_oauth"]
    return oauth.create_client("slack")


def _slack() -> WebClient:
    """The bot's Web API client (for ``auth.test`` and ``users.info``)."""
    return slack_client()


def home_team() -> str:
    """The workspace Sitrep is installed in: the bot token's team (``auth.test``, cached)."""
    team = current_app.extensions.get("sitrep_team")
    if team is None:
        team = str(_slack().auth_test()["team_id"])
        current_app.extensions["sitrep_team"] = team
    return team


def _callback_url() -> str:
    base = deps().settings.web_base_url
    if base:
        return base + CALLBACK_PATH
    return request.host_url.rstrip("/") + CALLBACK_PATH


def _refuse(reason: str) -> tuple[str, int]:
    status, title, text = REFUSALS[reason]
    return render_template("auth.j2", title=title, text=text, retry=True), status


def csrf_token() -> str:
    """This session's token for the sign-out form (templates: ``{{ csrf_token() }}``)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


@bp.get("/login")
def login() -> Any:
    """Send the browser to Slack's authorize page, remembering where to come back to."""
    target = safe_next(request.args.get("next"))
    if session.get("viewer"):
        return redirect(target)
    provider = _oauth()
    if provider is None:
        return _refuse("not_configured")
    session["login_next"] = target
    try:
        # Authlib makes the state and the nonce (openid scope) and keeps them in the session.
        return provider.authorize_redirect(redirect_uri=_callback_url())
    except requests.RequestException as exc:  # the discovery document
        log.warning("sign-in: Slack's OpenID configuration is unreachable: %s", exc)
        return _refuse("unreachable")


@bp.get(CALLBACK_PATH)
def callback() -> Any:
    """Slack sent the browser back: verify everything, then let a member in."""
    provider = _oauth()
    if provider is None:
        return _refuse("not_configured")
    target = safe_next(session.get("login_next"))
    try:
        token = provider.authorize_access_token(
            claims_cls=_claims_class(deps().clock), leeway=LEEWAY,
            claims_options={"iss": {"essential": True, "values": [ISSUER]},
                            "aud": {"essential": True, "values": [provider.client_id]},
                            "nonce": {"essential": True}})
    except OAuthError as exc:  # Slack's error, a state not ours, a code refused
        log.info("sign-in refused: %s", exc.error)
        return _refuse("cancelled" if exc.error == "access_denied" else "failed")
    except JoseError as exc:  # signature, iss, aud, exp, nonce, at_hash
        log.warning("sign-in refused: the ID token did not verify: %s", exc)
        return _refuse("failed")
    except requests.RequestException as exc:
        log.warning("sign-in: Slack is unreachable: %s", exc)
        return _refuse("unreachable")
    claims = token.get("userinfo")
    if not claims:
        return _refuse("failed")
    team_id, user_id = claims.get(TEAM_CLAIM), claims.get(USER_CLAIM) or claims.get("sub")
    try:
        if not team_id or team_id != home_team():
            log.info("sign-in refused: %s is of workspace %s", user_id, team_id)
            return _refuse("other_workspace")
        person = deps().people.get(_slack(), str(user_id), refresh=True)
    except (SlackApiError, *UNREACHABLE_ERRORS) as exc:
        log.warning("sign-in: Slack could not say who %s is: %s", user_id, exc)
        return _refuse("unreachable")
    if person.deleted:
        log.info("sign-in refused: %s is deactivated", user_id)
        return _refuse("deactivated")
    name = person.name if person.name != person.user_id else str(claims.get("name") or user_id)
    session.clear()  # a fresh session: nothing from before signing in survives
    session["viewer"] = {"team_id": str(team_id), "user_id": str(user_id), "name": name}
    session.permanent = True
    return redirect(target)


@bp.get("/logout")
def logout_form() -> Any:
    """Confirm signing out: a form, since a link that signs out would need no confirmation
    and the pages run no script."""
    return render_template("auth.j2", title="Sign out",
                           text="Sign out of Sitrep in this browser?",
                           logout=True, csrf=csrf_token())


@bp.post("/logout")
def logout() -> Any:
    """Forget the session (a forged form from elsewhere is refused)."""
    sent = request.form.get("csrf", "")
    if session.get("viewer") and not hmac.compare_digest(sent, str(session.get("csrf", ""))):
        return render_template("auth.j2", title="Sign out",
                               text="Sign out of Sitrep in this browser?",
                               logout=True, csrf=csrf_token()), 400
    session.clear()
    return redirect(url_for("auth.signed_out"))


@bp.get("/signed-out")
def signed_out() -> Any:
    return render_template("auth.j2", title="Signed out",
                           text="You are signed out of Sitrep.", retry=True)


def register(app: Flask) -> None:
    """Add sign-in to ``app``; without Slack credentials the pages say it is not set up."""
    settings = app.extensions["sitrep"].settings
    oauth = OAuth(app)
    if settings.client_id and settings.client_secret:
        oauth.register(
            "slack",
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=discovery_url(settings.api_url),
            client_kwargs={
                "scope": " ".join(SCOPES),
                # Slack takes both; its own examples post the credentials.
                "token_endpoint_auth_method": "client_secret_post",
                "default_timeout": settings.slack_timeout,
            },
        )
    app.extensions["sitrep_oauth"] = oauth
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.register_blueprint(bp)
