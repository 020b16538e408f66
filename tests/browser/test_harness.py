"""The harness catches what it is there to catch, on the web view's real headers.

A page of the real Flask app (``create_app``: its Content Security Policy and other headers)
with a script in it: Chromium refuses to run it and says so on the console, and that is
what fails a browser test. So a hostile title that ever became markup could not hide.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from bot.sandbox.sandbox import Sandbox
from bot.web.app import create_app
from bot.web.serve import WebServer
from tests.browser.conftest import LAPTOP, Tab, open_tab

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

LAYOUT = ("<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
          "<link rel=icon href=\"data:,\">"
          "</head><body><main><h1>{title}</h1>{body}</main></body></html>")


@pytest.fixture(scope="module")
def lab(story: Sandbox) -> Iterator[str]:
    """The real app with two extra pages: a clean one and one carrying a script."""
    app: Flask = create_app(story.deps)
    app.add_url_rule("/_lab/clean", "lab_clean",
                     lambda: LAYOUT.format(title="Clean", body="<p>Nothing to see.</p>"))
    app.add_url_rule("/_lab/script", "lab_script", lambda: LAYOUT.format(
        title="Scripted", body="<script>document.title = 'ran'</script>"
                               "<p onclick=\"alert(1)\">x</p><img src=x onerror=alert(2)>"))
    web = WebServer(None, "127.0.0.1", 0).serve(app).start()
    yield web.url
    web.stop()


@pytest.fixture
def lab_tab(browser: Browser, lab: str, request: pytest.FixtureRequest,
            screenshots: Path) -> Iterator[Tab]:
    yield from open_tab(browser, lab, request, screenshots, LAPTOP)


def test_a_clean_page_has_no_console_errors_and_is_screenshotted(lab_tab: Tab) -> None:
    lab_tab.visit("/_lab/clean")
    assert lab_tab.page.title() == "Clean"
    assert lab_tab.errors == []
    assert lab_tab.shots and lab_tab.shots[0].stat().st_size > 1000  # a real PNG
    assert lab_tab.shots[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_script_is_refused_by_the_policy_and_reported(lab_tab: Tab) -> None:
    response = lab_tab.visit("/_lab/script")
    assert "script-src" not in response.headers["content-security-policy"]  # none allowed
    assert lab_tab.page.title() == "Scripted"  # the script did not run
    errors = "\n".join(lab_tab.errors)
    assert "Content Security Policy" in errors, errors
    assert len(lab_tab.errors) >= 2  # the <script> and the onerror handler, at least
    lab_tab.console.clear()  # seen: this test's tab must not fail on them
