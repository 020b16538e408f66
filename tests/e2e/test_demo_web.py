"""``incident-bot demo --web`` as a real process: the story, its web view, a clean stop."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from tests.support import processes

URL_LINE = re.compile(r"The web view of this story: (http://127\.0\.0\.1:\d+)/ ")


class Output:
    """A process's stdout and stderr, read in threads as they come (no pipe fills up)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.err: list[str] = []
        assert proc.stdout is not None and proc.stderr is not None
        self._threads = [threading.Thread(target=self._pump, args=(proc.stdout, self.lines.put),
                                          daemon=True),
                         threading.Thread(target=self._pump, args=(proc.stderr, self.err.append),
                                          daemon=True)]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _pump(stream: IO[str], put: Callable[[str | None], None]) -> None:
        for line in stream:
            put(line)
        put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first stdout line matching ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            found = pattern.search(line)
            if found:
                return found
        raise AssertionError(f"no line like {pattern.pattern!r}:\n" + "".join(self.seen[-20:])
                             + "".join(e for e in self.err[-20:] if e))

    def finish(self) -> tuple[str, str]:
        """All of stdout and stderr, once the process has closed them."""
        for thread in self._threads:
            thread.join(timeout=10)
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.seen.append(line)
        return "".join(self.seen), "".join(e for e in self.err if e)


def _sigterm(proc: subprocess.Popen[str], timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"did not stop within {timeout} s after SIGTERM") from None


def test_demo_web_plays_the_story_then_serves_until_sigterm(tmp_path: Path) -> None:
    port = processes.free_port()
    proc = processes.start("demo", {}, tmp_path, "--web", "--port", str(port))
    output = Output(proc)
    try:
        url = output.wait_for(URL_LINE, timeout=90).group(1)
        assert url == f"http://127.0.0.1:{port}"
        status, body = processes.get(url + "/", timeout=10)  # follows the redirect
        assert status == 200, body[:2000]
        assert "INC-1" in body and "Checkout is failing" in body
        status, body = processes.get(url + "/incidents/INC-1", timeout=10)
        assert status == 200 and "Connection pool exhausted" in body
    finally:
        _sigterm(proc)
    out, err = output.finish()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "== 1. Lee opens an incident from #general" in out  # the story came first
    assert out.rstrip().endswith("Stopped.")


def test_demo_web_refuses_a_port_in_use_before_playing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = processes.start("demo", {}, tmp_path, "--web", "--port", str(port))
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert f"cannot serve the web view on 127.0.0.1:{port}" in err
    assert "Traceback" not in err and out == ""  # nothing played


def test_make_run_without_credentials_ends_in_the_web_demo() -> None:
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "else $(BIN)/incident-bot demo --web; fi" in run
