"""``incident-bot web`` and ``incident-bot serve`` with ``WEB_PORT`` as real processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.sandbox.fakeslack import FakeSlack
from storage.db import Database
from tests.postmortem.fixtures import seed_realistic
from tests.support import processes

SECRET = "web-test-secret"


def wait_answering(url: str, proc, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _out, err = proc.communicate()
            raise AssertionError(f"exited with {proc.returncode}:\n{err[-4000:]}")
        try:
            if processes.get(url, timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the web view never answered")


def test_web_serves_the_pages_alone(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    seed_realistic(db)
    db.dispose()
    port = processes.free_port()
    proc = processes.start("web", {"DATABASE_URL": database_url, "WEB_PORT": str(port),
                                   "HOST": "127.0.0.1", "WEB_AUTH": "none",
                                   "LOG_LEVEL": "INFO"}, tmp_path)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_answering(url + "/incidents", proc)
        status, html = processes.get(url + "/incidents/INC-7")
        assert status == 200 and "Checkout is failing &amp; payments time out" in html
        assert processes.get(url + "/static/site.css")[0] == 200
    finally:
        _out, err = processes.stop(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert f"Sitrep web view on http://127.0.0.1:{port} (GET /incidents)" in err
    assert err.rstrip().endswith("stopped")


def test_serve_with_web_port_serves_slack_and_the_pages(database_url: str,
                                                        tmp_path: Path) -> None:
    with FakeSlack(bot_token="xoxb-fake") as fake:
        port, web_port = processes.free_port(), processes.free_port()
        proc = processes.start("serve", {
            "SLACK_BOT_TOKEN": "xoxb-fake", "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.url, "DATABASE_URL": database_url, "PORT": str(port),
            "WEB_PORT": str(web_port), "HOST": "127.0.0.1", "WEB_AUTH": "none",
            "LOG_LEVEL": "INFO"}, tmp_path)
        try:
            processes.wait_healthy(f"http://127.0.0.1:{port}", proc)
            web = f"http://127.0.0.1:{web_port}"
            wait_answering(web + "/incidents", proc)
            assert "No incidents yet" in processes.get(web + "/incidents")[1]
            assert processes.get(f"http://127.0.0.1:{port}/incidents")[0] == 404
        finally:
            _out, err = processes.stop(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert f"web view on http://127.0.0.1:{web_port} (GET /incidents)" in err
    assert err.rstrip().endswith("bot.lifecycle: stopped")


@pytest.mark.parametrize("command", ["web", "serve"])
def test_the_web_view_without_its_sign_in_settings_stops_start_up_with_one_line(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bot import cli

    for name in ("WEB_SECRET_KEY", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "WEB_AUTH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                        "WEB_PORT": "3999", "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"
                        }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    assert cli.main([command]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if "WEB_SECRET_KEY" in line] == [
        "incident-bot: configuration error: WEB_SECRET_KEY is not set: the web view signs "
        "people in with Slack "
        "(WEB_AUTH=slack; see README: Sign in with Slack)"]
