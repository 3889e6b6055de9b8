"""The console's targets on a big fleet, measured on the real widgets (offscreen), over the
server's console API and straight on the database, in the same run.

    python benchmarks/console.py                                  # scratch MariaDB database
    python benchmarks/console.py --sqlite                         # temporary SQLite file
    python benchmarks/console.py --database-url URL               # an already seeded database
    python benchmarks/console.py --backends direct                # one backend only

Seeds 10 tenants x 10 companies x 10 branches x 100 agents (100,000) with 30 days of
1-minute telemetry for the first agents (``--telemetry-agents``) into a scratch database
(dropped afterwards unless ``--keep``). For the remote backend it starts ``argos-ingest`` as a
child process on that database (its CPU is not the console's) and signs in as the demo
superadmin over HTTP, as a client admin's console does; the direct backend signs in on the
database. Each backend drives its own real ``MainWindow`` through the same steps (the same
random nodes, searches and agents), and the figures are printed side by side. Each figure
runs from the user's action to the moment the result is painted (a synchronous repaint once
the data is in the model or the charts):

* window: ``MainWindow`` built, shown and started until the top tree level is painted;
* expand: ``QTreeView.expand`` of a tenant, company or branch until its first page shows;
* search: Enter in the search box until the results are painted (typing adds the 300 ms
  debounce of the search box on top);
* chart: selecting an agent in the tree (range 30 d) until all its charts are painted;
* memory: resident set size of the process after browsing (one process runs both
  backends, one after the other: the second one's figure includes what the first left).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import psutil
from demo_fleet import demo_fleet
from ingest_process import IngestProcess
from PySide6.QtCore import QEventLoop, QModelIndex, QSettings, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import select
from sqlalchemy.engine import make_url

from argos_core.bootstrap import open_services
from argos_core.db import make_engine
from argos_core.demo import DEMO_PASSWORD, DEMO_SUPERADMIN
from argos_core.models import Agent, Telemetry
from argos_core.scope import Principal
from argos_desktop.connection import connect_session
from argos_desktop.heap import freeze_startup_objects
from argos_desktop.main_window import MainWindow
from argos_desktop.session import ConsoleSession
from argos_desktop.theme import ThemeManager

TARGETS_MS = {"window": 1000, "expand": 100, "search": 300, "chart": 500}
TARGET_RSS_MB = 400
WINDOW_SIZE = (1600, 1000)
TIMEOUT_S = 60.0
BACKENDS = {"remote": "over the API", "direct": "on the database"}
SETUP = Principal("bench", "superadmin", source="benchmark")


@dataclass
class Figures:
    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, ms: float) -> None:
        self.samples.setdefault(name, []).append(ms)


class Driver:
    """Waits on the Qt event loop (never busy-polls: the workers need the GIL and the CPU)."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self._tick = QTimer()
        self._tick.setInterval(20)
        self._tick.timeout.connect(lambda: None)
        self._tick.start()

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.perf_counter() + TIMEOUT_S
        while not condition():
            if time.perf_counter() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            self.app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)

    def drain(self) -> None:
        """Let every worker job finish, and the jobs their answers start (a live refresh
        reads level after level), before the backend under them is closed."""
        pool = QThreadPool.globalInstance()
        for _ in range(50):
            pool.waitForDone(10_000)
            self.settle(0.2)
            if pool.activeThreadCount() == 0:
                return
        raise TimeoutError("the console's worker jobs did not finish")

    def settle(self, seconds: float = 0.3) -> None:
        """Let queued work (detail pane loads, paints) finish between measurements."""
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)


# --- database ------------------------------------------------------------------------------


def prepare_database(args: argparse.Namespace) -> tuple[str, Callable[[], None], str]:
    """The URL to benchmark, a clean-up function and a line saying what was done."""
    return demo_fleet(
        args.database_url,
        "sqlite://" if args.sqlite else args.server_url,
        "argos_bench_console",
        keep=args.keep,
        tenants=args.tenants,
        companies=args.companies,
        branches=args.branches,
        agents=args.agents,
        days=args.days,
        telemetry_agents=args.telemetry_agents,
    )


def charted_agents(url: str, count: int) -> list[int]:
    """Ids of agents that have telemetry (the seeder gives it to the first agents)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ids = []
            for _ in range(count):
                after = ids[-1] if ids else 0
                found = conn.scalar(
                    select(Telemetry.agent_id)
                    .where(Telemetry.agent_id > after)
                    .order_by(Telemetry.agent_id)
                    .limit(1)
                )
                if found is None:
                    break
                ids.append(found)
            return ids
    finally:
        engine.dispose()


# --- measurements --------------------------------------------------------------------------


def measure_window(
    driver: Driver, session: ConsoleSession, settings: QSettings
) -> tuple[MainWindow, float]:
    started = time.perf_counter()
    window = MainWindow(session, settings)
    window.resize(*WINDOW_SIZE)
    window.show()
    freeze_startup_objects()  # as argos_desktop.app does before starting the window
    window.start()
    model = window.fleet.model
    driver.wait_until(lambda: model.rowCount() > 0, "the top level of the tree")
    window.repaint()
    ms = (time.perf_counter() - started) * 1000
    print(f"  shown in {ms:.0f} ms with {model.rowCount()} top-level nodes")
    return window, ms


def expand(driver: Driver, window: MainWindow, index: QModelIndex) -> float | None:
    """Expand ``index`` and time it until its first page is painted (None if it was loaded)."""
    model, tree = window.fleet.model, window.fleet.tree
    if model.rowCount(index) > 0:
        tree.expand(index)
        return None
    started = time.perf_counter()
    tree.expand(index)
    driver.wait_until(lambda: model.rowCount(index) > 0, "a page of children")
    tree.viewport().repaint()
    return (time.perf_counter() - started) * 1000


def measure_expansions(
    driver: Driver, window: MainWindow, figures: Figures, rounds: int, rng: random.Random
) -> None:
    model = window.fleet.model
    for _ in range(rounds):
        parent = QModelIndex()
        for level in ("tenant", "company", "branch"):
            index = model.index(rng.randrange(model.rowCount(parent)), 0, parent)
            ms = expand(driver, window, index)
            if ms is not None:
                figures.add(f"expand {level}", ms)
            driver.settle(0.1)
            parent = index


def measure_searches(driver: Driver, window: MainWindow, figures: Figures, queries) -> None:
    fleet = window.fleet
    done: list[int] = []
    fleet.searchFinished.connect(done.append)
    for label, text in queries:
        done.clear()
        window.search_box.blockSignals(True)
        window.search_box.setText(text)
        window.search_box.blockSignals(False)
        started = time.perf_counter()
        window.search_box.returnPressed.emit()
        driver.wait_until(lambda: bool(done), f"search {text!r}")
        fleet.result_view.viewport().repaint()
        ms = (time.perf_counter() - started) * 1000
        figures.add("search", ms)
        print(f"  search {label} {text!r}: {done[0]} hits in {ms:.0f} ms")
        driver.settle(0.1)
    fleet.searchFinished.disconnect(done.append)
    window.search_box.clear()
    driver.settle(0.2)


def show_agent_in_tree(driver: Driver, window: MainWindow, path: list[str], key: str) -> None:
    model = window.fleet.model
    for org_id in path:
        index = model.index_for_key(org_id)
        expand(driver, window, index)
    driver.wait_until(lambda: model.index_for_key(key).isValid(), "the agent's row")


def select_agent(driver: Driver, window: MainWindow, key: str) -> tuple[float, float]:
    """Select an agent's row; ms until its charts are painted, and until its data arrived."""
    charts = window.detail.agent_view.charts
    shown: list[float] = []
    on_shown = lambda: shown.append(time.perf_counter())  # noqa: E731
    charts.dataShown.connect(on_shown)
    index = window.fleet.model.index_for_key(key)
    started = time.perf_counter()
    window.fleet.tree.setCurrentIndex(index)
    driver.wait_until(
        lambda: bool(shown) and window.detail.stack.currentWidget() is window.detail.agent_view,
        "the agent's charts",
    )
    window.detail.repaint()
    drawn = time.perf_counter()
    charts.dataShown.disconnect(on_shown)
    return (drawn - started) * 1000, (shown[0] - started) * 1000


def measure_charts(driver: Driver, window: MainWindow, figures: Figures, agents) -> None:
    charts = window.detail.agent_view.charts
    first_key = agents[0][1]
    select_agent(driver, window, first_key)
    driver.settle(0.3)
    shown: list[int] = []
    charts.dataShown.connect(lambda: shown.append(1))
    started = time.perf_counter()
    charts.preset_buttons["30 d"].click()
    driver.wait_until(lambda: bool(shown), "the 30-day charts")
    window.detail.repaint()
    ms = (time.perf_counter() - started) * 1000
    figures.add("chart 30 d button", ms)
    print(f"  '30 d' on {first_key[:8]}: {ms:.0f} ms, {len(charts.data):,} points")
    for round_ in range(2):
        for _path, key in agents:
            if key == window.detail.current[1]:
                continue
            ms, data_ms = select_agent(driver, window, key)
            figures.add("chart", ms)
            figures.add("chart data in (before paint)", data_ms)
            print(
                f"  round {round_ + 1}: agent {key[:8]} 30 d: data in {data_ms:.0f} ms,"
                f" painted {ms:.0f} ms ({len(charts.data):,} points,"
                f" query {charts.last_query})"
            )
            driver.settle(0.3)
        first = agents[0][1]
        if first != window.detail.current[1]:
            select_agent(driver, window, first)


# --- report --------------------------------------------------------------------------------


@dataclass
class Run:
    """One backend's browse: its figures, its window time and the process's memory."""

    sign_in_ms: float
    window_ms: float = 0.0
    figures: Figures = field(default_factory=Figures)
    rss_mb: dict[str, float] = field(default_factory=dict)
    server_cpu_s: float | None = None


def machine_line() -> str:
    memory = psutil.virtual_memory().total / 1024**3
    return (
        f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB,"
        f" load {load_average()}; Python {platform.python_version()}; {platform.platform()}"
    )


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def verdict(ms: float, target: float) -> str:
    return "ok" if ms < target else "MISSED"


def report(runs: dict[str, Run]) -> None:
    """Each figure on a line, one column per backend (median / max in ms), and the target."""
    names = list(dict.fromkeys(n for run in runs.values() for n in run.figures.samples))
    width = 34
    print(f"\nfigures (ms, median / max; load average {load_average()} on the shared machine):")
    header = "".join(f"{name + ' ' + BACKENDS[name]:>28}" for name in runs)
    print(f"  {'':{width}}{header}   target")
    rows = [("sign-in", {b: [r.sign_in_ms] for b, r in runs.items()}, None)]
    rows.append(("window, top level shown", {b: [r.window_ms] for b, r in runs.items()}, "window"))
    for name in names:
        base = None if "before paint" in name else name.split(" ")[0]
        rows.append((name, {b: r.figures.samples.get(name, []) for b, r in runs.items()}, base))
    for label, values, base in rows:
        target = TARGETS_MS.get(base) if base else None
        cells, verdicts = [], []
        for backend in runs:
            got = values[backend]
            if not got:
                cells.append(f"{'-':>28}")
                continue
            n = f" (n={len(got)})" if len(got) > 1 else ""
            cells.append(f"{statistics.median(got):>15.0f} / {max(got):5.0f}{n:>7}")
            if target:
                verdicts.append(f"{backend} {verdict(max(got), target)}")
        tail = f"   <{target}: {', '.join(verdicts)}" if target else ""
        print(f"  {label:{width}}{''.join(cells)}{tail}")
    for stage in next(iter(runs.values())).rss_mb:
        cells = "".join(f"{r.rss_mb.get(stage, float('nan')):>25.0f} MB" for r in runs.values())
        print(f"  {'RSS ' + stage:{width}}{cells}")
    final = max(list(r.rss_mb.values())[-1] for r in runs.values())
    print(f"  RSS target <{TARGET_RSS_MB} MB: {verdict(final, TARGET_RSS_MB)}")
    for backend, run in runs.items():
        if run.server_cpu_s is not None:
            print(f"  argos-ingest CPU during the {backend} run: {run.server_cpu_s:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an already seeded database (demo password)")
    where.add_argument("--sqlite", action="store_true", help="seed a temporary SQLite file")
    parser.add_argument(
        "--server-url",
        default="mysql+pymysql://root@127.0.0.1:3306/",
        help="MySQL/MariaDB server for the scratch database",
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=list(BACKENDS),
        default=list(BACKENDS),
        help="which backends, in this order (default: remote, then direct)",
    )
    parser.add_argument("--processes", type=int, default=1, help="argos-ingest worker processes")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--companies", type=int, default=10)
    parser.add_argument("--branches", type=int, default=10)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--telemetry-agents", type=int, default=5)
    parser.add_argument("--expand-rounds", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    print(f"machine: {machine_line()}")
    url, drop, note = prepare_database(args)
    server = None
    try:
        if "remote" in args.backends:
            server = IngestProcess(url, args.processes, flush_ms=5.0)
        run(args, url, note, server)
    finally:
        if server is not None:
            server.stop()
        drop()


def run(args: argparse.Namespace, url: str, note: str, server: IngestProcess | None) -> None:
    backend = make_url(url).get_backend_name()
    print(f"database: {backend}, {make_url(url).render_as_string()} ({note})")
    print(
        f"fleet: {args.tenants}x{args.companies}x{args.branches}x{args.agents}"
        f" = {args.tenants * args.companies * args.branches * args.agents:,} agents;"
        f" {args.days:g} days of 1-minute telemetry for {args.telemetry_agents} agents;"
        f" window {WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}, QT_QPA_PLATFORM="
        f"{os.environ.get('QT_QPA_PLATFORM')}, live refresh on (every 10 s, as shipped)"
    )
    if server is not None:
        print(
            f"server: argos-ingest child process on {server.url},"
            f" --processes {args.processes}, plain HTTP on loopback"
        )
    agents, queries = browse_plan(url, args.telemetry_agents)
    app = QApplication.instance() or QApplication(["argos-bench"])
    ThemeManager(app)
    driver = Driver(app)
    runs: dict[str, Run] = {}
    for name in args.backends:
        print(f"\n=== {name} backend ({BACKENDS[name]}), load average {load_average()}")
        address = server.url if name == "remote" else url
        runs[name] = browse(driver, address, agents, queries, args, server)
    report(runs)


def browse_plan(url: str, telemetry_agents: int) -> tuple[list, list[tuple[str, str]]]:
    """The agents to chart (with their tree paths) and the searches, the same for every
    backend; read before any measurement."""
    services = open_services(url)
    try:
        agents = []
        for agent_id in charted_agents(url, telemetry_agents):
            uuid_ = agent_uuid(url, agent_id)
            detail = services.agents.get_agent(SETUP, uuid_)
            path = [detail.tenant_org_id, detail.company_org_id, detail.summary.branch_org_id]
            agents.append((path, uuid_))
        hostname = detail.summary.hostname
        branch_id = agents[-1][0][2]
        tenant_name = services.orgs.get_node(SETUP, agents[-1][0][0]).name
    finally:
        services.close()
    queries = [
        ("hostname", hostname),
        ("hostname prefix", hostname[:4]),
        ("tenant name", tenant_name),
        ("company word", "Summit"),
        ("branch org id", branch_id),
        ("no match", "zz-no-such-host"),
        ("hostname, again", hostname),
    ]
    return agents, queries


def browse(
    driver: Driver,
    address: str,
    agents: list,
    queries: list[tuple[str, str]],
    args: argparse.Namespace,
    server: IngestProcess | None,
) -> Run:
    """Sign in through ``address`` (a server or a database URL) and run every step."""
    process = psutil.Process()
    settings_dir = tempfile.TemporaryDirectory(prefix="argos-bench-settings-")
    settings = QSettings(str(Path(settings_dir.name) / "console.ini"), QSettings.Format.IniFormat)
    cpu_before = server.cpu_seconds() if server is not None and address == server.url else None
    started = time.perf_counter()
    session: ConsoleSession = connect_session(address, DEMO_SUPERADMIN, DEMO_PASSWORD)
    result = Run(sign_in_ms=(time.perf_counter() - started) * 1000)
    print(f"sign-in ({session.label}): {result.sign_in_ms:.0f} ms")
    result.rss_mb["signed in"] = process.memory_info().rss / 1024**2
    rng = random.Random(args.seed)
    try:
        print("main window:")
        window, result.window_ms = measure_window(driver, session, settings)
        driver.settle(1.0)
        result.rss_mb["window up"] = process.memory_info().rss / 1024**2

        print(f"expanding random tenant > company > branch, {args.expand_rounds} rounds")
        measure_expansions(driver, window, result.figures, args.expand_rounds, rng)

        print("searching (Enter in the search box):")
        measure_searches(driver, window, result.figures, queries)

        print("charts (range 30 d, all metrics):")
        for path, key in agents:
            show_agent_in_tree(driver, window, path, key)
        measure_charts(driver, window, result.figures, agents)
        driver.settle(1.0)
        result.rss_mb["after browsing"] = process.memory_info().rss / 1024**2
        loaded = len(window.fleet.model._by_key)
        print(f"tree nodes loaded after browsing: {loaded:,}")
        window.timer.stop()
        window.close()
    finally:
        driver.drain()
        session.backend.close()
        settings_dir.cleanup()
    if cpu_before is not None:
        result.server_cpu_s = server.cpu_seconds() - cpu_before
    return result


def agent_uuid(url: str, agent_id: int) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(Agent.uuid).where(Agent.id == agent_id))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
