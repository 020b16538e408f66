"""The rules of status updates: parsing, when the next is due, what the form may choose."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.common.errors import UserError
from bot.incidents.rules import NO_FURTHER, next_update_due
from bot.settings import DEFAULT_UPDATE_EVERY
from bot.updates import rules
from bot.updates.rules import Draft, check_next, parse, parse_choice

NOW = dt.datetime(2026, 3, 12, 15, 4, tzinfo=dt.UTC)
EVERY = DEFAULT_UPDATE_EVERY  # sev1=30m, sev2=1h, sev3=4h, no sev4
H, M = dt.timedelta(hours=1), dt.timedelta(minutes=1)


@pytest.mark.parametrize(("typed", "draft"), [
    ("identified Bad deploy found", Draft("identified", "Bad deploy found")),
    ("Resolved: logins work again", Draft("resolved", "logins work again")),
    ("MONITORING, errors at baseline", Draft("monitoring", "errors at baseline")),
    ("monitoring", Draft("monitoring", "")),
    ("investigation ongoing", Draft(None, "investigation ongoing")),  # a word, not a status
    ("ident the cause", Draft(None, "ident the cause")),  # no prefixes: text is text
    ("Rolling back <@U1|ann> & co", Draft(None, "Rolling back <@U1|ann> & co")),
    ("identified\nline two", Draft("identified", "line two")),
    ("", Draft(None, "")),
])
def test_parse_takes_a_leading_status_word_only(typed: str, draft: Draft) -> None:
    assert parse(typed) == draft


@pytest.mark.parametrize(("status", "severity", "chosen", "due"), [
    ("investigating", "sev1", None, NOW + 30 * M),
    ("identified", "sev2", None, NOW + H),
    ("investigating", "sev3", None, NOW + 4 * H),
    ("investigating", "sev4", None, None),  # UPDATE_EVERY names no interval for sev4
    ("monitoring", "sev1", None, None),  # the fix is out: none expected by default
    ("resolved", "sev1", None, None),
    ("investigating", "sev1", 2 * H, NOW + 2 * H),  # a chosen interval wins
    ("monitoring", "sev2", 15 * M, NOW + 15 * M),  # a promise, kept in monitoring too
    ("investigating", "sev4", H, NOW + H),
    ("resolved", "sev1", H, None),  # resolved expects none, whatever was chosen
    ("monitoring", "sev1", NO_FURTHER, None),
])
def test_next_update_due(status: str, severity: str, chosen: dt.timedelta | str | None,
                         due: dt.datetime | None) -> None:
    assert next_update_due(status, severity, EVERY, NOW, chosen) == due


def test_no_intervals_at_all_means_nothing_is_due() -> None:
    assert next_update_due("investigating", "sev1", {}, NOW) is None


def test_form_choices_include_update_every_values() -> None:
    every = {"sev1": 45 * M, "sev2": H}
    assert [v for v, _ in rules.choices(every)] == ["15m", "30m", "45m", "1h", "2h", "4h"]
    assert rules.default_choice("investigating", "sev1", every) == "45m"
    assert rules.default_choice("monitoring", "sev1", every) == NO_FURTHER
    assert rules.default_choice("identified", "sev3", every) == NO_FURTHER  # none for sev3
    assert rules.label(dt.timedelta(days=1)) == "1d"


@pytest.mark.parametrize(("value", "chosen"), [
    (None, None), ("", None), ("none", NO_FURTHER), ("15m", 15 * M), ("4h", 4 * H),
    ("1d", 24 * H)])
def test_parse_choice(value: str | None, chosen: dt.timedelta | str | None) -> None:
    assert parse_choice(value) == chosen


@pytest.mark.parametrize("forged", ["0m", "soon", "15", "-5m"])
def test_a_forged_choice_is_refused(forged: str) -> None:
    with pytest.raises(UserError):
        parse_choice(forged)


def test_no_further_updates_fits_monitoring_and_resolved_only() -> None:
    assert check_next("investigating", "sev1", EVERY, NO_FURTHER) is not None
    assert check_next("identified", "sev2", EVERY, NO_FURTHER) is not None
    assert check_next("monitoring", "sev1", EVERY, NO_FURTHER) is None
    assert check_next("resolved", "sev1", EVERY, NO_FURTHER) is None
    assert check_next("investigating", "sev4", EVERY, NO_FURTHER) is None  # never nudged
    assert check_next("investigating", "sev1", EVERY, H) is None
