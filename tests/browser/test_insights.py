"""/insights in Chromium, on the demo's story (all four incidents start in March 2026).

INC-1 is the only one with a detection time and an end: detected after 13 minutes,
resolved after 37. Each chart is an inline SVG image with its own title, and its numbers
are in a table beside it.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import Tab

pytestmark = pytest.mark.browser

SECTIONS = ["Incidents per week", "Incidents per month", "Time to detect", "Time to resolve",
            "Postmortems published on time", "Overdue tasks"]


def row(tab: Tab, table: str, label: str) -> list[str]:
    """The cells of the row headed ``label`` in table ``#table``."""
    found = tab.page.locator(f"#{table} tbody tr", has=tab.page.locator("th", has_text=label))
    return [c.strip() for c in found.first.locator("th, td").all_inner_texts()]


def test_insights_charts_and_their_numbers(tab: Tab) -> None:
    page = tab.page
    tab.visit("/insights")
    assert page.locator("h1").inner_text() == "Insights"
    assert page.locator("h2").all_inner_texts()[:len(SECTIONS)] == SECTIONS
    charts = page.locator("main svg[role=img]")
    assert charts.count() >= 5
    for i in range(charts.count()):
        chart = charts.nth(i)
        labelled = chart.get_attribute("aria-labelledby") or ""
        title = page.locator(f"[id='{labelled.split()[0]}']")
        assert title.count() == 1 and (title.text_content() or "").strip(), f"chart {i}: no title"
        assert chart.bounding_box() is not None  # drawn, not hidden
    month = row(tab, "table-monthly", "2026")
    assert month[-1] == "4"  # INC-1 to INC-4, all in March 2026
    detect, resolve = row(tab, "table-detect", "2026"), row(tab, "table-resolve", "2026")
    assert detect[1:] == ["1", "13m", "13m"], detect
    assert resolve[1:] == ["1", "37m", "37m"], resolve


def test_insights_fit_a_phone(phone: Tab) -> None:
    phone.visit("/insights")
    assert phone.horizontal_overflow() == 0
    charts = phone.page.locator("main svg[role=img]")
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375 + 0.5
