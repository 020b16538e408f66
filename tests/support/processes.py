"""Run ``incident-bot`` as a real process, as an operator does: free ports, health, stopping."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """``python -m bot.cli <command>`` with ``env`` on top of this environment."""
    return subprocess.Popen([sys.executable, "-m", "bot.cli", command],
                            env={**os.environ, **env}, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def get(url: str, timeout: float = 2) -> tuple[int, str]:
    """Status and body of ``GET url`` (an HTTP error status is returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    """Wait for ``GET url/healthz`` to answer 200 (fails if the process exits first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _out, err = proc.communicate()
            raise AssertionError(f"exited with {proc.returncode} before becoming healthy:\n"
                                 f"{err[-4000:]}")
        try:
            if get(url + "/healthz", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("never became healthy")


def stop(proc: subprocess.Popen[str], timeout: float = 30) -> tuple[str, str]:
    """SIGTERM, as an orchestrator sends; returns (stdout, stderr) once it has exited."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
        raise AssertionError(f"did not stop within {timeout} s after SIGTERM:\n{err}") from None
