"""``incident-bot postmortem INC-7 [--format md|html] [-o FILE] [--team T]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from storage import incidents
from storage.db import Database
from tests.postmortem.fixtures import at, seed_realistic

GOLDEN = Path(__file__).resolve().parent / "golden" / "postmortem.md"


@pytest.fixture
def env(db: Database, database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings from the environment (no .env: run from an empty directory)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("INCIDENT_TIMEZONE", "Europe/Paris")
    monkeypatch.delenv("TEMPLATES_DIR", raising=False)
    seed_realistic(db)
    return tmp_path


def without_draft_line(text: str) -> list[str]:
    """The golden file, but for the line that says when it was compiled (now, here)."""
    return [line for line in text.splitlines() if not line.startswith("_Draft compiled on")]


def test_writes_markdown_to_stdout(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["postmortem", "INC-7"]) == 0
    out, err = capsys.readouterr()
    assert without_draft_line(out) == without_draft_line(GOLDEN.read_text())
    assert "still missing: T-3 has no due date" in err


def test_writes_html_to_a_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = env / "inc-7.html"
    assert main(["postmortem", "7", "--format", "html", "-o", str(target)]) == 0
    html = target.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<h2>Timeline</h2>" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert f"wrote INC-7 postmortem to {target}" in capsys.readouterr().err


def test_custom_template_dir_and_a_broken_template(
        env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    custom = env / "templates"
    custom.mkdir()
    monkeypatch.setenv("TEMPLATES_DIR", str(custom))
    (custom / "postmortem.md.j2").write_text("{{ pm.ref }} led by {{ pm.lead }}\n")
    assert main(["postmortem", "INC-7"]) == 0
    assert capsys.readouterr().out == "INC-7 led by alice\n"
    (custom / "postmortem.md.j2").write_text("{{ pm.ref }\n")
    assert main(["postmortem", "INC-7"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("# INC-7 Postmortem")
    assert "warning: your template postmortem.md.j2 in TEMPLATES_DIR failed (line 1:" in err


def test_unknown_incident_and_several_workspaces(
        env: Path, db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["postmortem", "INC-99"]) == 1
    assert "There is no incident INC-99" in capsys.readouterr().err
    assert main(["postmortem", "last-week"]) == 1
    assert "is not an incident number" in capsys.readouterr().err
    incident_in_another_team(db)
    assert main(["postmortem", "INC-7"]) == 1
    assert "several workspaces; say which one with --team" in capsys.readouterr().err
    assert main(["postmortem", "INC-7", "--team", "T0001"]) == 0
    assert capsys.readouterr().out.startswith("# INC-7 Postmortem")


def incident_in_another_team(db: Database) -> None:
    with db.session() as s:
        incidents.create(s, team_id="T0OTHER", now=at(0), title="Elsewhere", severity="sev3",
                         status="investigating", created_by="U0X", started_at=at(0))
