"""Sitrep as operators install it: a built wheel in a fresh virtual environment.

The suite itself runs from an editable install inside the checkout, where every file of the
source tree is at hand. This test builds the wheel from a copy of the project's own files,
installs it into a new environment outside the checkout and runs ``incident-bot demo`` and
``incident-bot postmortem`` there, so a file the bot reads at run time (a template, an
Alembic script) that the wheel forgot fails here.

No network: the wheel is built with the setuptools of the project's environment
(``--no-build-isolation``), installed with ``--no-deps``, and the fresh environment reaches
the dependencies already installed in the project's environment through a ``.pth`` line
(which adds that directory only: its editable-install hooks are not run, so the only
``bot`` the fresh environment can import is the wheel's).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: What the build reads: the package sources and the files that describe the project.
PROJECT_FILES = ("pyproject.toml", "setup.py", "README.md", "manifest.yml")
PROJECT_DIRS = ("bot", "storage", "templates")

pytestmark = pytest.mark.slow


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 180) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, (f"{args} exited {result.returncode}\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with Sitrep installed from its wheel; returns its bin/."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, src / name)
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
          "--no-build-isolation", "--wheel-dir", dist, src], cwd=tmp)
    wheels = list(dist.glob("sitrep-*.whl"))
    assert len(wheels) == 1, wheels

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    python = venv / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=tmp).stdout.strip()
    # The dependencies, already installed next to this interpreter (no download).
    Path(purelib, "sitrep_test_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
          "--no-index", wheels[0]], cwd=tmp)
    return venv / "bin"


def _env(**extra: str) -> dict[str, str]:
    """The environment minus anything that would point back into the checkout."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "SLACK_", "DATABASE_URL",
                                "TEMPLATES_DIR"))}
    return {**env, **extra}


def test_the_wheel_carries_everything_the_bot_reads(installed: Path, tmp_path: Path) -> None:
    where = _run([installed / "python", "-c",
                  "import bot, storage.db as db, bot.postmortem.templates as t; "
                  "print(bot.__file__); print(db.MIGRATIONS); print(t.builtin_dir())"],
                 cwd=tmp_path, env=_env()).stdout.split()
    venv = installed.parent
    assert all(Path(p).is_relative_to(venv) for p in where), where
    assert not any(Path(p).is_relative_to(ROOT) for p in where)
    assert (Path(where[1]) / "env.py").is_file()
    assert {p.name for p in Path(where[2]).glob("*.j2")} == {
        "postmortem.md.j2", "postmortem.slack.j2", "postmortem.html.j2"}


def test_demo_and_postmortem_run_from_the_installed_wheel(installed: Path,
                                                          tmp_path: Path) -> None:
    cwd = tmp_path / "elsewhere"  # outside the checkout: no templates/ or .env to lean on
    cwd.mkdir()
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    demo = _run([installed / "incident-bot", "demo", "--database-url", database], cwd=cwd,
                env=_env())
    assert "Issue Summary" in demo.stdout and "Traceback" not in demo.stderr
    assert demo.stdout.rstrip().splitlines()[-1].startswith("Done:")

    markdown = _run([installed / "incident-bot", "postmortem", "INC-1"], cwd=cwd,
                    env=_env(DATABASE_URL=database))
    assert markdown.stdout.startswith("# INC-1")
    assert "## Timeline" in markdown.stdout
    page = tmp_path / "inc-1.html"
    _run([installed / "incident-bot", "postmortem", "INC-1", "--format", "html", "-o", page],
         cwd=cwd, env=_env(DATABASE_URL=database))
    assert "<h2>Timeline</h2>" in page.read_text()

    # A fresh database is migrated from the wheel's own Alembic scripts.
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrated = _run([installed / "incident-bot", "migrate"], cwd=cwd, env=_env(DATABASE_URL=fresh))
    assert "up to date" in migrated.stdout
