"""The benchmark scripts, run as a user runs them with the smallest parameters that still go
through every phase (a smoke run): each must exit 0 and print its figures.

Nothing here looks at the numbers (a benchmark asserts nothing about them, and a smoke run's
would mean nothing); this catches a script that no longer runs, as ``history.py`` did for a
session (a renamed parameter: it passed None where a pace was needed) with nobody noticing.
Each script runs in a session of its own, so a script that hangs is killed with every
server and load generator it started (one it leaves running fails the test), and the tail
of its output is in the failure message.

Scripts that need MariaDB get a database name from ``ARGOS_TEST_MYSQL_URL`` (skipped
without it, failed with ``ARGOS_REQUIRE_MYSQL``, as the suite's ``db_backend`` does): they
create their scratch databases beside it as ``<name>_<hex>``, and every one still there
after the script ended is dropped, and fails the test (the scripts drop their own).
The console's two (``console.py``, over the API only, and ``agent_chart.py``) run offscreen
on SQLite. Not covered: ``galera.py`` and ``galera_drills.py`` need a Galera cluster
(test_galera_drills.py runs the drills).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from argos_core.db import make_engine
from argos_core.demo import seed_demo
from tests.databases import mysql_base_url, scratch_database

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 240
TAIL_LINES = 40
# The benchmarks read these for their defaults; every URL is passed explicitly here.
UNSET = ("ARGOS_DATABASE_URL", "ARGOS_BENCH_DATABASE_URL", "ARGOS_BENCH_MYSQL_URL")

# One after the other on one worker, never beside the Galera drills (their stall limit).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("machine_load")]

# The suite's db_backend fixture, on MariaDB/MySQL only: skipped or failed as every MySQL test.
mysql_only = pytest.mark.parametrize("db_backend", ["mysql"], indirect=True)


# --- running a script ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def scripts_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripts' temporary folders go under the test's own (alerts.py and history.py
    never remove theirs)."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))


def _tail(text: str) -> str:
    return "".join(text.splitlines(keepends=True)[-TAIL_LINES:]) or "(nothing)\n"


def _left_in_group(pgid: int) -> list[str]:
    """The processes of that process group still running (zombies are gone already)."""
    left = []
    for process in psutil.process_iter(["pid", "status", "cmdline"]):
        try:
            if os.getpgid(process.pid) != pgid or process.info["status"] == "zombie":
                continue
        except (ProcessLookupError, psutil.Error):
            continue
        left.append(f"{process.pid}: {' '.join(process.info['cmdline'] or [])[:200]}")
    return left


def run_script(name: str, *args: str, printed: tuple[str, ...], timeout: float = TIMEOUT_S):
    """Run ``benchmarks/<name>`` with ``args`` from the repository's root; fail, with the
    command and the tail of both streams, unless it exits 0 within ``timeout``, printed
    every line of ``printed`` (substrings of stdout) and left no process running."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "QT_QPA_PLATFORM": "offscreen"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    for variable in UNSET:
        env.pop(variable, None)
    command = [sys.executable, f"benchmarks/{name}", *args]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its servers and load generators: one group to kill
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        timed_out, left = False, _left_in_group(proc.pid)
    except subprocess.TimeoutExpired:
        # Still running, or ended while something it started holds its output open.
        timed_out, left = True, []
        ended = "still running" if proc.poll() is None else f"exited {proc.returncode}"
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
    if left:
        os.killpg(proc.pid, signal.SIGKILL)
    how = f"killed after {timeout:g} s ({ended})" if timed_out else f"exit {proc.returncode}"
    report = (
        f"{' '.join(command[1:])}: {how}\n--- stdout\n{_tail(stdout)}--- stderr\n{_tail(stderr)}"
    )
    assert not timed_out and proc.returncode == 0, report
    missing = [line for line in printed if line not in stdout]
    assert not missing, f"not printed: {missing}\n{report}"
    assert not left, f"still running after the script ended: {left}\n{report}"


# --- databases -----------------------------------------------------------------------------


@dataclass
class ScratchName:
    """A database name the scripts create theirs beside (``<name>_<hex>``) on the suite's
    MariaDB/MySQL server; ``url`` carries it, for --database-url or --server-url."""

    url: str
    name: str
    server: Engine

    def left(self) -> list[str]:
        with self.server.connect() as conn:
            names = conn.exec_driver_sql("SHOW DATABASES").scalars().all()
        return [n for n in names if n.startswith(f"{self.name}_")]

    def drop_left(self) -> list[str]:
        left = self.left()
        with self.server.begin() as conn:
            for name in left:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        return left


@pytest.fixture
def scratch(db_backend: str) -> Iterator[ScratchName]:
    assert db_backend == "mysql"
    base = make_url(mysql_base_url())
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # the scripts append "_" and 6 hex digits; MySQL names hold 64 characters
    name = f"{base.database or 'argos_test'}_{worker}_{uuid.uuid4().hex[:8]}"[:57]
    server = make_engine(base.set(database="").render_as_string(hide_password=False))
    url = base.set(database=name).render_as_string(hide_password=False)
    scratch = ScratchName(url, name, server)
    try:
        yield scratch
    finally:
        scratch.drop_left()
        server.dispose()


def assert_dropped(scratch: ScratchName) -> None:
    left = scratch.drop_left()
    assert not left, f"the script left its scratch databases behind: {left}"


@pytest.fixture
def demo_fleet_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database with a small demo fleet (what ``argos-admin demo seed`` makes)."""
    with scratch_database(db_backend, tmp_path) as url:
        engine = make_engine(url)
        try:
            seed_demo(engine, tenants=1, companies=1, branches=1, agents=2, days=1)
        finally:
            engine.dispose()
        yield url


# --- MariaDB and a server process ------------------------------------------------------------


@mysql_only
def test_ingest(scratch):
    run_script(
        "ingest.py",
        "--database-url", scratch.url, "--processes", "2", "--alert-rules", "1",
        "--batch-size", "10", "--batched-requests", "20", "--batched-rounds", "1",
        "--batched-concurrency", "4", "--agents", "8", "--small-requests", "40",
        "--small-concurrency", "4", "--rate", "40", "--paced-seconds", "1",
        "--restart-agents", "4", "--restart-rate", "20", "--restart-seconds", "3",
        "--restart-downtime", "0.5",
        printed=(
            "(a)/(c) over 1 rounds: median",
            "(b) small, paced at 40 req/s",
            "lost acknowledged samples:",
        ),
    )  # fmt: skip
    assert_dropped(scratch)


@mysql_only
def test_otlp(scratch):
    run_script(
        "otlp.py",
        "--database-url", scratch.url, "--processes", "1", "--rounds", "1",
        "--warmup-rounds", "1", "--requests", "4", "--concurrency", "2",
        "--hosts-per-request", "2", "--seconds-per-host", "2", "--hosts", "4",
        printed=("(o)/(a) over 1 rounds: median",),
    )  # fmt: skip
    assert_dropped(scratch)


@mysql_only
def test_history(scratch):
    run_script(
        "history.py",
        "--database-url", scratch.url, "--agents", "100", "--raw-agents", "1",
        "--raw-days", "2", "--reference-days", "3", "--rollup-days", "2", "--runs", "1",
        printed=(
            "top 10 from the hourly tier",
            "REFERENCE table as before:",
            "REFERENCE delete the next day row by row",
        ),
    )  # fmt: skip
    assert_dropped(scratch)


@mysql_only
def test_housekeeping_load(scratch):
    run_script(
        "housekeeping_load.py",
        "--server-url", scratch.url, "--agents", "100", "--history-agents", "2",
        "--days", "2", "--raw-days", "1", "--reroll-hours", "2", "--seconds", "1",
        "--rate", "20", "--ingest-agents", "10", "--concurrency", "4", "--processes", "1",
        "--settle-s", "0",
        printed=("ingest alone:", "housekeeping pass (sleep coefficient", "load average after:"),
    )  # fmt: skip
    assert_dropped(scratch)


@mysql_only
def test_console_load(scratch):
    run_script(
        "console_load.py",
        "--server-url", scratch.url, "--agents", "1", "--consoles", "4", "--interval", "1",
        "--seconds", "2", "--rate", "20", "--ingest-agents", "10", "--concurrency", "4",
        "--processes", "1",
        printed=("figures (ms; 4 consoles", "ingest alone (reference 2)", "database CPU"),
    )  # fmt: skip
    assert_dropped(scratch)


@mysql_only
def test_console_cpu(demo_fleet_url):
    run_script(
        "console_cpu.py",
        "--database-url", demo_fleet_url, "--consoles", "4", "--interval", "1",
        "--seconds", "2", "--processes", "1",
        printed=("ms per console request",),
    )  # fmt: skip


@mysql_only
def test_alerts(scratch):
    run_script(
        "alerts.py",
        "--database-url", scratch.url, "--processes", "1",
        "--rules", "1", "--rounds", "1", "--batch-size", "5", "--requests", "10",
        "--concurrency", "2",
        "--webhook-agents", "2", "--webhook-rounds", "1",
        "--agents", "20", "--branches", "2", "--offline", "5", "--absence-rounds", "1",
        printed=(
            "rate with rules / without, median of 1 rounds",
            "sample -> webhook:",
            "round 1 (4) pass, they reported again",
        ),
    )  # fmt: skip
    assert_dropped(scratch)


@mysql_only
def test_rollup_share(scratch):
    run_script(
        "rollup_share.py",
        "--server-url", scratch.url, "--rate", "20", "--seconds", "2", "--concurrency", "4",
        "--processes", "1", "--rolls", "1",
        printed=("daily tier, a 24th of the agents' day", "target < 10 %"),
    )  # fmt: skip
    assert_dropped(scratch)


@mysql_only
def test_demo_seed_on_mysql(scratch):
    run_script(
        "demo_seed.py",
        "--server-url", scratch.url, "--companies", "1", "--branches", "1", "--agents", "2",
        "--days", "0.1",
        printed=("database: mysql;", "samples/s"),
    )  # fmt: skip
    assert_dropped(scratch)


# --- no database server ----------------------------------------------------------------------


def test_demo_seed_on_sqlite():
    run_script(
        "demo_seed.py",
        "--server-url", "sqlite", "--companies", "1", "--branches", "1", "--agents", "2",
        "--days", "0.1",
        printed=("database: sqlite;", "samples/s"),
    )  # fmt: skip


def test_rate_limit():
    run_script(
        "rate_limit.py", "--agents", "10", "--calls", "1000", "--processes", "2",
        printed=("one process: shared table", "2 processes calling at once:"),
    )  # fmt: skip


# --- the console, offscreen, on SQLite -------------------------------------------------------


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_agent_chart(demo_fleet_url):
    run_script(
        "agent_chart.py", "--database-url", demo_fleet_url, "--runs", "1",
        printed=("30-day chart, click to drawn: median",),
    )  # fmt: skip


def test_console():
    # Two charted agents: with one, the search for its hostname already shows it, and the
    # script's first click on it in the tree waits for charts that are not drawn again.
    # The remote backend only (with its argos-ingest): the direct one runs the same steps,
    # 8 s more of a smoke run (18 s against 10 on the shared VM).
    run_script(
        "console.py",
        "--sqlite", "--backends", "remote", "--tenants", "1", "--companies", "1",
        "--branches", "1", "--agents", "2", "--telemetry-agents", "2", "--days", "1",
        "--expand-rounds", "1",
        printed=("figures (ms, median / max", "chart data in (before paint)", "RSS target"),
    )  # fmt: skip
