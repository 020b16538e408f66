""".ci/install-chromium installs Debian's Chromium only when it is missing.

Run against stand-ins for ``apt-get``, ``sudo`` and ``id`` on ``PATH``, so no test touches
the machine's packages; ``CHROMIUM`` points the script at a path that exists or not.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "install-chromium"


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _run(tmp_path: Path, chromium: Path, uid: int = 0,
         apt_status: int = 0) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    _stub(bin_dir, "apt-get",
          f'echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> {log}; exit {apt_status}')
    _stub(bin_dir, "sudo", f'echo "sudo" >> {log}; exec "$@"')
    _stub(bin_dir, "id", f"echo {uid}")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CHROMIUM": str(chromium)}
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=30, check=False)
    return done, log.read_text().splitlines() if log.exists() else []


def test_nothing_is_installed_when_chromium_is_there(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    _stub(tmp_path, "chromium", "exit 0")
    done, calls = _run(tmp_path, chromium)
    assert done.returncode == 0, done.stderr
    assert calls == []


def test_a_missing_chromium_is_installed_with_apt_get(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, tmp_path / "no-chromium")
    assert done.returncode == 0, done.stderr
    assert calls == ["apt-get update -q DEBIAN_FRONTEND=noninteractive",
                     "apt-get install -y -q chromium DEBIAN_FRONTEND=noninteractive"]
    assert "installing Debian's chromium" in done.stderr


def test_not_root_goes_through_sudo(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, tmp_path / "no-chromium", uid=1000)
    assert done.returncode == 0, done.stderr
    assert calls == ["sudo", "apt-get update -q DEBIAN_FRONTEND=noninteractive",
                     "sudo", "apt-get install -y -q chromium DEBIAN_FRONTEND=noninteractive"]


def test_a_failed_install_fails_the_run(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, tmp_path / "no-chromium", apt_status=100)
    assert done.returncode == 100
    assert calls == ["apt-get update -q DEBIAN_FRONTEND=noninteractive"]


def test_ci_run_installs_chromium_before_the_tests() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert lines.index("bash .ci/install-chromium") < lines.index("make test")
    assert "export CI=true" in lines
