"""``argos --demo``: a seeded demo database, a local Argos server and simulated agents.

The server and the simulator are child processes (``argos-ingest``, ``argos-agent
simulate``) so the console never imports the server; they are stopped when the console
exits. The console signs in through the server's console API, as a client admin would: the
demo shows the real path. If the server is not installed or does not start, the console
still opens on the demo data (read directly from the database) and says so in the status bar.
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

from argos_core.bootstrap import Services, open_services
from argos_core.demo import DEMO_PASSWORD, DEMO_SUPERADMIN, DemoDatabase, DemoHeartbeat
from argos_desktop.backend.direct import DirectBackend, identity_of
from argos_desktop.backend.remote import ServerUnavailable, connect_remote
from argos_desktop.connection import LOGIN_SOURCE, database_label
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

SIMULATED_AGENTS = 12
SIMULATOR_INTERVAL_S = 10
HEARTBEAT_MS = 30_000
HEALTH_TIMEOUT_S = 60.0  # a first start on a busy machine may migrate and warm up slowly
STOP_GRACE_MS = 3000


@dataclass(frozen=True)
class DemoStart:
    session: ConsoleSession
    database: DemoDatabase
    enrollment_key: str
    # Plays the seeded agents' part (the heartbeat); never the console's way to its data.
    services: Services
    server_port: int = 0  # 0: no local server, the console reads the database directly
    note: str = ""


def sign_in_through_server(database: DemoDatabase, port: int) -> DemoStart:
    """Blocking: wait for the local server, sign in through its console API, issue a key."""
    if not wait_until_healthy(port):
        raise ServerUnavailable(f"The demo's Argos server on port {port} did not start.")
    server_url = f"http://127.0.0.1:{port}"
    backend, identity = connect_remote(server_url, DEMO_SUPERADMIN, DEMO_PASSWORD)
    try:
        key = backend.issue_key(
            database.branch_org_id, expires_in=timedelta(days=1), note="argos --demo simulator"
        )
        services = open_services(database.database_url)
    except BaseException:
        backend.close()
        raise
    session = ConsoleSession(backend, identity, f"Demo · Argos server 127.0.0.1:{port}", server_url)
    return DemoStart(session, database, key.key, services, port)


def open_demo_directly(database: DemoDatabase, note: str = "") -> DemoStart:
    """Blocking: sign in as the demo superadmin straight on the database, issue a key."""
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
    return DemoStart(session, database, key.key, services, note=note)


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
    """Starts and stops the demo's Argos server and simulator; reports what it is doing."""

    note = Signal(str)

    def __init__(self, heartbeat_timer: QTimer | None = None, parent=None):
        super().__init__(parent)
        self._start: DemoStart | None = None
        self.port = 0
        self.ingest: QProcess | None = None
        self.simulator: QProcess | None = None
        self._stopping = False
        self._standing_note = ""
        self._beat_broken = False
        self.heartbeat = heartbeat_timer if heartbeat_timer is not None else QTimer(self)
        self.heartbeat.setInterval(HEARTBEAT_MS)
        self.heartbeat.timeout.connect(self.beat)

    def start_server(self, database: DemoDatabase) -> int:
        """Start ``argos-ingest`` on a free port and return it; 0 when it is not installed."""
        ingest = find_executable("argos-ingest")
        if not ingest:
            return 0
        self.port = free_port()
        where = ["--host", "127.0.0.1", "--port", str(self.port)]
        self.ingest = self._spawn(
            ingest, ["--database-url", database.database_url, *where], "Argos server"
        )
        return self.port

    def attach(self, start: DemoStart) -> None:
        """The console is up: keep the seeded fleet alive, start the simulator if it can."""
        self._start = start
        self.heartbeat.start()
        self.beat()
        if start.note:
            self._say(start.note)
            return
        agent = find_executable("argos-agent")
        if not start.server_port or not agent:
            missing = "argos-ingest" if not start.server_port else "argos-agent"
            self._say(f"Demo: {missing} not installed — showing the seeded fleet only")
            return
        self.simulator = self._spawn(
            agent,
            [
                "simulate",
                "--server",
                f"http://127.0.0.1:{start.server_port}",
                "--branch",
                start.database.branch_org_id,
                "--agents",
                str(SIMULATED_AGENTS),
                "--interval",
                str(SIMULATOR_INTERVAL_S),
            ],
            "agent simulator",
            {"ARGOS_ENROLLMENT_KEY": start.enrollment_key},
        )
        self._say(
            f"Demo: live — signed in through the Argos server on 127.0.0.1:{start.server_port},"
            f" {SIMULATED_AGENTS} simulated agents reporting into branch"
            f" {start.database.branch_org_id}"
        )

    def _say(self, text: str) -> None:
        """The demo's standing note, shown again once a failed heartbeat works again."""
        self._standing_note = text
        self.note.emit(text)

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
        if self._start is None:
            return
        heartbeat = DemoHeartbeat(self._start.services.session_factory)
        run_in_pool(heartbeat.beat, self._beat_worked, self._beat_failed)

    def _beat_worked(self, _reported: int) -> None:
        if self._beat_broken:  # the problem cleared: so does its message
            self._beat_broken = False
            self.note.emit(self._standing_note)

    def _beat_failed(self, exc: BaseException) -> None:
        self._beat_broken = True
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
        if self._start is not None:
            self._start.services.close()
