"""Sign in with Slack in Chromium, through the fake Slack's OpenID Connect provider.

The browser really goes to the fake's authorize page (another origin), which grants for
whoever ``fake.login_as`` names and sends it back to Sitrep's callback; Sitrep checks the
state, the nonce and the ID token, then shows only what that person may see. In the story,
INC-2 is private: its channel's members are lee and alice, not cara.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from bot.sandbox.sandbox import Sandbox
from bot.web.auth import CALLBACK_PATH
from tests.browser.conftest import Tab
from tests.browser.test_pages import listed

pytestmark = pytest.mark.browser


def went_through(tab: Tab) -> list[str]:
    """The paths of every page the browser was sent to, from now on (redirects included)."""
    paths: list[str] = []
    tab.page.on("request", lambda r: paths.append(urlsplit(r.url).path)
                if r.is_navigation_request() else None)
    return paths


def sign_out(tab: Tab) -> None:
    """The nav's Sign out, then the form's button, by keyboard."""
    page = tab.page
    page.get_by_role("link", name="Sign out").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/logout"
    tab.shot("logout-form")
    page.get_by_role("button", name="Sign out").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/signed-out"
    assert "You are signed out" in page.locator("main").inner_text()


def test_a_page_asked_for_signs_in_through_slack_and_comes_back(signin_tab: Tab,
                                                                story: Sandbox) -> None:
    story.fake.login_as("U0CARA")
    paths = went_through(signin_tab)
    signin_tab.visit("/incidents/INC-1")
    assert signin_tab.page.url == signin_tab.base + "/incidents/INC-1"
    assert paths == ["/incidents/INC-1", "/login", "/openid/connect/authorize", CALLBACK_PATH,
                     "/incidents/INC-1"]
    cookie = next(c for c in signin_tab.page.context.cookies()
                  if c["name"] == "sitrep_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expires"] > 0
    assert signin_tab.page.get_by_role("link", name="Sign out").is_visible()


def test_a_private_incident_is_shown_only_to_its_channel_members(signin_tab: Tab,
                                                                 story: Sandbox) -> None:
    story.fake.login_as("U0CARA")
    signin_tab.visit("/incidents")
    assert listed(signin_tab) == ["INC-4", "INC-3", "INC-1"]  # not INC-2
    signin_tab.visit("/incidents/INC-2", status=404)  # as if it did not exist
    signin_tab.visit("/tasks")
    page = signin_tab.page
    page.locator("#mine").focus()  # signed in, the "Only mine" filter is there
    page.keyboard.press("Space")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "mine=1" in page.url
    assert "Add a canary stage to checkout deploys" in page.locator("main").inner_text()
    signin_tab.shot("mine")
    sign_out(signin_tab)
    story.fake.login_as("U0ALICE")  # a member of INC-2's channel
    page.get_by_role("link", name="Sign in with Slack").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == signin_tab.base + "/incidents"
    assert listed(signin_tab) == ["INC-4", "INC-3", "INC-2", "INC-1"]
    signin_tab.visit("/incidents/INC-2")
    assert "Suspicious logins on admin accounts" in page.locator("h1").inner_text()


def test_signed_out_means_slack_is_asked_again(signin_tab: Tab, story: Sandbox) -> None:
    story.fake.login_as("U0LEAD")
    signin_tab.visit("/tasks")
    sign_out(signin_tab)
    story.fake.login_as(None)  # and nobody is signed in to Slack in this browser now
    paths = went_through(signin_tab)
    response = signin_tab.page.goto(signin_tab.base + "/tasks")
    assert response is not None and response.status == 401  # the fake's own refusal
    assert paths[:3] == ["/tasks", "/login", "/openid/connect/authorize"]
    signin_tab.shot("slack-refuses")
    # The browser is on the fake Slack's page now: what it logs there (the 401, the fake's
    # missing icon) is the fake's, not Sitrep's.
    fake = story.fake.base
    signin_tab.console[:] = [m for m in signin_tab.console
                             if not m.location.get("url", "").startswith(fake)]


def test_a_person_of_another_workspace_is_refused(signin_tab: Tab, story: Sandbox) -> None:
    story.fake.login_as("U0EVE", team_id="T0OTHER", name="Eve Outsider")
    response = signin_tab.page.goto(signin_tab.base + "/incidents")
    assert response is not None and response.status == 403
    assert urlsplit(signin_tab.page.url).path == CALLBACK_PATH
    assert signin_tab.page.locator("h1").inner_text() == "Wrong workspace"
    signin_tab.shot("wrong-workspace")
    signin_tab.console[:] = [m for m in signin_tab.console if "status of 403" not in m.text]
