"""Every page of the web view in Chromium, on the demo's story, with ``WEB_AUTH=none``.

The story (tests/browser/conftest.py): INC-1 resolved with its postmortem published and two
tasks (bob's done, cara's open), INC-2 private, INC-3 open, INC-4 with a hostile title.
With ``WEB_AUTH=none`` the local developer sees every incident, the private one included.
Each test fails on any console error, and leaves its screenshots in test-artifacts/.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import HOSTILE_TITLE, Tab

pytestmark = pytest.mark.browser

#: Every page with data, as a person reaches it.
PAGES = ["/incidents", "/incidents/INC-1", "/incidents/INC-1/postmortem",
         "/incidents/INC-1/postmortem/1", "/tasks", "/insights"]


def listed(tab: Tab) -> list[str]:
    """The incidents the list shows, in order."""
    return tab.page.locator("table.list tbody tr th a").all_inner_texts()


def test_home_is_the_incident_list_newest_first(tab: Tab) -> None:
    tab.visit("/")
    assert tab.page.url == tab.base + "/incidents"
    assert tab.page.locator("h1").inner_text() == "Incidents"
    assert listed(tab) == ["INC-4", "INC-3", "INC-2", "INC-1"]
    row = tab.page.locator("tbody tr", has_text="INC-1")
    assert "Checkout is failing" in row.inner_text() and "resolved" in row.inner_text()
    assert "Private" in tab.page.locator("tbody tr", has_text="INC-2").inner_text()


def test_a_hostile_title_is_text_everywhere(tab: Tab) -> None:
    """Were it markup, a script or an image would be refused by the policy: a console error."""
    tab.visit("/incidents")
    cell = tab.page.locator("tbody tr", has_text="INC-4").locator("td").first
    assert cell.inner_text().strip() == HOSTILE_TITLE
    assert tab.page.locator("main script, main img").count() == 0
    tab.visit("/incidents/INC-4")
    assert HOSTILE_TITLE in tab.page.locator("h1").inner_text()
    assert HOSTILE_TITLE in tab.page.title()
    assert "49" not in tab.page.locator("h1").inner_text()  # {{7*7}} was not evaluated


def test_search_by_keyboard_then_clear(tab: Tab) -> None:
    tab.visit("/incidents")
    tab.page.locator("#q").focus()
    tab.page.keyboard.type("checkout")
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")  # submits the form
    assert "q=checkout" in tab.page.url
    assert listed(tab) == ["INC-1"]
    tab.shot("searched")
    clear = tab.page.get_by_role("link", name="Clear filters")
    clear.focus()
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")
    assert tab.page.url == tab.base + "/incidents"
    assert listed(tab) == ["INC-4", "INC-3", "INC-2", "INC-1"]


def test_status_picked_with_the_keyboard(tab: Tab) -> None:
    tab.visit("/incidents")
    status = tab.page.locator("#status")
    status.focus()
    tab.page.keyboard.press("ArrowDown")  # Any → Open (not resolved)
    assert status.input_value() == "open"
    tab.page.locator("button[type=submit]").focus()
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")
    assert "status=open" in tab.page.url
    assert listed(tab) == ["INC-4", "INC-3", "INC-2"]
    assert tab.page.locator("#status").input_value() == "open"  # the form keeps the filter
    tab.shot("open")


def test_severity_and_date_range(tab: Tab) -> None:
    page = tab.page
    tab.visit("/incidents?severity=sev1")
    assert listed(tab) == ["INC-3", "INC-2"]
    page.locator("#severity").select_option("")
    page.locator("#from").fill("2026-03-11")
    page.locator("#to").fill("2026-03-11")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert listed(tab) == ["INC-1"]
    tab.shot("range")
    page.locator("#q").fill("no such words anywhere")
    with page.expect_navigation():
        page.locator("#q").press("Enter")
    assert listed(tab) == []
    assert "No incidents match." in page.locator("main").inner_text()


def test_an_incident_page_has_its_facts_timeline_tasks_and_postmortem(tab: Tab) -> None:
    page = tab.page
    tab.visit("/incidents/INC-1")
    assert re.search(r"INC-1\s+Checkout is failing", page.locator("h1").inner_text())
    main = page.locator("main").inner_text()
    for fact in ("Connection pool exhausted after the 09:02 deploy", "Time to detect",
                 "13m", "37m", "Rolled back the deploy and raised the pool limit",
                 "Add a canary stage to checkout deploys",
                 "Practise rollbacks in a quarterly game day"):
        assert fact in main, fact
    # Pinned messages link back into Slack, a thread reply with its thread.
    links = page.locator("a.permalink")
    assert links.count() == 3
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(3)]
    assert all(h.startswith("https://") and "/archives/" in h for h in hrefs)
    assert "thread_ts=" in hrefs[2]
    latest = page.get_by_role("link", name=re.compile("latest postmortem"))
    latest.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == tab.base + "/incidents/INC-1/postmortem"
    tab.shot("postmortem")


def test_the_postmortem_latest_a_stable_version_and_print(tab: Tab) -> None:
    page = tab.page
    tab.visit("/incidents/INC-1/postmortem")
    text = page.locator("body").inner_text()
    for heading in ("Issue Summary", "Timeline", "Root Cause and Resolution",
                    "Corrective and Preventative Measures"):
        assert heading in text
    assert "Time to detect: 13m" in text and "Time to resolve: 37m" in text
    tab.visit("/incidents/INC-1/postmortem/1")
    assert page.locator("body").inner_text() == text
    page.emulate_media(media="print")
    tab.shot("print")
    pdf = tab.folder / f"{tab.name}.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    page.emulate_media(media="screen")


def test_a_missing_incident_is_a_page_not_an_error(tab: Tab) -> None:
    tab.visit("/incidents/INC-99", status=404)
    assert "INC-99" in tab.page.locator("main").inner_text()


def test_open_tasks_by_owner_and_the_overdue_filter_by_keyboard(tab: Tab) -> None:
    page = tab.page
    tab.visit("/tasks")
    main = page.locator("main").inner_text()
    assert "Add a canary stage to checkout deploys" in main  # cara's, open
    assert "Alert when the DB pool is 80% used" not in main  # bob's, done
    assert page.locator("h2").all_inner_texts()[0].startswith("cara")
    assert page.locator("#mine").count() == 0  # nobody is signed in with WEB_AUTH=none
    page.locator("#overdue").focus()
    page.keyboard.press("Space")
    assert page.locator("#overdue").is_checked()
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "overdue=1" in page.url
    assert "No open tasks match." in page.locator("main").inner_text()  # no due date


@pytest.mark.parametrize("path", PAGES)
def test_every_page_fits_a_phone(phone: Tab, path: str) -> None:
    phone.visit(path)
    assert phone.horizontal_overflow() == 0, f"{path} scrolls sideways on a phone"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_title_a_heading_a_language_and_an_icon(tab: Tab, path: str) -> None:
    tab.visit(path)
    assert tab.page.title().strip()
    assert tab.page.locator("h1").count() == 1
    assert tab.page.locator("html").get_attribute("lang") == "en"
    # Without one, Chromium asks for /favicon.ico (once per browser, so a 404 would fail
    # whichever test came first) and logs its 404 as a console error.
    icon = tab.page.locator("link[rel~=icon]").count() > 0
    served = icon or tab.page.request.get(tab.base + "/favicon.ico").ok
    assert served, "no <link rel=icon> and no /favicon.ico: browsers log a 404 on the console"
