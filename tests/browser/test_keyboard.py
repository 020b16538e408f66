"""Keyboard only: Tab order, a visible focus, the skip link, and Enter on links."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Tab

pytestmark = pytest.mark.browser


def stops(seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Distinct focus stops in order (a date input's day, month and year are one stop)."""
    out: list[dict[str, Any]] = []
    for item in seen:
        key = (item["tag"], item["id"], item["href"], item["text"])
        if not out or (out[-1]["tag"], out[-1]["id"], out[-1]["href"], out[-1]["text"]) != key:
            out.append(item)
    return out


def test_tab_order_skip_link_then_navigation_then_filters_then_results(tab: Tab) -> None:
    tab.visit("/incidents")
    seen = stops(tab.tab_through(18))
    first = seen[0]
    assert first["tag"] == "a" and first["href"] == "#main"
    assert first["text"] == "Skip to content"
    names = [s["text"] if s["tag"] == "a" or s["tag"] == "button" else s["id"] for s in seen]
    nav = names.index("Incidents")
    assert names[nav:nav + 3] == ["Incidents", "Tasks", "Insights"]
    search = names.index("q")
    assert names[search:search + 6] == ["q", "status", "severity", "from", "to", "Filter"]
    assert names[search + 6] == "INC-4"  # then the results, newest first
    assert 0 < nav < search
    assert all(s["in"] == "nav" for s in seen[nav:nav + 3])
    assert all(s["in"] == "main" for s in seen[search:search + 7])
    hidden = [s for s in seen if not s["visible"]]
    assert not hidden, f"focus not visible on {hidden}"
    tab.shot("focused-result")


def test_the_skip_link_shows_when_focused_and_moves_focus_to_main(tab: Tab) -> None:
    page = tab.page
    tab.visit("/incidents")
    skip = page.get_by_role("link", name="Skip to content")
    page.keyboard.press("Tab")
    assert skip.is_visible()
    box = skip.bounding_box()
    assert box is not None and box["width"] > 1 and box["height"] > 1  # not clipped away
    tab.shot("skip-link")
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is the page's own first control
    assert page.evaluate("document.activeElement.id") == "q"


def test_enter_follows_links(tab: Tab) -> None:
    page = tab.page
    tab.visit("/incidents")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Tasks":
            break
    else:
        raise AssertionError("Tab never reached the Tasks link")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == tab.base + "/tasks"
    tab.shot("tasks")
    page.get_by_role("link", name="INC-1").first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == tab.base + "/incidents/INC-1"
    current = page.locator("nav[aria-label=Main] a[aria-current=page]")
    assert current.inner_text() == "Incidents"


@pytest.mark.parametrize("path", ["/incidents", "/incidents/INC-1", "/tasks", "/insights"])
def test_every_page_of_the_layout_starts_with_the_skip_link_and_the_navigation(
        tab: Tab, path: str) -> None:
    tab.visit(path)
    seen = stops(tab.tab_through(6))
    assert seen[0]["href"] == "#main" and seen[0]["visible"], seen[0]
    names = [s["text"] for s in seen if s["in"] == "nav"]
    assert names[:3] == ["Incidents", "Tasks", "Insights"], names
    assert tab.page.locator("main#main").count() == 1  # where the skip link goes
