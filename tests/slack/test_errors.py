"""Reading Slack's error codes: whose problem each is (``bot.slack.errors``, pure)."""

from __future__ import annotations

import pytest

from bot.slack import errors
from bot.slack.errors import Kind


@pytest.mark.parametrize("code", ["account_inactive", "invalid_auth", "token_revoked",
                                  "token_expired", "not_authed", "not_allowed_token_type",
                                  "team_access_not_granted", "ekm_access_denied"])
def test_token_and_installation_errors_are_the_apps_never_a_persons(code: str) -> None:
    assert errors.classify(code) is Kind.TOKEN
    assert errors.is_app_problem(code) and not errors.person_gone(code)
    assert "SLACK_BOT_TOKEN" in errors.explain(code)


def test_scopes_and_the_messages_tab_are_the_apps_too() -> None:
    assert errors.classify("missing_scope") is Kind.SCOPE
    assert errors.classify("messages_tab_disabled") is Kind.DMS_OFF
    assert all(errors.is_app_problem(c) for c in ("missing_scope", "messages_tab_disabled"))
    assert "`im:write`" in errors.explain("missing_scope", "conversations.open", "im:write")
    assert "Messages Tab" in errors.explain("messages_tab_disabled")


@pytest.mark.parametrize("code", ["user_not_found", "user_disabled", "user_not_visible",
                                  "cannot_dm_bot"])
def test_only_these_mean_the_person_is_gone(code: str) -> None:
    assert errors.person_gone(code) and not errors.is_app_problem(code)


@pytest.mark.parametrize("code", ["ratelimited", "internal_error", "fatal_error",
                                  "service_unavailable", "request_timeout"])
def test_slack_struggling_is_transient(code: str) -> None:
    assert errors.classify(code) is Kind.TRANSIENT


@pytest.mark.parametrize("code", ["channel_not_found", "invalid_blocks", "msg_too_long",
                                  "is_archived", "restricted_action", "", "brand_new_error"])
def test_everything_else_is_other_and_blames_no_one(code: str) -> None:
    assert errors.classify(code) is Kind.OTHER
    assert not errors.person_gone(code) and not errors.is_app_problem(code)


def test_the_sets_do_not_overlap() -> None:
    sets = [errors.TOKEN_ERRORS, errors.SCOPE_ERRORS, errors.DMS_OFF_ERRORS,
            errors.PERSON_GONE_ERRORS, errors.TRANSIENT_ERRORS]
    assert sum(len(s) for s in sets) == len(set().union(*sets))

