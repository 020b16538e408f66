"""The pages' pure rules: reading filters and cursors, ref parsing, safe links."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.web import rules


def test_filters_are_read_leniently_and_say_what_was_ignored() -> None:
    f = rules.read_filters({"status": ["open", "resolved"], "severity": ["SEV1", "sev9"],
                            "from": ["2024-05-03"], "to": ["2024-05-02"],
                            "q": ["  Pool   pool  exhausted "]})
    assert f.statuses == ("investigating", "identified", "monitoring", "resolved")
    assert f.severities == ("sev1",)
    assert f.query == "Pool pool exhausted" and f.words == ("pool", "exhausted")
    assert any("sev9" in e for e in f.errors) and any("before the start" in e for e in f.errors)
    start, end = f.started_range(ZoneInfo("Europe/Paris"))
    assert start == dt.datetime(2024, 5, 2, 22, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2024, 5, 2, 22, 0, tzinfo=dt.UTC)
    assert rules.read_filters({"q": ["x" * 500]}).query == "x" * rules.MAX_QUERY
    assert len(rules.read_filters({"q": [" ".join("abcdefghijk")]}).words) == rules.MAX_WORDS


def test_cursors_round_trip_and_refuse_garbage() -> None:
    key = (dt.datetime(2024, 5, 3, 21, 0, 0, 123456, tzinfo=dt.UTC), 42)
    assert rules.decode_cursor(rules.encode_cursor(key)) == key
    for raw in ("", "abc", "1.2.3", "9" * 30 + ".1", "99999999999999999999.1"):
        assert rules.decode_cursor(raw) is None
    assert rules.decode_entry_cursor("1714770000000000~1714770000.000100~7") == (
        dt.datetime(2024, 5, 3, 21, 0, tzinfo=dt.UTC), "1714770000.000100", 7)
    assert rules.decode_entry_cursor("1~<script>~7") is None


def test_refs_and_links() -> None:
    assert rules.incident_number("INC-42") == 42
    for ref in ("inc-42", "INC-0", "42", "INC-42x", "INC-" + "9" * 11):
        assert rules.incident_number(ref) is None
    assert rules.safe_link("https://acme.slack.com/archives/C1/p1") is not None
    for url in ("javascript:alert(1)", "http://x", "data:text/html,x", "https://a\" onx=1",
                None):
        assert rules.safe_link(url) is None
