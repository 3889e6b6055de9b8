"""How long an agent's 30-day charts take from click to drawn, in the real detail pane.

    python benchmarks/agent_chart.py [--database-url URL] [--runs N]

Without a URL it seeds a scratch SQLite database (3 agents with 30 days of 1-minute
telemetry). With one, it charts the first agents that have telemetry. Prints figures;
asserts nothing. Target (issue 4): < 500 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QMainWindow

from argos_core.bootstrap import bootstrap
from argos_core.scope import Principal
from argos_desktop.backend.direct import DirectBackend, identity_of
from argos_desktop.charts.time_range import TimeRange
from argos_desktop.detail.detail_pane import DetailPane
from argos_desktop.session import ConsoleSession

DAY = 86400


def seeded_url() -> str:
    from argos_core.db import make_engine
    from argos_core.demo import seed_demo
    from argos_core.migrate import upgrade

    path = os.path.join(tempfile.mkdtemp(prefix="argos-bench-"), "bench.db")
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    seed_demo(engine, tenants=1, companies=1, branches=1, agents=3, days=30)
    engine.dispose()
    return f"sqlite:///{path}"


def agents_with_telemetry(services, principal: Principal, wanted: int) -> list[str]:
    now = int(time.time())
    found = []
    for tenant in services.orgs.list_children(principal).items:
        for agent in services.agents.list_agents(principal, tenant.org_id, limit=200).items:
            series = services.telemetry.telemetry_range(
                principal, agent.uuid, now - 30 * DAY, now, max_points=10
            )
            if len(series):
                found.append(agent.uuid)
            if len(found) == wanted:
                return found
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    url = args.database_url or seeded_url()
    app = QApplication(sys.argv[:1])
    services = bootstrap(url)
    principal = Principal("benchmark", "superadmin", source="benchmark")
    uuids = agents_with_telemetry(services, principal, 3)
    if not uuids:
        print("no agent with telemetry in the last 30 days", file=sys.stderr)
        return 1
    window = QMainWindow()
    session = ConsoleSession(
        DirectBackend(services, principal), identity_of(principal), "benchmark"
    )
    pane = DetailPane(session)
    window.setCentralWidget(pane)
    window.resize(1400, 1000)
    window.show()
    pane.agent_view.charts.set_time_range(TimeRange.preset("30 d"))
    machine = f"{platform.node()} {platform.machine()}, {os.cpu_count()} cpus"
    print(f"machine: {machine}, {platform.system()}, Python {platform.python_version()}")
    print(f"database: {services.engine.url.render_as_string(hide_password=True)}")
    times = []
    for run in range(args.runs):
        pane.clear()
        app.processEvents()
        loop = QEventLoop()
        pane.loaded.connect(loop.quit)
        started = time.perf_counter()
        pane.show_node("agent", uuids[run % len(uuids)])
        loop.exec()
        pane.loaded.disconnect(loop.quit)
        pane.repaint()
        elapsed = 1000 * (time.perf_counter() - started)
        times.append(elapsed)
        data = pane.agent_view.charts.data
        shape = f"{len(data)} points per metric, {data.bucket_s} s buckets"
        print(f"run {run + 1}: {elapsed:.0f} ms ({shape})")
    print(
        f"30-day chart, click to drawn: median {statistics.median(times):.0f} ms, "
        f"max {max(times):.0f} ms over {len(times)} runs (target < 500 ms)"
    )
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
