"""Sign in with Slack, end to end through the fake Slack's OpenID Connect provider.

The browser is Flask's test client for Sitrep's pages and ``requests`` for Slack's authorize
page (the fake's real HTTP server); Sitrep reaches the fake over HTTP for the discovery
document, the keys, ``openid.connect.token``, ``auth.test`` and ``users.info``. Sitrep and
the fake share one controlled clock.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from flask import Flask, session
from flask.testing import FlaskClient

from bot.common.clock import FixedClock
from bot.deps import Deps
from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.fakeslack.manifest import AppManifest
from bot.settings import Settings, SettingsError, load
from bot.web.app import create_app, signed_in
from bot.web.auth import discovery_url, safe_next
from storage.db import Database

LOCAL = "http://localhost"
HTTPS = "https://sitrep.test"
CALLBACK = "/auth/slack/callback"


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeSlack]:
    manifest = AppManifest.load().redirecting_to(LOCAL + CALLBACK, HTTPS + CALLBACK)
    with FakeSlack(manifest=manifest, clock=lambda: clock.now().timestamp()) as fake:
        fake.add_user("U1", "ann", real_name="Ann Lee")
        fake.login_as("U1")
        yield fake


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    path = tmp_path / "sitrep.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


def make_app(fake: FakeSlack, database: Database, clock: FixedClock, **settings: object) -> Flask:
    options: dict = dict(api_url=fake.url, bot_token="xoxb-fake", client_id=fake.client_id,
                         client_secret=fake.client_secret, web_secret_key="k" * 32)
    options.update(settings)
    app = create_app(Deps(settings=Settings(**options), db=database, clock=clock))

    @app.get("/private")
    @signed_in
    def private() -> str:
        return "hello " + session["viewer"]["user_id"]

    return app


@pytest.fixture
def app(fake: FakeSlack, database: Database, clock: FixedClock) -> Flask:
    return make_app(fake, database, clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def start(client: FlaskClient, nxt: str = "/private") -> str:
    """``/login``: Sitrep sends the browser to Slack's authorize page; its URL."""
    answer = client.get("/login?next=" + quote(nxt, safe=""))
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def authorize(url: str) -> dict[str, str]:
    """The browser at Slack: the fake grants and redirects back; the callback's arguments."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return {k: v[0] for k, v in parse_qs(back.query).items()}


def callback(client: FlaskClient, args: dict[str, str], base: str = LOCAL):  # type: ignore[no-untyped-def]
    return client.get(CALLBACK, query_string=args, base_url=base)


def sign_in(client: FlaskClient, nxt: str = "/private"):  # type: ignore[no-untyped-def]
    return callback(client, authorize(start(client, nxt)))


def test_the_whole_flow_signs_a_member_in_and_back_to_where_they_were(
        client: FlaskClient, fake: FakeSlack) -> None:
    assert client.get("/private").headers["Location"] == "/login?next=/private"
    slack = urlsplit(start(client))
    assert slack.path == "/openid/connect/authorize"
    asked = parse_qs(slack.query)
    assert asked["response_type"] == ["code"] and asked["scope"] == ["openid profile"]
    assert asked["redirect_uri"] == [LOCAL + CALLBACK] and asked["client_id"] == [fake.client_id]
    assert asked["state"][0] and asked["nonce"][0]

    answer = sign_in(client)
    assert answer.status_code == 302 and answer.headers["Location"] == "/private"
    assert client.get("/private").text == "hello U1"
    with client.session_transaction() as s:
        assert s["viewer"] == {"team_id": "T0001", "user_id": "U1", "name": "Ann Lee"}
        assert s.permanent
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    token_call = next(c for c in fake.calls if c.method == "openid.connect.token")
    assert token_call.args["client_secret"] == fake.client_secret
    assert {"auth.test", "users.info"} <= {c.method for c in fake.calls}


def test_the_cookie_is_secure_over_https(fake: FakeSlack, database: Database,
                                         clock: FixedClock) -> None:
    client = make_app(fake, database, clock, web_base_url=HTTPS).test_client()
    slack = parse_qs(urlsplit(client.get("/login", base_url=HTTPS).headers["Location"]).query)
    assert slack["redirect_uri"] == [HTTPS + CALLBACK]
    args = authorize(client.get("/login", base_url=HTTPS).headers["Location"])
    answer = callback(client, args, base=HTTPS)
    assert answer.status_code == 302
    assert "Secure" in answer.headers["Set-Cookie"]
    assert answer.headers["Strict-Transport-Security"]


def test_a_session_from_before_signing_in_does_not_survive_it(client: FlaskClient) -> None:
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    sign_in(client)
    with client.session_transaction() as s:
        assert "planted" not in s and s["viewer"]["user_id"] == "U1"


def refused(answer, title: str, status: int) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == status, answer.text
    assert f"<h1>{title}</h1>" in answer.text and "Traceback" not in answer.text
    assert "Sign in with Slack" in answer.text


def test_a_state_that_is_not_this_browsers_is_refused(client: FlaskClient) -> None:
    args = authorize(start(client))
    refused(callback(client, {**args, "state": "forged"}), "Sign-in failed", 400)
    refused(callback(client, {"code": args["code"]}), "Sign-in failed", 400)
    # another browser with the code and state of this one
    refused(callback(client.application.test_client(), args), "Sign-in failed", 400)
    assert client.get("/private").status_code == 302


def test_a_code_is_good_once(client: FlaskClient) -> None:
    first = authorize(start(client))
    assert callback(client, first).status_code == 302
    client.post("/logout", data={"csrf": "x"})  # (no check needed: refused either way)
    with client.session_transaction() as s:
        s.clear()
    second = authorize(start(client))
    refused(callback(client, {**first, "state": second["state"]}), "Sign-in failed", 400)
    assert client.get("/private").status_code == 302


def test_an_expired_code_is_refused(client: FlaskClient, clock: FixedClock) -> None:
    args = authorize(start(client))
    clock.advance(minutes=11)  # Slack's codes last ten minutes
    refused(callback(client, args), "Sign-in failed", 400)


def test_an_id_token_for_another_nonce_is_refused(client: FlaskClient, fake: FakeSlack) -> None:
    """A code obtained elsewhere (another authorization, its own nonce) injected into this
    browser's callback with this browser's state: the nonce gives it away."""
    mine = authorize(start(client))
    injected = authorize(fake.base + "/openid/connect/authorize?" + "&".join([
        "response_type=code", "scope=openid%20profile", f"client_id={fake.client_id}",
        "nonce=the-attackers", "redirect_uri=" + quote(LOCAL + CALLBACK, safe="")]))
    refused(callback(client, {"code": injected["code"], "state": mine["state"]}),
            "Sign-in failed", 400)
    assert client.get("/private").status_code == 302


def test_a_person_of_another_workspace_is_refused(client: FlaskClient, fake: FakeSlack) -> None:
    fake.login_as("U9", team_id="T0OTHER", name="Eve")
    refused(sign_in(client), "Wrong workspace", 403)
    assert client.get("/private").status_code == 302
    assert "users.info" not in {c.method for c in fake.calls}


def test_a_deactivated_person_is_refused(client: FlaskClient, fake: FakeSlack) -> None:
    """Slack itself refuses a deactivated account; one deactivated while signing in is
    refused by Sitrep's users.info check."""
    args = authorize(start(client))
    fake.users["U1"]["deleted"] = True
    refused(callback(client, args), "Account deactivated", 403)
    assert client.get("/private").status_code == 302


def test_slack_saying_no_is_a_page_not_an_error(client: FlaskClient) -> None:
    args = authorize(start(client))
    refused(callback(client, {"error": "access_denied", "state": args["state"]}),
            "Sign-in cancelled", 403)


def test_signing_out_needs_the_form_and_forgets_everything(client: FlaskClient) -> None:
    sign_in(client)
    form = client.get("/logout")
    assert form.status_code == 200 and 'method="post"' in form.text and "<script" not in form.text
    with client.session_transaction() as s:
        token = s["csrf"]
    assert f'value="{token}"' in form.text
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 400
    assert client.get("/private").status_code == 200  # a forged form signs nobody out
    answer = client.post("/logout", data={"csrf": token})
    assert answer.status_code == 302 and answer.headers["Location"] == "/signed-out"
    assert client.get("/signed-out").status_code == 200
    assert client.get("/private").status_code == 302
    with client.session_transaction() as s:
        assert dict(s) == {}


@pytest.mark.parametrize("target", [
    "https://evil.test/", "//evil.test/x", "/\\evil.test", "\\\\evil.test", "javascript:alert(1)",
    "http:/evil.test", "/\t/evil.test", "evil.test", "/login?next=https://evil.test",
    "/" + "a" * 3000,
])
def test_next_never_leaves_the_site(client: FlaskClient, target: str) -> None:
    assert safe_next(target) == "/"
    answer = sign_in(client, target)
    assert answer.headers["Location"] == "/"


def test_next_keeps_a_path_with_its_query() -> None:
    assert safe_next("/incidents?status=open&q=db") == "/incidents?status=open&q=db"
    assert safe_next(None) == "/"


def test_an_app_without_credentials_says_sign_in_is_not_set_up(
        fake: FakeSlack, database: Database, clock: FixedClock) -> None:
    client = make_app(fake, database, clock, client_id=None, client_secret=None).test_client()
    refused(client.get("/login"), "Sign-in is not set up", 503)


def test_the_discovery_document_sits_beside_the_web_api() -> None:
    assert discovery_url("https://slack.com/api/") == (
        "https://slack.com/.well-known/openid-configuration")
    assert discovery_url("http://127.0.0.1:8900/api/") == (
        "http://127.0.0.1:8900/.well-known/openid-configuration")


def test_the_web_view_needs_its_secrets_to_sign_people_in() -> None:
    with pytest.raises(SettingsError, match="WEB_SECRET_KEY is not set"):
        Settings(client_id="1.2", client_secret="s").require_web()
    with pytest.raises(SettingsError, match="SLACK_CLIENT_ID is not set"):
        Settings(web_secret_key="k" * 32).require_web()
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN is not set"):
        Settings(web_secret_key="k" * 32, client_id="1.2", client_secret="s").require_web()
    Settings(web_secret_key="k" * 32, client_id="1.2", client_secret="s",
             bot_token="xoxb-1").require_web()
    load({"WEB_AUTH": "none", "HOST": "127.0.0.1"}, dotenv=False).require_web()
    with pytest.raises(SettingsError, match="at least 32"):
        load({"WEB_SECRET_KEY": "short"}, dotenv=False)
