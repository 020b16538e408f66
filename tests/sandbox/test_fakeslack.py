"""Tests for bot.sandbox.fakeslack, driven through the real slack_sdk WebClient."""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.sandbox.fakeslack import FakeSlack
from bot.sandbox.fakeslack.common import answers
from bot.sandbox.fakeslack.manifest import METHOD_SCOPES, AppManifest
from bot.sandbox.fakeslack.state import Workspace

#: An app granted every scope the fake knows, with its Messages tab on: these tests exercise
#: the methods themselves (test_app_configuration_* the manifest's rules).
EVERYTHING = AppManifest(bot_scopes=frozenset().union(*METHOD_SCOPES.values(),
                                                      {"chat:write.public"}),
                         messages_tab_enabled=True)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(manifest=EVERYTHING) as server:
        server.add_user("U1", "alice", real_name="Alice Smith", display_name="alice")
        server.add_user("U2", "bob", tz="America/New_York", tz_offset=-18000)
        server.add_user("U3", "gone", deleted=True)
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-fake", base_url=fake.url, timeout=5)


def _error(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    return exc.value.response["error"]


def test_url_shape(fake: FakeSlack) -> None:
    assert fake.url.endswith("/api/")
    assert fake.url == fake.base + "/api/"
    assert fake.base.startswith("http://127.0.0.1:")


def test_auth_test(fake: FakeSlack, client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["user_id"] == "U0BOT"
    assert resp["team_id"] == "T0001"
    assert resp["bot_id"].startswith("B")
    assert fake.users["U0BOT"]["is_bot"] is True
    assert fake.users["U0BOT"]["name"] == "sitrep"


def test_channel_lifecycle(fake: FakeSlack, client: WebClient) -> None:
    created = client.conversations_create(name="inc-42-db-outage")
    channel = created["channel"]
    cid = channel["id"]
    assert cid.startswith("C") and len(cid) == 11 and cid[1:].isalnum() and cid.isupper()
    assert channel["name"] == "inc-42-db-outage"
    assert channel["is_channel"] is True and channel["is_member"] is True
    assert channel["creator"] == "U0BOT" and isinstance(channel["created"], int)

    invited = client.conversations_invite(channel=cid, users="U1,U2")
    assert invited["channel"]["id"] == cid
    assert fake.members(cid) == ["U0BOT", "U1", "U2"]
    with pytest.raises(SlackApiError) as exc:
        client.conversations_invite(channel=cid, users="U1")
    assert _error(exc) == "already_in_channel"
    assert exc.value.response["errors"] == [
        {"user": "U1", "ok": False, "error": "already_in_channel"}]
    with pytest.raises(SlackApiError) as exc:
        client.conversations_invite(channel=cid, users="U999")
    assert _error(exc) == "user_not_found"

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*SEV1* db down"}}]
    posted = client.chat_postMessage(channel=cid, text="SEV1 db down", blocks=blocks)
    ts = posted["ts"]
    assert posted["channel"] == cid
    assert posted["message"]["user"] == "U0BOT" and posted["message"]["blocks"] == blocks
    int_part, frac = ts.split(".")
    assert len(frac) == 6 and int(int_part) <= time.time() + 1

    updated = client.chat_update(channel=cid, ts=ts, text="SEV1 db down (mitigated)")
    assert updated["ts"] == ts and updated["text"] == "SEV1 db down (mitigated)"
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel=cid, ts="1.000001", text="x")
    assert _error(exc) == "message_not_found"

    second = client.chat_postMessage(channel="#inc-42-db-outage", text="update 1")
    assert float(second["ts"]) > float(ts)
    history = client.conversations_history(channel=cid)
    assert [m["text"] for m in history["messages"]] == ["update 1", "SEV1 db down (mitigated)"]
    assert history["messages"][1]["edited"]["user"] == "U0BOT"
    assert history["has_more"] is False
    page = client.conversations_history(channel=cid, limit=1)
    assert page["has_more"] is True and page["response_metadata"]["next_cursor"]
    rest = client.conversations_history(
        channel=cid, limit=1, cursor=page["response_metadata"]["next_cursor"]
    )
    assert rest["messages"][0]["ts"] == ts
    assert client.conversations_history(channel=cid, oldest=ts)["messages"][0]["text"] == (
        "update 1"
    )

    info = client.conversations_info(channel=cid, include_num_members=True)
    assert info["channel"]["num_members"] == 3
    client.conversations_setTopic(channel=cid, topic="SEV1 | IC: <@U1>")
    assert fake.channel(cid)["topic"]["value"] == "SEV1 | IC: <@U1>"
    assert fake.channel_by_name("inc-42-db-outage")["id"] == cid
    assert [c.method for c in fake.calls][:2] == ["conversations.create", "conversations.invite"]


def test_channel_name_rules(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("general", members=["U1"])
    for name, error in [
        ("general", "name_taken"),
        ("Bad Name", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
    ]:
        with pytest.raises(SlackApiError) as exc:
            client.conversations_create(name=name)
        assert _error(exc) == error
    assert client.conversations_create(name="x" * 80)["ok"]


def test_unknown_channel_and_membership(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0NOPE00000", text="hi")
    assert _error(exc) == "channel_not_found"
    cid = fake.add_channel("random", members=["U1"])
    fake.manifest = EVERYTHING.without("chat:write.public")  # as Sitrep is installed
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=cid, text="strict by default")
    assert _error(exc) == "not_in_channel"
    client.conversations_join(channel=cid)
    assert client.chat_postMessage(channel=cid, text="joined")["ok"]
    fake.manifest = EVERYTHING  # chat:write.public: any public channel, member or not
    other = fake.add_channel("other", members=["U1"])
    assert client.chat_postMessage(channel=other, text="with chat:write.public")["ok"]
    fake.strict_membership = False
    lenient = fake.add_channel("lenient", members=["U1"])
    assert client.chat_postMessage(channel=lenient, text="only when told")["ok"]


def test_private_channels_and_dms_the_bot_is_not_in_are_invisible(fake: FakeSlack,
                                                                   client: WebClient) -> None:
    secret = fake.add_channel("secret", members=["U1", "U2"], is_private=True)
    dm = fake.add_dm("U1", "U2")
    for channel in (secret, dm):
        for post in (lambda c: client.chat_postMessage(channel=c, text="hi"),
                     lambda c: client.chat_postEphemeral(channel=c, user="U1", text="hi")):
            with pytest.raises(SlackApiError) as exc:
                post(channel)
            assert _error(exc) == "channel_not_found"
    assert client.chat_postMessage(channel="U1", text="a DM of its own works")["ok"]
    url = fake.response_url(dm)  # the command's own response URL still answers there
    assert WebhookClient(url).send(text="INC-1 is open", response_type="in_channel")\
        .status_code == 200
    assert [m["text"] for m in fake.messages(dm)] == ["INC-1 is open"]


def test_users_info(client: WebClient) -> None:
    user = client.users_info(user="U1")["user"]
    assert user["id"] == "U1" and user["name"] == "alice" and user["real_name"] == "Alice Smith"
    assert user["profile"]["display_name"] == "alice"
    assert user["profile"]["image_48"].startswith("https://")
    assert user["tz"] == "UTC" and user["tz_offset"] == 0 and user["tz_label"]
    bob = client.users_info(user="U2")["user"]
    assert bob["tz"] == "America/New_York" and bob["tz_offset"] == -18000
    assert client.users_info(user="U3")["user"]["deleted"] is True
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="U404")
    assert _error(exc) == "user_not_found"
    names = {m["id"] for m in client.users_list()["members"]}
    assert {"U0BOT", "U1", "U2", "U3"} <= names


def test_conversations_open_is_stable(fake: FakeSlack, client: WebClient) -> None:
    first = client.conversations_open(users="U1")["channel"]["id"]
    again = client.conversations_open(users="U1")
    assert first.startswith("D") and again["channel"]["id"] == first
    assert again["already_open"] is True
    assert client.conversations_open(users="U2")["channel"]["id"] != first
    assert fake.dm_channel_id("U1") == first
    posted = client.chat_postMessage(channel="U1", text="you are IC")
    assert posted["channel"] == first
    assert fake.messages(first)[-1]["text"] == "you are IC"
    with pytest.raises(SlackApiError) as exc:
        client.conversations_open(users="U3")
    assert _error(exc) == "user_disabled"  # not account_inactive: that is the caller's token
    with pytest.raises(SlackApiError) as exc:
        client.conversations_open(users="U404")
    assert _error(exc) == "user_not_found"
    # Slack still delivers into a deactivated person's DM (python-slack-sdk issue 1156).
    assert client.chat_postMessage(channel="U3", text="still delivered")["ok"]


def test_invite_several_users_fails_whole_unless_forced(fake: FakeSlack,
                                                        client: WebClient) -> None:
    cid = fake.add_channel("ops", members=["U0BOT", "U1"])
    with pytest.raises(SlackApiError) as exc:
        client.conversations_invite(channel=cid, users="U1,U2,U404")
    assert _error(exc) == "already_in_channel"
    assert [(e["user"], e["error"]) for e in exc.value.response["errors"]] == [
        ("U1", "already_in_channel"), ("U404", "user_not_found")]
    assert fake.members(cid) == ["U0BOT", "U1"]  # nobody was invited
    forced = client.conversations_invite(channel=cid, users="U1,U2,U404", force=True)
    assert forced["ok"] and fake.members(cid) == ["U0BOT", "U1", "U2"]
    assert [e["user"] for e in forced["errors"]] == ["U1", "U404"]
    for users, error in [("U0BOT", "cant_invite_self"), ("U3", "cant_invite"), ("", "no_user")]:
        with pytest.raises(SlackApiError) as exc:
            client.conversations_invite(channel=cid, users=users)
        assert _error(exc) == error


def test_join_takes_an_id_not_a_name(fake: FakeSlack, client: WebClient) -> None:
    cid = fake.add_channel("incidents", members=["U1"])
    for name in ("incidents", "#incidents"):
        with pytest.raises(SlackApiError) as exc:
            client.conversations_join(channel=name)
        assert _error(exc) == "channel_not_found"
    assert client.conversations_join(channel=cid)["channel"]["id"] == cid
    with pytest.raises(SlackApiError) as exc:
        client.conversations_list(limit=1000)
    assert _error(exc) == "invalid_limit"  # "an integer under 1000"


def test_app_configuration_scopes(fake: FakeSlack, client: WebClient) -> None:
    fake.manifest = EVERYTHING.without("pins:write", "chat:write")
    cid = fake.add_channel("ops", members=["U0BOT"])
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=cid, text="hi")
    assert exc.value.response["error"] == "missing_scope"
    assert exc.value.response["needed"] == "chat:write"
    assert "pins:write" not in exc.value.response["provided"].split(",")
    assert fake.messages(cid) == []
    assert client.conversations_info(channel=cid)["ok"]  # what is granted still works
    scopes = client.auth_test().headers["X-OAuth-Scopes"].split(",")
    assert "chat:write" not in scopes and "channels:read" in scopes


def test_app_configuration_public_channels_and_messages_tab(fake: FakeSlack,
                                                            client: WebClient) -> None:
    cid = fake.add_channel("random", members=["U1"])
    fake.manifest = EVERYTHING.without("chat:write.public")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=cid, text="not a member")
    assert _error(exc) == "not_in_channel"
    client.conversations_join(channel=cid)
    assert client.chat_postMessage(channel=cid, text="member now")["ok"]

    fake.manifest = dataclasses.replace(EVERYTHING, messages_tab_enabled=False)
    dm = client.conversations_open(users="U1")["channel"]["id"]  # opening is allowed
    for channel in (dm, "U1"):
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel=channel, text="you have a task")
        assert _error(exc) == "messages_tab_disabled"
    assert fake.messages(dm) == []
    assert client.chat_postMessage(channel=cid, text="channels are fine")["ok"]


def test_the_project_manifest_is_the_default(fake: FakeSlack) -> None:
    project = AppManifest.load()
    assert FakeSlack().manifest == project
    assert project.messages_tab_enabled and "im:write" in project.bot_scopes
    assert AppManifest.from_dict({"oauth_config": {"scopes": {"bot": ["chat:write"]}}}) == (
        AppManifest(bot_scopes=frozenset({"chat:write"})))  # the Messages tab is opt-in


def test_ratelimited_then_retry_succeeds(fake: FakeSlack) -> None:
    client = WebClient(
        token="xoxb-fake",
        base_url=fake.url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake.fail("chat.postMessage", "ratelimited", times=1, retry_after=1)
    cid = fake.add_channel("ops", members=["U0BOT"])
    started = time.monotonic()
    resp = client.chat_postMessage(channel=cid, text="hello")
    assert resp["ok"] and time.monotonic() - started >= 1
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(fake.messages(cid)) == 1


def test_ratelimited_status_and_header(fake: FakeSlack) -> None:
    fake.fail("auth.test", "ratelimited", retry_after=7)
    req = urllib.request.Request(
        fake.url + "auth.test", data=b"", headers={"Authorization": "Bearer xoxb-fake"}
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=5)
    assert exc.value.code == 429 and exc.value.headers["Retry-After"] == "7"
    assert json.loads(exc.value.read()) == {"ok": False, "error": "ratelimited"}


def test_http_500_and_error_codes(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("users.info", "http_500")
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="U1")
    assert exc.value.response.status_code == 500
    assert client.users_info(user="U1")["ok"]  # only the next call failed

    fake.fail("conversations.create", "restricted_action", times=-1)
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc:
            client.conversations_create(name="inc-1")
        assert exc.value.response.status_code == 200 and _error(exc) == "restricted_action"
    fake.clear_failures()
    assert client.conversations_create(name="inc-1")["ok"]
    assert len(fake.calls_to("conversations.create")) == 3


def test_timeout_failure_delays_then_answers(fake: FakeSlack, client: WebClient) -> None:
    fake.timeout_seconds = 0.3
    fake.fail("auth.test", "timeout")
    started = time.monotonic()
    assert client.auth_test()["ok"]
    assert time.monotonic() - started >= 0.3


def test_auth_and_unknown_method(fake: FakeSlack) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=fake.url)
    with pytest.raises(SlackApiError) as exc:
        bad.auth_test()
    assert _error(exc) == "invalid_auth"
    assert fake.calls_to("auth.test")[0].token == "xoxb-wrong"
    good = WebClient(token="xoxb-fake", base_url=fake.url)
    with pytest.raises(SlackApiError) as exc:
        good.api_call("nope.nothing")
    assert _error(exc) == "unknown_method"
    assert fake.calls[-1].method == "nope.nothing"


#: Every Web API method the fake answers; each family module marks its own with ``@answers``.
ANSWERED = (
    "api.test", "auth.test",
    "chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete", "chat.getPermalink",
    "conversations.create", "conversations.invite", "conversations.join", "conversations.leave",
    "conversations.kick", "conversations.info", "conversations.list", "conversations.members",
    "conversations.history", "conversations.replies", "conversations.open",
    "conversations.setTopic", "conversations.setPurpose", "conversations.rename",
    "conversations.archive", "conversations.unarchive",
    "pins.add", "pins.remove", "pins.list", "reactions.add", "reactions.remove", "reactions.get",
    "users.info", "users.list", "users.lookupByEmail",
    "views.open", "views.push", "views.update", "views.publish",
    "files.getUploadURLExternal", "files.completeUploadExternal", "files.info", "files.upload",
)


def test_every_family_answers_its_methods(fake: FakeSlack, client: WebClient) -> None:
    for method in ANSWERED:
        try:
            client.api_call(method, json={})
        except SlackApiError as exc:  # most refuse empty arguments, as Slack does
            assert exc.response["error"] not in ("unknown_method", "fatal_error"), method
    assert [c.method for c in fake.calls] == list(ANSWERED)


def test_two_families_cannot_answer_one_method() -> None:
    class Echo(Workspace):
        @answers("chat.update")
        def _echo(self, args: dict[str, Any]) -> dict[str, Any]:
            return {"ok": True}

    class Clash(Echo, FakeSlack):
        pass

    with pytest.raises(TypeError, match=r"chat\.update is answered by both Chat and Echo"):
        Clash()


def test_form_encoded_args_are_decoded(fake: FakeSlack) -> None:
    cid = fake.add_channel("forms", members=["U0BOT"])
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "hi"}}]
    body = urllib.parse.urlencode(
        {"token": "xoxb-fake", "channel": cid, "text": "hi", "blocks": json.dumps(blocks)}
    ).encode()
    with urllib.request.urlopen(fake.url + "chat.postMessage", data=body, timeout=5) as resp:
        assert json.loads(resp.read())["ok"] is True
    call = fake.calls_to("chat.postMessage")[0]
    assert call.token == "xoxb-fake" and call.args["blocks"] == blocks
    assert "token" not in call.args
    query = urllib.parse.urlencode({"token": "xoxb-fake", "user": "U1"})
    with urllib.request.urlopen(f"{fake.url}users.info?{query}", timeout=5) as resp:
        assert json.loads(resp.read())["user"]["id"] == "U1"


def test_keep_alive_connection(fake: FakeSlack) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    headers = {"Authorization": "Bearer xoxb-fake", "Content-Type": "application/json"}
    for _ in range(3):
        conn.request("POST", "/api/auth.test", body=b"{}", headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Length")
        assert json.loads(resp.read())["ok"] is True
    conn.close()


def test_invalid_blocks(fake: FakeSlack, client: WebClient) -> None:
    cid = fake.add_channel("blocks", members=["U0BOT"])
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=cid, text="t", blocks=too_long)
    assert _error(exc) == "invalid_blocks"
    assert "3000 characters [json-pointer:/blocks/0]" in exc.value.response["errors"][0]
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.postMessage", json={"channel": cid, "blocks": []})
    assert _error(exc) == "no_text"


@pytest.mark.parametrize(("blocks", "pointer"), [
    ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "/blocks/0"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}],
     "/blocks/0/fields/0/text"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}], "/blocks/0"),
    ([{"type": "divider"}] * 51, "/blocks"),
    ([{"type": "actions", "elements": [{"type": "button", "action_id": "a", "value": "v" * 2001,
                                        "text": {"type": "plain_text", "text": "Go"}}]}],
     "/blocks/0"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "pick"}, "accessory": {
        "type": "static_select", "action_id": "s", "options": [
            {"text": {"type": "plain_text", "text": "x" * 76}, "value": "1"}]}}],
     "/blocks/0/accessory/options/0/text/text"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "/blocks/0/text/text"),
    ([{"type": "no_such_block"}], "/blocks/0/type"),
])
def test_block_kit_limits_from_slack_sdk_models_and_by_hand(
        fake: FakeSlack, client: WebClient, blocks: list[dict[str, Any]], pointer: str) -> None:
    cid = fake.add_channel("limits", members=["U0BOT"])
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=cid, text="t", blocks=blocks)
    assert _error(exc) == "invalid_blocks"
    assert any(f"[json-pointer:{pointer}]" in e for e in exc.value.response["errors"]), \
        exc.value.response["errors"]


def test_message_text_limits(fake: FakeSlack, client: WebClient) -> None:
    cid = fake.add_channel("long", members=["U0BOT"])
    posted = client.chat_postMessage(channel=cid, text="x" * 40_000)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=cid, text="x" * 40_001)
    assert _error(exc) == "msg_too_long"
    with pytest.raises(SlackApiError) as exc:
        client.chat_postEphemeral(channel=cid, user="U1", text="x" * 40_001)
    assert _error(exc) == "msg_too_long"
    assert client.chat_update(channel=cid, ts=posted["ts"], text="y" * 4000)["ok"]
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel=cid, ts=posted["ts"], text="y" * 4001)
    assert _error(exc) == "msg_too_long"


def test_threads_permalinks_reactions_pins(fake: FakeSlack, client: WebClient) -> None:
    cid = fake.add_channel("inc-7", members=["U0BOT", "U1"])
    root = fake.user_message(cid, "U1", "db is slow")
    assert root["type"] == "message" and root["user"] == "U1" and root["team"] == "T0001"
    reply = client.chat_postMessage(channel=cid, text="looking", thread_ts=root["ts"])
    human = fake.user_message(cid, "U1", "thanks", thread_ts=root["ts"])
    assert human["thread_ts"] == root["ts"]
    thread = client.conversations_replies(channel=cid, ts=root["ts"])["messages"]
    assert [m["text"] for m in thread] == ["db is slow", "looking", "thanks"]
    assert thread[0]["reply_count"] == 2
    history = client.conversations_history(channel=cid)["messages"]
    assert [m["ts"] for m in history] == [root["ts"]]
    assert len(fake.messages(cid)) == 3

    plain = client.chat_getPermalink(channel=cid, message_ts=root["ts"])["permalink"]
    assert plain == f"https://fake.slack.com/archives/{cid}/p{root['ts'].replace('.', '')}"
    threaded = client.chat_getPermalink(channel=cid, message_ts=reply["ts"])["permalink"]
    assert threaded.endswith(f"?thread_ts={root['ts']}&cid={cid}")

    client.reactions_add(channel=cid, timestamp=root["ts"], name="eyes")
    event = fake.add_reaction(cid, root["ts"], "eyes", "U1")
    assert event["type"] == "reaction_added" and event["item"]["ts"] == root["ts"]
    got = client.reactions_get(channel=cid, timestamp=root["ts"])["message"]["reactions"]
    assert got == [{"name": "eyes", "users": ["U0BOT", "U1"], "count": 2}]
    with pytest.raises(SlackApiError) as exc:
        client.reactions_add(channel=cid, timestamp=root["ts"], name="eyes")
    assert _error(exc) == "already_reacted"

    client.pins_add(channel=cid, timestamp=root["ts"])
    with pytest.raises(SlackApiError) as exc:
        client.pins_add(channel=cid, timestamp=root["ts"])
    assert _error(exc) == "already_pinned"
    client.pins_remove(channel=cid, timestamp=root["ts"])
    with pytest.raises(SlackApiError) as exc:
        client.pins_remove(channel=cid, timestamp=root["ts"])
    assert _error(exc) == "no_pin"

    edited = fake.edit_message(cid, root["ts"], "db is very slow")
    assert edited["edited"]["user"] == "U1"
    fake.delete_message(cid, human["ts"])
    assert (
        client.conversations_replies(channel=cid, ts=root["ts"])["messages"][0]["reply_count"] == 1
    )


def test_views(fake: FakeSlack, client: WebClient) -> None:
    view = {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": "Declare incident"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "What happened?"}}],
    }
    with pytest.raises(SlackApiError) as exc:
        client.api_call("views.open", json={"view": view})
    assert _error(exc) == "invalid_arguments"
    opened = client.views_open(trigger_id="123.456.abc", view=view)["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["callback_id"] == "declare"
    assert fake.calls_to("views.open")[-1].args["view"]["callback_id"] == "declare"
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    assert _error(exc) == "hash_conflict"


def test_files_upload_v2(fake: FakeSlack, client: WebClient) -> None:
    cid = fake.add_channel("inc-9", members=["U0BOT"])
    resp = client.files_upload_v2(
        channel=cid, content="hello", filename="pm.md", initial_comment="Postmortem draft"
    )
    file_id = resp["file"]["id"]
    assert file_id.startswith("F") and resp["files"][0]["name"] == "pm.md"
    assert fake.uploads[file_id] == b"hello"
    assert [c.method for c in fake.calls] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert fake.calls[1].args["files"] == [{"id": file_id, "title": "pm.md"}]
    msg = fake.messages(cid)[-1]
    assert msg["text"] == "Postmortem draft" and msg["files"][0]["id"] == file_id
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(files=[{"id": "F0NEVER0000"}], channel_id=cid)
    assert _error(exc) == "file_not_found"


def test_response_url(fake: FakeSlack) -> None:
    url = fake.response_url()
    assert url.startswith(fake.base + "/response/") and url != fake.response_url()
    resp = WebhookClient(url).send(text="Incident declared", response_type="in_channel")
    assert resp.status_code == 200 and resp.body == "ok"
    assert fake.responses == [
        {"text": "Incident declared", "response_type": "in_channel", "url": url,
         "channel": None}
    ]
    assert fake.calls == []  # response URLs are not Web API calls


def test_response_urls_refuse_what_slack_refuses(fake: FakeSlack) -> None:
    url = fake.response_url()
    bad = WebhookClient(url).send(text="t", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    assert (bad.status_code, bad.body) == (400, "invalid_blocks")
    assert WebhookClient(url).send(text="x" * 40_001).status_code == 400
    assert [r["error"] for r in fake.refused_responses] == ["invalid_blocks", "msg_too_long"]
    for _ in range(5):
        assert WebhookClient(url).send(text="ok").status_code == 200
    assert WebhookClient(url).send(text="a sixth time").status_code == 404
    late = fake.response_url()
    start = fake.now
    fake.now = lambda: start() + 30 * 60 + 1
    assert WebhookClient(late).send(text="half an hour later").status_code == 404
    assert fake.responses[-1]["text"] == "ok"


def test_in_channel_response_lands_in_its_channel(fake: FakeSlack) -> None:
    cid = fake.add_channel("general")
    WebhookClient(fake.response_url(cid)).send(text="for all", response_type="in_channel")
    WebhookClient(fake.response_url(cid)).send(text="only me", response_type="ephemeral")
    assert [m["text"] for m in fake.messages(cid)] == ["for all"]
    assert [r["channel"] for r in fake.responses] == [cid, cid]


def test_wait_for_calls(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    assert len(fake.wait_for_calls("auth.test", timeout=0.5)) == 1
    with pytest.raises(AssertionError) as exc:
        fake.wait_for_calls("chat.postMessage", count=1, timeout=0.2)
    message = str(exc.value)
    assert "chat.postMessage" in message and "auth.test" in message
    assert fake.wait_for(lambda: False, timeout=0.05) is False
    fake.reset_calls()
    assert fake.calls == []


def test_concurrent_posts_get_unique_increasing_ts(fake: FakeSlack, client: WebClient) -> None:
    cid = fake.add_channel("busy", members=["U0BOT"])
    seen: list[str] = []

    def post() -> None:
        for i in range(10):
            seen.append(client.chat_postMessage(channel=cid, text=str(i))["ts"])

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = [m["ts"] for m in fake.messages(cid)]
    assert len(set(seen)) == 40 and sorted(seen) == stored
    assert len(fake.calls_to("chat.postMessage")) == 40


def test_bolt_app_boots_against_fake(fake: FakeSlack, client: WebClient) -> None:
    app = App(client=client, signing_secret="not-used")
    assert app.client.auth_test()["bot_id"] == fake.bot_id
    assert fake.calls_to("auth.test")
