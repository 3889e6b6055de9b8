"""``argos --demo``: a seeded demo database, a local ingest server and simulated agents.

The server and the simulator are child processes (``argos-ingest``, ``argos-agent
simulate``) so the console never imports the server; they are stopped when the console
exits. If either executable is missing the console still opens on the demo data and says
so in the status bar.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from argos_core.bootstrap import Services
from argos_core.console_support import DemoDatabase, demo_heartbeat, open_services, prepare_demo
from argos_core.demo import DEMO_PASSWORD, DEMO_SUPERADMIN
from argos_desktop.backend.direct import DirectBackend, identity_of
from argos_desktop.connection import LOGIN_SOURCE, database_label
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

SIMULATED_AGENTS = 12
SIMULATOR_INTERVAL_S = 10
HEARTBEAT_MS = 30_000
HEALTH_TIMEOUT_S = 20.0
STOP_GRACE_MS = 3000


@dataclass(frozen=True)
class DemoStart:
    session: ConsoleSession
    database: DemoDatabase
    enrollment_key: str
    services: Services


def open_demo(database_url: str | None = None) -> DemoStart:
    """Blocking: prepare the demo database, sign in as the demo superadmin, issue a key."""
    database = prepare_demo(database_url)
    services = open_services(database.database_url)
    try:
        principal = services.users.authenticate(
            DEMO_SUPERADMIN, DEMO_PASSWORD, source=f"{LOGIN_SOURCE} --demo"
        )
        key = services.enrollment.issue_key(
            principal,
            database.branch_org_id,
            expires_in=timedelta(days=1),
            note="argos --demo simulator",
        )
    except BaseException:
        services.close()
        raise
    label = f"Demo · {database_label(database.database_url)}"
    session = ConsoleSession(DirectBackend(services, principal), identity_of(principal), label)
    return DemoStart(session, database, key.key, services)


def find_executable(name: str) -> str | None:
    """The console script beside this interpreter (a venv's bin/) first, then PATH."""
    folder = Path(sys.executable).parent
    for candidate in (folder / name, folder / f"{name}.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(port: int, timeout_s: float = HEALTH_TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    url = f"http://127.0.0.1:{port}/healthz"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if json.loads(response.read() or b"{}").get("status") == "ok":
                    return True
        except (OSError, ValueError, urllib.error.URLError):
            pass
        time.sleep(0.25)
    return False


class DemoProcesses(QObject):
    """Starts and stops the demo's ingest server and simulator; reports what it is doing."""

    note = Signal(str)

    def __init__(self, start: DemoStart, heartbeat_timer: QTimer | None = None, parent=None):
        super().__init__(parent)
        self._start = start
        self.port = 0
        self.ingest: QProcess | None = None
        self.simulator: QProcess | None = None
        self._stopping = False
        self.heartbeat = heartbeat_timer if heartbeat_timer is not None else QTimer(self)
        self.heartbeat.setInterval(HEARTBEAT_MS)
        self.heartbeat.timeout.connect(self.beat)

    def start(self) -> None:
        self.heartbeat.start()
        self.beat()
        ingest = find_executable("argos-ingest")
        agent = find_executable("argos-agent")
        missing = [n for n, p in (("argos-ingest", ingest), ("argos-agent", agent)) if not p]
        if missing:
            self.note.emit(
                f"Demo: {' and '.join(missing)} not installed — showing the seeded fleet only"
            )
            return
        self.port = free_port()
        url = self._start.database.database_url
        self.ingest = self._spawn(
            ingest,
            ["--database-url", url, "--host", "127.0.0.1", "--port", str(self.port)],
            "ingest server",
        )
        self.note.emit(f"Demo: starting the ingest server on 127.0.0.1:{self.port}…")
        port = self.port
        run_in_pool(lambda: wait_until_healthy(port), lambda ok: self._server_ready(ok, agent))

    def _server_ready(self, ok: bool, agent: str) -> None:
        if self._stopping:
            return
        if not ok:
            self.note.emit("Demo: the ingest server did not start — showing the seeded fleet only")
            return
        self.simulator = self._spawn(
            agent,
            [
                "simulate",
                "--server",
                f"http://127.0.0.1:{self.port}",
                "--branch",
                self._start.database.branch_org_id,
                "--agents",
                str(SIMULATED_AGENTS),
                "--interval",
                str(SIMULATOR_INTERVAL_S),
            ],
            "agent simulator",
            {"ARGOS_ENROLLMENT_KEY": self._start.enrollment_key},
        )
        self.note.emit(
            f"Demo: live — ingest server on 127.0.0.1:{self.port}, {SIMULATED_AGENTS} simulated"
            f" agents reporting into branch {self._start.database.branch_org_id}"
        )

    def _spawn(
        self, program: str, args: list[str], what: str, env: dict[str, str] | None = None
    ) -> QProcess:
        """Start a child; secrets go in its environment, not on its (visible) command line."""
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")
        for name, value in (env or {}).items():
            environment.insert(name, value)
        process.setProcessEnvironment(environment)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.ForwardedChannels)
        process.finished.connect(lambda code, _status: self._exited(what, code))
        process.errorOccurred.connect(lambda _error: self._exited(what, -1))
        process.start(program, args)
        return process

    def _exited(self, what: str, code: int) -> None:
        if not self._stopping:
            self.note.emit(f"Demo: the {what} stopped (exit status {code})")

    def beat(self) -> None:
        services = self._start.services
        run_in_pool(lambda: demo_heartbeat(services), lambda _n: None, self._beat_failed)

    def _beat_failed(self, exc: BaseException) -> None:
        self.note.emit(f"Demo: {user_message(exc)}")

    def stop(self) -> None:
        """Stop the children: politely first, then for good."""
        self._stopping = True
        self.heartbeat.stop()
        for process in (self.simulator, self.ingest):
            if process is None or process.state() == QProcess.ProcessState.NotRunning:
                continue
            process.terminate()
            if not process.waitForFinished(STOP_GRACE_MS):
                process.kill()
                process.waitForFinished(STOP_GRACE_MS)
