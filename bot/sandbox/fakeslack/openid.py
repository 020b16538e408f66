"""Sign in with Slack: the fake's OpenID Connect provider.

Slack's flow (https://docs.slack.dev/authentication/sign-in-with-slack) and what the fake
serves of it, each as strict as Slack:

- ``GET /.well-known/openid-configuration``: the discovery document, Slack's own with the
  fake's addresses (the issuer stays ``https://slack.com``, as in Slack's ID tokens);
- ``GET /openid/connect/keys``: the public key that signs ID tokens (RS256, a ``kid``);
- ``GET /openid/connect/authorize``: checks the app's ``client_id``, the ``redirect_uri``
  against the manifest's ``oauth_config.redirect_urls``, ``response_type=code`` and the
  ``openid`` scope; then "the person at the browser" (:meth:`OpenID.login_as`, a test hook:
  the fake has no sign-in page) grants, and the browser goes back with ``code`` and ``state``;
- ``openid.connect.token``: the app's credentials, a single-use code younger than ten
  minutes, the same ``redirect_uri``; answers a user token and an ID token with Slack's claims;
- ``openid.connect.userInfo``: the person's claims, for the user token only.

A person of another workspace is ``login_as(user, team_id="T…", name=…)``; a deactivated
person (``add_user(..., deleted=True)``) cannot sign in at all, as on Slack, and one
deactivated after the code was issued still gets tokens (the app must check ``users.info``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from bot.sandbox.fakeslack.common import (
    JSON_TYPE,
    Reply,
    SlackError,
    answers,
    json_bytes,
)
from bot.sandbox.fakeslack.state import Workspace

#: The issuer of Slack's ID tokens and discovery document
#: (https://docs.slack.dev/authentication/sign-in-with-slack#discover).
ISSUER = "https://slack.com"
#: "scopes_supported": the Sign in with Slack scopes; ``openid`` is always required, and
#: combining them with other scopes in one flow is a scope conflict
#: (https://docs.slack.dev/authentication/sign-in-with-slack#request).
OPENID_SCOPES = frozenset({"openid", "profile", "email"})
#: "This temporary authorization code expires after ten minutes"
#: (https://docs.slack.dev/authentication/installing-with-oauth).
CODE_SECONDS = 600
#: Slack's ID tokens are valid for five minutes (``exp`` - ``iat`` in the example at
#: https://docs.slack.dev/authentication/sign-in-with-slack#response).
ID_TOKEN_SECONDS = 300
#: What signs ID tokens: one RSA key per process (generating one takes a moment).
_KEY_LOCK = threading.Lock()
_KEY: RSAKey | None = None


def _signing_key() -> RSAKey:
    global _KEY
    with _KEY_LOCK:
        if _KEY is None:
            _KEY = RSAKey.generate_key(2048, parameters={"kid": "fakeslack-1"})
        return _KEY


@dataclass
class _Grant:
    """One authorization code and what it was issued for."""

    client_id: str
    redirect_uri: str | None
    scopes: frozenset[str]
    nonce: str | None
    user_id: str
    team_id: str
    issued_at: float
    used: bool = False


@dataclass(frozen=True)
class _Person:
    user_id: str
    team_id: str
    name: str
    email: str | None


def _html(status: int, title: str, text: str) -> Reply:
    body = (f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(text)}</p>")
    return status, body.encode(), "text/html; charset=utf-8", {}


def _redirect(url: str, params: dict[str, str]) -> Reply:
    sep = "&" if urlsplit(url).query else "?"
    return 302, b"", "text/plain; charset=utf-8", {"Location": url + sep + urlencode(params)}


def _at_hash(access_token: str) -> str:
    """OpenID Connect Core 3.1.3.6: the left half of the SHA-256 of the token, base64url."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


class OpenID(Workspace):
    """Sign in with Slack (OpenID Connect): discovery, keys, authorize, token, userInfo."""

    #: The app's credentials (Basic Information → App Credentials); tests may change them.
    client_id = "1111111111.2222222222"
    client_secret = "fake-client-secret"

    def _oidc(self) -> dict[str, Any]:
        """The OpenID state, made on first use (codes, user tokens, who is signing in)."""
        with self._lock:
            state = self.__dict__.get("_oidc_state")
            if state is None:
                state = {"codes": {}, "tokens": {}, "person": None}
                self.__dict__["_oidc_state"] = state
            return state

    # ------------------------------------------------------------------ test hooks

    def login_as(self, user_id: str | None, *, team_id: str | None = None,
                 name: str | None = None, email: str | None = None) -> None:
        """Who is signed in to Slack in "the browser" and grants the next authorizations.

        A member of this workspace by id (``add_user`` first); a person of another workspace
        with ``team_id`` (and ``name``); None: nobody (the authorize page refuses).
        """
        if user_id is None:
            self._oidc()["person"] = None
            return
        home = team_id is None or team_id == self.team_id
        if home and user_id not in self.users:
            raise ValueError(f"{user_id} is not a member of {self.team_id}: add_user first")
        self._oidc()["person"] = (user_id, team_id or self.team_id, name, email)

    def _signed_in_person(self) -> _Person | None:
        chosen = self._oidc()["person"]
        if chosen is None:
            return None
        user_id, team_id, name, email = chosen
        if team_id == self.team_id:
            user = self.users[user_id]
            if user["deleted"]:
                # A deactivated member is "signed out of Slack and no longer able to sign in"
                # (https://slack.com/help/articles/204475027-Deactivate-a-members-account).
                return None
            profile = user["profile"]
            return _Person(user_id, team_id, profile.get("real_name") or user["name"],
                           profile.get("email"))
        return _Person(user_id, team_id, name or user_id, email)

    # ------------------------------------------------------------------ HTTP (not /api/)

    @property
    def issuer_base(self) -> str:
        """Where the fake serves what lives at https://slack.com (authorize, keys, discovery)."""
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    def _openid_request(self, path: str, query: str) -> Reply | None:
        """Answer the OpenID pages outside ``/api/`` (GET), or None if ``path`` is not one."""
        if path == "/.well-known/openid-configuration":
            return 200, json_bytes(self.openid_configuration()), JSON_TYPE, {}
        if path == "/openid/connect/keys":
            key = _signing_key().as_dict(private=False)
            key.update(use="sig", alg="RS256")
            return 200, json_bytes({"keys": [key]}), JSON_TYPE, {}
        if path == "/openid/connect/authorize":
            args = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
            with self._lock:
                return self._authorize(args)
        return None

    def openid_configuration(self) -> dict[str, Any]:
        """Slack's discovery document (https://slack.com/.well-known/openid-configuration,
        shown at https://docs.slack.dev/authentication/sign-in-with-slack#discover), with
        the fake's own addresses for its endpoints."""
        base = self.issuer_base
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{base}/openid/connect/authorize",
            "token_endpoint": f"{base}/api/openid.connect.token",
            "userinfo_endpoint": f"{base}/api/openid.connect.userInfo",
            "jwks_uri": f"{base}/openid/connect/keys",
            "scopes_supported": sorted(OPENID_SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "auth_time", "iss"],
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": True,
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "client_secret_basic"],
        }

    def _redirect_allowed(self, uri: str) -> bool:
        """"It must be either an exact match or a subdirectory of one of the redirect URLs
        in your app settings" (https://docs.slack.dev/authentication/sign-in-with-slack#request)."""
        for allowed in self.manifest.redirect_urls:
            if uri == allowed:
                return True
            a, u = urlsplit(allowed), urlsplit(uri)
            if ((u.scheme, u.netloc) == (a.scheme, a.netloc) and not u.fragment
                    and u.path.startswith(a.path.rstrip("/") + "/") and "/../" not in u.path
                    and not u.path.endswith("/..")):
                return True
        return False

    def _authorize(self, args: dict[str, str]) -> Reply:
        """``/openid/connect/authorize`` (https://docs.slack.dev/authentication/sign-in-with-slack#request)."""
        # An unknown client or a redirect URL not in the app's settings is shown on Slack's
        # page, never redirected to (RFC 6749 §4.1.2.1: do not send the browser to an
        # unverified address); Slack names them invalid_client_id and bad_redirect_uri
        # (https://docs.slack.dev/reference/methods/oauth.v2.access, errors).
        if args.get("client_id") != self.client_id:
            return _html(400, "invalid_client_id", "This app's client_id is not known.")
        redirect_uri = args.get("redirect_uri") or None
        if redirect_uri is None:
            if len(self.manifest.redirect_urls) != 1:
                return _html(400, "bad_redirect_uri", "redirect_uri is required.")
            target = self.manifest.redirect_urls[0]
        elif not self._redirect_allowed(redirect_uri):
            return _html(400, "bad_redirect_uri",
                         "redirect_uri did not match any configured URIs.")
        else:
            target = redirect_uri
        back: dict[str, str] = {}
        if "state" in args:
            back["state"] = args["state"]
        # Errors the redirect URL may hear (OpenID Connect Core 3.1.2.6).
        if args.get("response_type") != "code":
            # "response_type: Set equal to code" (sign-in-with-slack#request)
            return _redirect(target, {"error": "unsupported_response_type", **back})
        scopes = frozenset(str(args.get("scope", "")).replace(",", " ").split())
        if "openid" not in scopes or not scopes <= OPENID_SCOPES:
            # openid is "the base scope you always need"; other scopes in the same flow are
            # "a scope conflict" (sign-in-with-slack#request).
            return _redirect(target, {"error": "invalid_scope", **back})
        if "team" in args and args["team"] != self.team_id:
            # team: "The workspace the user is intending to authenticate": the fake's person
            # belongs to one; asking for another is refused rather than silently swapped.
            return _redirect(target, {"error": "access_denied", **back})
        person = self._signed_in_person()
        if person is None:
            return _html(401, "Not signed in",
                         "Nobody is signed in to this fake Slack (or the account is "
                         "deactivated): call login_as(user_id) first.")
        code = f"{self.team_id[1:]}.{secrets.token_hex(8)}.{secrets.token_hex(24)}"
        self._oidc()["codes"][code] = _Grant(
            client_id=self.client_id, redirect_uri=redirect_uri, scopes=scopes,
            nonce=args.get("nonce"), user_id=person.user_id, team_id=person.team_id,
            issued_at=self.now())
        self._oidc()["last_person"] = person
        return _redirect(target, {"code": code, **back})

    # ------------------------------------------------------------------ Web API methods

    @answers("openid.connect.token")
    def _openid_connect_token(self, args: dict[str, Any]) -> dict[str, Any]:
        """https://docs.slack.dev/reference/methods/openid.connect.token"""
        # Credentials in the form (client_secret_post) or in HTTP Basic (client_secret_basic),
        # both in the discovery document's token_endpoint_auth_methods_supported.
        basic = args.pop("_basic_auth", None)
        client_id, client_secret = basic if basic else (args.get("client_id"),
                                                        args.get("client_secret"))
        if client_id != self.client_id:
            raise SlackError("invalid_client_id")
        if client_secret != self.client_secret:
            raise SlackError("bad_client_secret")
        grant_type = args.get("grant_type") or "authorization_code"
        if grant_type != "authorization_code":
            raise SlackError("invalid_grant_type")
        grant: _Grant | None = self._oidc()["codes"].get(str(args.get("code") or ""))
        # A code is good once (RFC 6749 §4.1.2: "The client MUST NOT use the authorization
        # code more than once") and for ten minutes (docs.slack.dev/authentication/
        # installing-with-oauth); a code issued to another app is no code at all.
        if (grant is None or grant.used or grant.client_id != client_id
                or self.now() - grant.issued_at > CODE_SECONDS):
            raise SlackError("invalid_code")
        # "while redirect_uri is optional, it is required if your app passed it as a parameter
        # to /openid/connect/authorize" (openid.connect.token, Usage info).
        if grant.redirect_uri is not None and args.get("redirect_uri") != grant.redirect_uri:
            raise SlackError("bad_redirect_uri")
        grant.used = True
        person = self._person_of(grant)
        access_token = f"xoxp-{grant.team_id[1:]}-{secrets.token_hex(6)}-{secrets.token_hex(16)}"
        self._oidc()["tokens"][access_token] = (grant, person)
        now = int(self.now())
        claims = {
            "iss": ISSUER,
            "sub": person.user_id,
            "aud": client_id,
            "exp": now + ID_TOKEN_SECONDS,
            "iat": now,
            "auth_time": now,
            "at_hash": _at_hash(access_token),
            **self._claims(person, grant.scopes),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        key = _signing_key()
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)
        return {"ok": True, "access_token": access_token, "token_type": "Bearer",
                "id_token": id_token}

    def _person_of(self, grant: _Grant) -> _Person:
        last: _Person | None = self._oidc().get("last_person")
        if grant.team_id == self.team_id:
            user = self.users[grant.user_id]
            return _Person(grant.user_id, grant.team_id,
                           user["profile"].get("real_name") or user["name"],
                           user["profile"].get("email"))
        if last is not None and last.user_id == grant.user_id:
            return last
        return _Person(grant.user_id, grant.team_id, grant.user_id, None)

    def _claims(self, person: _Person, scopes: frozenset[str]) -> dict[str, Any]:
        """The person's claims for the granted scopes, as in the response examples of
        https://docs.slack.dev/authentication/sign-in-with-slack#response."""
        claims: dict[str, Any] = {"https://slack.com/team_id": person.team_id,
                                  "https://slack.com/user_id": person.user_id}
        if "email" in scopes and person.email:
            claims.update(email=person.email, email_verified=True,
                          date_email_verified=int(self.now()))
        if "profile" in scopes:
            given, _, family = person.name.partition(" ")
            home = person.team_id == self.team_id
            claims.update({
                "name": person.name,
                "given_name": given,
                "family_name": family,
                "locale": "en-US",
                "picture": f"https://avatars.fake.slack.com/{person.user_id}_512.png",
                "https://slack.com/team_name": self.team_name if home else person.team_id,
                "https://slack.com/team_domain": self.team_domain if home else "other",
            })
        return claims

    @answers("openid.connect.userInfo")
    def _openid_connect_user_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """https://docs.slack.dev/reference/methods/openid.connect.userInfo: the user token
        from openid.connect.token (server.py lets only those through)."""
        grant, person = self._oidc()["tokens"][args.pop("_user_token")]
        if grant.team_id == self.team_id and self.users[grant.user_id]["deleted"]:
            # "When member accounts are deactivated, API tokens are revoked as well"
            # (https://slack.com/help/articles/360000446446).
            raise SlackError("token_revoked")
        return {"ok": True, "sub": person.user_id, **self._claims(person, grant.scopes)}

    def user_token_error(self, token: str | None) -> str | None:
        """Why ``token`` is not a Sign in with Slack user token (None if it is one)."""
        if token is None:
            return "not_authed"
        if token in self._oidc()["tokens"]:
            return None
        return "not_allowed_token_type" if token == self.bot_token else "invalid_auth"
