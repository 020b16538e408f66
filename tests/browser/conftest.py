"""The browser tests' harness: a real Sitrep, its web view, and headless Chromium.

- ``story``: a sandbox (fake Slack, database, the real bot) in which the demo's story has
  been played, once per session: INC-1 resolved with its postmortem published and tasks,
  INC-2 private, INC-3 open and nudged, and INC-4 with a hostile title.
- ``site``: that sandbox's web view (``bot.web.app.create_app``) served by waitress on a free
  loopback port, with ``WEB_AUTH=none``; ``signin_site``: the same behind Sign in with Slack,
  through the fake Slack's OpenID Connect provider.
- ``browser``: Debian's Chromium (``/usr/bin/chromium``), headless, driven by Playwright.
  Without it these tests are skipped, except with ``CI=true`` (``.ci/run``), where they fail.
- ``tab``: a fresh browser context on a site. It records every console message and page
  error (a test fails on any console error: a Content Security Policy violation, a missing
  stylesheet, markup the browser had to reject), and screenshots every page it visits into
  ``test-artifacts/screenshots/`` at the top of the checkout (kept; gitignored).
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.common.clock import FixedClock
from bot.sandbox.demo import STORY_START, play
from bot.sandbox.fakeslack.manifest import AppManifest
from bot.sandbox.sandbox import Sandbox
from bot.web.app import create_app
from bot.web.auth import CALLBACK_PATH
from bot.web.serve import WebServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
#: Where every page's screenshot is kept (``SCREENSHOTS_DIR`` overrides it).
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or ROOT / "test-artifacts" / "screenshots")
#: A laptop, and a phone (CSS pixels).
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 667}
#: Every screenshot this session took.
_TAKEN: list[Path] = []
#: The hostile title of INC-4: were it ever markup, the browser would run or fetch something,
#: which the Content Security Policy refuses with a console error.
HOSTILE_TITLE = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>{{7*7}}"


def _chromium_or_skip() -> None:
    """Skip without Chromium or Playwright, except with ``CI=true``: there, fail."""
    missing = None
    if not os.access(CHROMIUM, os.X_OK):
        missing = f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is missing (pip install -e '.[dev]')"
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests must run in CI: {missing}", pytrace=False)
    pytest.skip(f"browser tests skipped: {missing}")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The kept screenshots folder, emptied once per session."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the browser tests, closed when they end: Playwright's sync API runs
    an event loop in the calling thread while it lives, and a later test's ``asyncio.run``
    would find it running."""
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def signin_view() -> Iterator[WebServer]:
    """The port of the web view that signs people in with Slack, bound before the story:
    the app's settings in Slack (the fake's manifest) must name its callback URL."""
    web = WebServer(None, "127.0.0.1", 0)
    yield web
    web.stop()


@pytest.fixture(scope="session")
def story(tmp_path_factory: pytest.TempPathFactory,
          signin_view: WebServer) -> Iterator[Sandbox]:
    """The demo's story, replayed once on SQLite, plus an incident with a hostile title."""
    _chromium_or_skip()  # no story to play for tests that will not run
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'story.db'}"
    manifest = AppManifest.load().redirecting_to(signin_view.url + CALLBACK_PATH)
    with Sandbox(url, clock=FixedClock(STORY_START), seed=2026, web_auth="none",
                 host="127.0.0.1", manifest=manifest) as sb:
        demo = play(sb, io.StringIO())
        demo.command("U0BOB", f"start sev3 {HOSTILE_TITLE}", channel=sb.general)
        sb.incident_channel(4)
        demo.settle()
        yield sb


def serve(sb: Sandbox, **settings: Any) -> WebServer:
    """``sb``'s web view with ``settings`` changed, on a free loopback port."""
    deps = dataclasses.replace(sb.deps, settings=dataclasses.replace(sb.settings, **settings))
    return WebServer(deps, "127.0.0.1", 0).start()


@pytest.fixture(scope="session")
def site(story: Sandbox) -> Iterator[str]:
    """The web view of the story with ``WEB_AUTH=none``: its base URL."""
    web = serve(story, web_auth="none")
    yield web.url
    web.stop()


@pytest.fixture(scope="session")
def signin_site(story: Sandbox, signin_view: WebServer) -> str:
    """The web view of the story behind Sign in with Slack (through the fake's OpenID
    Connect provider): its base URL. ``story.fake.login_as`` says who is at the browser."""
    deps = dataclasses.replace(story.deps, settings=dataclasses.replace(
        story.settings, web_auth="slack", client_id=story.fake.client_id,
        client_secret=story.fake.client_secret, web_secret_key="browser-tests-" + "k" * 32))
    signin_view.serve(create_app(deps)).start()
    return signin_view.url


class Tab:
    """One browser page on a site: visits paths, records the console, keeps screenshots."""

    def __init__(self, page: Page, base: str, name: str, folder: Path) -> None:
        self.page = page
        self.base = base
        self.name = name
        self.folder = folder
        self.console: list[ConsoleMessage] = []
        self.page_errors: list[str] = []
        self.shots: list[Path] = []
        self._shot_url = ""
        page.on("console", lambda message: self.console.append(message))
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def visit(self, path: str, status: int = 200) -> Response:
        """Open ``base + path``, check the final answer's status, screenshot the page."""
        response = self.page.goto(self.base + path)
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"GET {path}: {response.status} {response.url}"
        if status >= 400:  # the browser logs the status it was told to expect: not an error
            self.console[:] = [m for m in self.console if not (
                m.location.get("url") == response.url and f"status of {status}" in m.text)]
        self.shot(path)
        return response

    def shot(self, label: str = "") -> Path:
        """Save a full-page screenshot: ``<test>--<n>-<label>.png``."""
        slug = re.sub(r"[^A-Za-z0-9]+", "-", label or self.page.url.split("//", 1)[-1])
        path = self.folder / f"{self.name}--{len(self.shots) + 1:02d}-{slug.strip('-')}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self._shot_url = self.page.url
        self.shots.append(path)
        _TAKEN.append(path)
        return path

    @property
    def errors(self) -> list[str]:
        """Console errors and uncaught page errors so far."""
        return [f"console {m.type}: {m.text} ({m.location.get('url', '')})"
                for m in self.console if m.type == "error"] + \
            [f"page error: {e}" for e in self.page_errors]

    def focused(self) -> dict[str, Any]:
        """What has the keyboard focus: tag, text, href, whether it shows focus, landmark."""
        return self.page.evaluate("""() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            const shows = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0
                || style.boxShadow !== 'none';
            return {tag: el.tagName.toLowerCase(),
                    text: (el.innerText || el.value || '').trim().slice(0, 80),
                    href: el.getAttribute('href'), name: el.getAttribute('name'),
                    id: el.id, visible: el.matches(':focus-visible') && shows,
                    in: el.closest('nav') ? 'nav' : el.closest('main') ? 'main'
                        : el.closest('header') ? 'header' : 'other'};
        }""")

    def tab_through(self, count: int) -> list[dict[str, Any]]:
        """Press Tab ``count`` times; what had the focus after each press."""
        seen = []
        for _ in range(count):
            self.page.keyboard.press("Tab")
            seen.append(self.focused())
        return seen

    def horizontal_overflow(self) -> int:
        """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
        return int(self.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def _test_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")


def open_tab(browser: Browser, base: str, request: pytest.FixtureRequest, folder: Path,
             viewport: dict[str, int]) -> Iterator[Tab]:
    """A fresh context (no cookies), fails the test on console errors, keeps screenshots."""
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="UTC",
                                  reduced_motion="reduce")
    context.set_default_timeout(10_000)
    tab = Tab(context.new_page(), base, _test_name(request), folder)
    try:
        yield tab
        if tab.page.url not in ("about:blank", tab._shot_url):  # where the test ended
            tab.shot("end")
        assert not tab.errors, "\n".join(tab.errors)
    finally:
        context.close()


@pytest.fixture
def tab(browser: Browser, site: str, request: pytest.FixtureRequest,
        screenshots: Path) -> Iterator[Tab]:
    """A laptop-sized page on the ``WEB_AUTH=none`` site."""
    yield from open_tab(browser, site, request, screenshots, LAPTOP)


@pytest.fixture
def signin_tab(browser: Browser, signin_site: str, request: pytest.FixtureRequest,
               screenshots: Path) -> Iterator[Tab]:
    """A laptop-sized page on the site behind Sign in with Slack, signed out."""
    yield from open_tab(browser, signin_site, request, screenshots, LAPTOP)


@pytest.fixture
def phone(browser: Browser, site: str, request: pytest.FixtureRequest,
          screenshots: Path) -> Iterator[Tab]:
    """A phone-sized page on the ``WEB_AUTH=none`` site."""
    yield from open_tab(browser, site, request, screenshots, PHONE)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots are, when this session took any."""
    if _TAKEN:
        terminalreporter.write_line(f"browser tests: {len(_TAKEN)} screenshots kept in "
                                    f"{SCREENSHOTS}")

