"""Ingest latency while a housekeeping pass runs, beside the same ingest load alone.

    python benchmarks/housekeeping_load.py                    # scratch MariaDB database
    python benchmarks/housekeeping_load.py --history-agents 100 --seconds 20   # smaller

Seeds ``--agents`` agents (branches of 100) of which ``--history-agents`` have
``--days`` of one-minute samples (rolled up, as the demo seeder does), then forgets the last
``--reroll-hours`` of rollups (as after a server outage) so that a pass has hours to roll
again, its daily tier to build and the days older than the raw retention (``--raw-days``)
to drop as partitions. ``argos-ingest --processes 2`` runs as a child; ``--ingest-agents``
of the fleet's agents send one sample per request paced at ``--rate`` requests/s:

  reference     the ingest load alone for ``--seconds``
  together      the same load while one housekeeping pass runs in another process (as
                ``argos-admin telemetry housekeep`` runs it; the server runs its passes on
                their own thread); the load goes on for ``--seconds`` or until the pass ends

Prints the pass's report and duration beside both loads' latencies. Asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from datetime import timedelta

from console_load import ingest_plan, ingest_tokens, machine_line
from demo_fleet import demo_fleet
from ingest_process import IngestProcess
from paced_load import describe, start_load
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from argos_core import rollups
from argos_core.db import make_engine
from argos_core.housekeeping import Retention, housekeep
from argos_core.models import TelemetryHourly


def forget_recent_rollups(url: str, hours: int) -> None:
    """As if the server had been down for ``hours``: those hours are not rolled up yet."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            mark = rollups.get_mark(conn, rollups.ROLLED_UNTIL)
            if mark is None:
                return
            since = mark - hours * rollups.HOUR_S
            conn.execute(delete(TelemetryHourly).where(TelemetryHourly.hour >= since))
            rollups.set_mark(conn, rollups.ROLLED_UNTIL, since)
    finally:
        engine.dispose()


def housekeeping_worker(url: str, raw_days: int, pipe, go) -> None:
    engine = make_engine(url)
    go.wait()
    started = time.perf_counter()
    report = housekeep(engine, Retention(raw=timedelta(days=raw_days)))
    pipe.send((time.perf_counter() - started, report))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server-url", default="mysql+pymysql://root@127.0.0.1:3306/")
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--history-agents", type=int, default=300)
    parser.add_argument("--days", type=float, default=16)
    parser.add_argument("--raw-days", type=int, default=14)
    parser.add_argument("--reroll-hours", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=1700.0, help="ingest requests/s")
    parser.add_argument("--ingest-agents", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--flush-ms", type=float, default=5.0)
    args = parser.parse_args()

    print(f"machine: {machine_line()}")
    print(f"parameters: {vars(args)}")
    url, drop, note = demo_fleet(
        None, args.server_url, "argos_bench_hk", tenants=1, companies=1,
        branches=max(1, args.agents // 100), agents=min(100, args.agents), days=args.days,
        telemetry_agents=args.history_agents,
    )  # fmt: skip
    server = None
    try:
        print(f"database: {make_url(url).render_as_string()} ({note})")
        forget_recent_rollups(url, args.reroll_hours)
        tokens = ingest_tokens(url, args.ingest_agents)
        server = IngestProcess(url, args.processes, args.flush_ms)
        now = int(time.time())
        print(f"reference (load {os.getloadavg()[0]:.1f} before):")
        alone = server.measure(ingest_plan(tokens, args, now - 2 * 3600))
        print("  " + describe("ingest alone", alone))

        ctx = multiprocessing.get_context("fork")
        go = ctx.Event()
        parent, child = ctx.Pipe(duplex=False)
        keeper = ctx.Process(target=housekeeping_worker, args=(url, args.raw_days, child, go))
        keeper.start()
        print(f"together (load {os.getloadavg()[0]:.1f} before):")
        load = start_load(server.port, ingest_plan(tokens, args, now - 3600), go)
        load.ready.wait()
        before = server.cpu_seconds()
        go.set()
        beside = load.result()
        beside.server_cpu_s = server.cpu_seconds() - before
        ended = "ended during the load" if parent.poll() else "still running when the load ended"
        took, report = parent.recv()
        keeper.join()
        print("  " + describe("ingest beside housekeeping", beside))
        print(f"  housekeeping pass: {took:.1f} s ({ended}); {report}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        if server is not None:
            print(f"server exit code after SIGTERM: {server.stop()}")
        drop()


if __name__ == "__main__":
    main()
