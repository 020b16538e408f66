import pytest

from bot.common.errors import UserError
from bot.incidents.rules import channel_name, normalize_severity, normalize_status, slugify
from bot.incidents.slack import parse_start
from bot.slack.commands import REGISTRY, split


def test_channel_names_are_valid_slack_names() -> None:
    assert channel_name("inc", 42, "Login failures!") == "inc-42-login-failures"
    assert channel_name("inc", 42, "Login failures", attempt=1) == "inc-42-login-failures-2"
    long = channel_name("inc", 12345, "x" * 200, attempt=3)
    assert len(long) == 80 and long.endswith("-4")
    assert channel_name("inc", 7, "🔥🔥") == "inc-7"
    assert slugify("Café <@U1|ann> & DB") == "cafe-ann-db"  # stored as typed
    assert channel_name("inc", 3, "Checkout & login fail for <EU> users") == \
        "inc-3-checkout-login-fail-for-eu-users"


def test_severity_and_status_are_forgiving() -> None:
    assert normalize_severity("SEV1") == normalize_severity("1") == "sev1"
    assert normalize_status("res") == "resolved"
    with pytest.raises(UserError):
        normalize_severity("sev5")
    with pytest.raises(UserError):
        normalize_status("")


def test_parse_start() -> None:
    assert parse_start("sev1 DB down") == ("sev1", "DB down", False)
    assert parse_start("DB down") == ("sev3", "DB down", False)
    assert parse_start("sev2") == ("sev2", "", False)
    assert parse_start("private sev1 Leaked key") == ("sev1", "Leaked key", True)
    assert parse_start("Private Leaked key") == ("sev3", "Leaked key", True)
    # "private" alone is a title, not a flag with nothing after it
    assert parse_start("private") == ("sev3", "private", False)


def test_grammar_and_suggestions() -> None:
    assert split("  Status   Resolved ") == split("status Resolved")
    assert split("") .name == ""
    assert REGISTRY.suggest("stauts") == "status"
    assert REGISTRY.suggest("resovle") == "resolve"
    assert REGISTRY.suggest("zzzz") is None
    assert "/incident start" in REGISTRY.help_text()
