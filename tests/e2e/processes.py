"""Start ``argos-ingest`` and ``argos-agent`` as real child processes.

Both output streams are drained on threads as the child writes them (a child blocked on a
full stderr pipe would look like a hung agent), and every failed wait says what the child
printed and whether, and how, it ended.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from tests.e2e.support import SECRET

TAIL_LINES = 40


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "ARGOS_SECRET_KEY": SECRET, "PYTHONUNBUFFERED": "1", **extra}
    env.pop("ARGOS_DATABASE_URL", None)
    return env


class ChildProcess:
    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env if env is not None else environment(),
            text=True,
        )
        self.lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._first_line = threading.Event()
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True),
            threading.Thread(
                target=self._read, args=(self.proc.stderr, self.stderr_lines), daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)
            if into is self.lines:
                self._first_line.set()
        if into is self.lines:
            self._first_line.set()

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def report(self) -> str:
        """What a failure message needs: the command, how it ended, the tail of its output."""
        code = self.proc.poll()
        state = "still running" if code is None else f"exited with status {code}"
        out = "".join(self.lines[-TAIL_LINES:]) or "(nothing)\n"
        err = "".join(self.stderr_lines[-TAIL_LINES:]) or "(nothing)\n"
        return f"{' '.join(self.args[2:])}: {state}\n--- stdout\n{out}--- stderr\n{err}"

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait until ``predicate()`` holds; fail at once, with the child's output, if the
        child exits first or the deadline passes."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc.poll() is not None:
                self._join_readers()
                if predicate():
                    return
                raise AssertionError(f"{what}: the child ended first\n{self.report()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout:.0f} s\n{self.report()}")
            time.sleep(0.05)

    def first_line(self, timeout: float = 30) -> str:
        assert self._first_line.wait(timeout), f"the process printed nothing\n{self.report()}"
        return self.lines[0] if self.lines else ""

    def terminate(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.wait(timeout)

    def wait(self, timeout: float = 20) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"did not exit within {timeout} s\n{self.report()}") from exc
        self._join_readers()
        return code

    def _join_readers(self) -> None:
        for reader in self._readers:
            reader.join(10)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._join_readers()


def ingest(*args: str, env: dict[str, str] | None = None) -> ChildProcess:
    return ChildProcess([sys.executable, "-m", "ingest_server.main", *args], env)


def agent(*args: str, env: dict[str, str] | None = None) -> ChildProcess:
    return ChildProcess([sys.executable, "-m", "argos_agent.main", *args], env)


def listening_url(line: str) -> str:
    assert "listening on http://" in line, line
    return line.split("listening on ")[1].split()[0]
