"""The fake Slack's Sign in with Slack is as strict as Slack's
(https://docs.slack.dev/authentication/sign-in-with-slack)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from bot.common.clock import FixedClock
from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.fakeslack.manifest import AppManifest

BACK = "https://sitrep.example.com/auth/slack/callback"


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=lambda: clock.now().timestamp()) as fake:
        fake.add_user("U1", "ann", real_name="Ann Lee", email="ann@example.com")
        fake.login_as("U1")
        yield fake


def authorize(fake: FakeSlack, **args: str) -> requests.Response:
    params = {"response_type": "code", "scope": "openid profile email",
              "client_id": fake.client_id, "state": "st", "nonce": "no", "redirect_uri": BACK}
    params.update(args)
    params = {k: v for k, v in params.items() if v is not None}
    return requests.get(fake.base + "/openid/connect/authorize?" + urlencode(params),
                        allow_redirects=False, timeout=5)


def code_of(answer: requests.Response) -> str:
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def token(fake: FakeSlack, code: str, **args: str) -> dict:
    form = {"client_id": fake.client_id, "client_secret": fake.client_secret, "code": code,
            "redirect_uri": BACK, "grant_type": "authorization_code"}
    form.update(args)
    return requests.post(fake.url + "openid.connect.token", data=form, timeout=5).json()


def test_the_manifest_declares_the_callback() -> None:
    assert BACK in AppManifest.load().redirect_urls


def test_discovery_keys_and_a_verifiable_id_token(fake: FakeSlack, clock: FixedClock) -> None:
    config = requests.get(fake.base + "/.well-known/openid-configuration", timeout=5).json()
    assert config["issuer"] == "https://slack.com"
    assert config["authorization_endpoint"] == fake.base + "/openid/connect/authorize"
    assert config["token_endpoint"] == fake.url + "openid.connect.token"
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = KeySet.import_key_set(requests.get(config["jwks_uri"], timeout=5).json())

    answer = authorize(fake)
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["state"] == ["st"]
    result = token(fake, code_of(answer))
    assert result["ok"] and result["token_type"] == "Bearer"
    assert result["access_token"].startswith("xoxp-")
    claims = jwt.decode(result["id_token"], keys).claims
    now = int(clock.now().timestamp())
    assert claims["iss"] == "https://slack.com" and claims["aud"] == fake.client_id
    assert claims["sub"] == "U1" and claims["nonce"] == "no"
    assert claims["iat"] == now and claims["exp"] == now + 300
    assert claims["https://slack.com/team_id"] == "T0001"
    assert claims["https://slack.com/user_id"] == "U1"
    assert claims["name"] == "Ann Lee" and claims["email"] == "ann@example.com"

    info = requests.post(fake.url + "openid.connect.userInfo", timeout=5,
                         headers={"Authorization": "Bearer " + result["access_token"]}).json()
    assert info["ok"] and info["sub"] == "U1" and info["https://slack.com/team_id"] == "T0001"


@pytest.mark.parametrize("uri", [
    "https://evil.example.com/auth/slack/callback",
    "https://sitrep.example.com/auth/slack/callbackX",
    "http://sitrep.example.com/auth/slack/callback",
    "https://sitrep.example.com/auth/slack/callback/../../steal",
    "https://sitrep.example.com.evil.test/auth/slack/callback",
])
def test_a_redirect_uri_not_in_the_apps_settings_is_never_followed(fake: FakeSlack,
                                                                    uri: str) -> None:
    answer = authorize(fake, redirect_uri=uri)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "bad_redirect_uri" in answer.text


def test_a_subdirectory_of_a_redirect_url_is_allowed(fake: FakeSlack) -> None:
    answer = authorize(fake, redirect_uri=BACK + "/deeper")
    assert answer.headers["Location"].startswith(BACK + "/deeper?code=")


def test_an_unknown_client_is_refused_on_slacks_page(fake: FakeSlack) -> None:
    answer = authorize(fake, client_id="999.999")
    assert answer.status_code == 400 and "invalid_client_id" in answer.text


@pytest.mark.parametrize(("args", "error"), [
    ({"scope": "profile email"}, "invalid_scope"),
    ({"scope": "openid chat:write"}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
])
def test_a_bad_request_goes_back_with_its_error(fake: FakeSlack, args: dict, error: str) -> None:
    back = parse_qs(urlsplit(authorize(fake, **args).headers["Location"]).query)
    assert back == {"error": [error], "state": ["st"]}


def test_nobody_signed_in_or_a_deactivated_person_gets_no_code(fake: FakeSlack) -> None:
    fake.add_user("U2", "gone", deleted=True)
    fake.login_as("U2")
    assert authorize(fake).status_code == 401
    fake.login_as(None)
    assert authorize(fake).status_code == 401
    with pytest.raises(ValueError):
        fake.login_as("U404")


def test_a_person_of_another_workspace_signs_in_with_their_own_team(fake: FakeSlack) -> None:
    fake.login_as("W9", team_id="T0OTHER", name="Eve")
    result = token(fake, code_of(authorize(fake)))
    claims = jwt.decode(result["id_token"], KeySet.import_key_set(
        requests.get(fake.base + "/openid/connect/keys", timeout=5).json())).claims
    assert claims["https://slack.com/team_id"] == "T0OTHER" and claims["name"] == "Eve"


def test_the_token_method_checks_the_apps_credentials(fake: FakeSlack) -> None:
    code = code_of(authorize(fake))
    assert token(fake, code, client_secret="wrong") == {"ok": False,
                                                        "error": "bad_client_secret"}
    assert token(fake, code, client_id="999.999")["error"] == "invalid_client_id"
    assert token(fake, code, grant_type="password")["error"] == "invalid_grant_type"
    assert token(fake, code, redirect_uri=BACK + "/other")["error"] == "bad_redirect_uri"
    assert token(fake, code)["ok"]  # none of the refusals used the code up


def test_client_secret_basic_is_accepted(fake: FakeSlack) -> None:
    code = code_of(authorize(fake))
    basic = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
    answer = requests.post(fake.url + "openid.connect.token", timeout=5,
                           data={"code": code, "redirect_uri": BACK},
                           headers={"Authorization": "Basic " + basic}).json()
    assert answer["ok"], answer


def test_a_code_is_good_once_and_for_ten_minutes(fake: FakeSlack, clock: FixedClock) -> None:
    code = code_of(authorize(fake))
    assert token(fake, code)["ok"]
    assert token(fake, code) == {"ok": False, "error": "invalid_code"}
    late = code_of(authorize(fake))
    clock.advance(minutes=10, seconds=1)
    assert token(fake, late)["error"] == "invalid_code"
    assert token(fake, "made-up")["error"] == "invalid_code"


def test_user_info_takes_the_user_token_only(fake: FakeSlack) -> None:
    def user_info(token: str | None) -> dict:
        headers = {"Authorization": "Bearer " + token} if token else {}
        return requests.post(fake.url + "openid.connect.userInfo", headers=headers,
                             timeout=5).json()

    assert user_info(None)["error"] == "not_authed"
    assert user_info(fake.bot_token)["error"] == "not_allowed_token_type"
    assert user_info("xoxp-made-up")["error"] == "invalid_auth"
    access = token(fake, code_of(authorize(fake)))["access_token"]
    assert user_info(access)["ok"]
    fake.users["U1"]["deleted"] = True  # deactivating revokes the person's tokens
    assert user_info(access)["error"] == "token_revoked"
    # and a user token is no bot token
    assert requests.post(fake.url + "auth.test", timeout=5,
                         headers={"Authorization": "Bearer " + access}).json()["error"] == (
        "invalid_auth")
