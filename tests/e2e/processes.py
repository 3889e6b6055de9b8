"""Start ``argos-ingest`` and ``argos-agent`` as real child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from tests.e2e.support import SECRET


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "ARGOS_SECRET_KEY": SECRET, "PYTHONUNBUFFERED": "1", **extra}
    env.pop("ARGOS_DATABASE_URL", None)
    return env


class ChildProcess:
    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env if env is not None else environment(),
            text=True,
        )
        self.lines: list[str] = []
        self._first_line = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        self.stderr = ""

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            self._first_line.set()
        self._first_line.set()

    def first_line(self, timeout: float = 30) -> str:
        assert self._first_line.wait(timeout), "the process printed nothing"
        return self.lines[0] if self.lines else ""

    def terminate(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.wait(timeout)

    def wait(self, timeout: float = 20) -> int:
        code = self.proc.wait(timeout)
        self.stderr = self.proc.stderr.read()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def ingest(*args: str, env: dict[str, str] | None = None) -> ChildProcess:
    return ChildProcess([sys.executable, "-m", "ingest_server.main", *args], env)


def agent(*args: str, env: dict[str, str] | None = None) -> ChildProcess:
    return ChildProcess([sys.executable, "-m", "argos_agent.main", *args], env)


def listening_url(line: str) -> str:
    assert "listening on http://" in line, line
    return line.split("listening on ")[1].split()[0]
