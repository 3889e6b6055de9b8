"""Rollup upkeep's CPU as a share of the ingest CPU it follows, measured in the same run.

    python benchmarks/rollup_share.py [--rate 1700] [--seconds 30] [--rolls 3]

A scratch MariaDB database gets ``--rate x --seconds / 60`` agents (branches of 100), so
that the paced ingest (``argos-ingest --processes 2``, one sample per request at ``--rate``
requests/s for ``--seconds``) gives each agent about 60 samples: an agent-hour as full as
one reporting once a minute (the fleet this rate stands for is ``--rate x 60`` agents).
Then the hourly upkeep runs over the hours the samples landed in, as housekeeping runs it
(``roll_closed_hours`` from the ``rolled_until`` mark, READ COMMITTED: agents' hours,
their branches' node rows), ``--rolls`` times (it is idempotent; the median is printed),
and the daily tier's roll of the agents' day, counted as a 24th per hour.

CPU is counted on both sides of the wire: the ingest server's processes and MariaDB's
(``mariadbd``, read from /proc: server-wide, so run it on a quiet machine) during the
ingest; this process and MariaDB during the upkeep. Prints both and the share beside the
target (< 10 %). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from collections.abc import Callable

import psutil
from console_load import ingest_plan, ingest_tokens, machine_line
from demo_fleet import demo_fleet
from ingest_process import IngestProcess
from paced_load import describe
from sqlalchemy import Engine, func, select

from argos_core import daily_rollups, rollups
from argos_core.db import make_engine
from argos_core.housekeeping import pass_engine
from argos_core.models import Agent, Telemetry


def mariadb_process() -> psutil.Process:
    for process in psutil.process_iter(["name"]):
        if process.info["name"] in ("mariadbd", "mysqld"):
            return process
    raise SystemExit("no mariadbd/mysqld process on this machine to read the CPU of")


def cpu_of(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured(work: Callable[[], object], mariadb: psutil.Process) -> tuple[float, float, float]:
    """Wall seconds, this process's CPU and MariaDB's CPU over ``work()``."""
    began, mine, db = time.perf_counter(), own_cpu(), cpu_of(mariadb)
    work()
    return time.perf_counter() - began, own_cpu() - mine, cpu_of(mariadb) - db


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server-url", default="mysql+pymysql://root@127.0.0.1:3306/")
    parser.add_argument("--rate", type=float, default=1700.0, help="ingest requests/s")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--flush-ms", type=float, default=5.0)
    parser.add_argument("--rolls", type=int, default=3)
    args = parser.parse_args()
    agents = max(100, round(args.rate * args.seconds / 60 / 100) * 100)

    print(f"machine: {machine_line()}")
    print(f"parameters: {vars(args)}; {agents} agents")
    url, drop, note = demo_fleet(
        None, args.server_url, "argos_bench_upkeep", tenants=1, companies=1,
        branches=agents // 100, agents=100, days=0,
    )  # fmt: skip
    print(f"database: {url} ({note})")
    mariadb = mariadb_process()
    engine = make_engine(url)
    try:
        ingest_cpu = ingest(url, agents, args, mariadb)
        upkeep(engine, args, mariadb, ingest_cpu)
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        engine.dispose()
        drop()


def ingest(
    url: str, agents: int, args: argparse.Namespace, mariadb: psutil.Process
) -> tuple[float, float]:
    """The paced ingest; returns its CPU per sample in seconds: the server's, and the
    server's and MariaDB's together."""
    tokens = ingest_tokens(url, agents)
    server = IngestProcess(url, args.processes, args.flush_ms)
    try:
        print(f"ingest (load {os.getloadavg()[0]:.1f} before):")
        db_before = cpu_of(mariadb)
        result = server.measure(ingest_plan(tokens, args, int(time.time())))
        db_cpu = cpu_of(mariadb) - db_before
    finally:
        server.stop()
    print("  " + describe("paced ingest", result))
    total = result.server_cpu_s + db_cpu
    per_sample = total / max(1, result.accepted)
    print(
        f"  CPU: server {result.server_cpu_s:.2f} s + MariaDB {db_cpu:.2f} s = {total:.2f} s"
        f" for {result.accepted:,} samples = {per_sample * 1e6:.1f} us/sample"
    )
    return result.server_cpu_s / max(1, result.accepted), per_sample


def upkeep(
    engine: Engine, args: argparse.Namespace, mariadb, ingest_per_sample: tuple[float, float]
) -> None:
    with engine.connect() as conn:
        lo, hi, samples = conn.execute(
            select(func.min(Telemetry.ts), func.max(Telemetry.ts), func.count())
        ).one()
        agent_ids = list(conn.scalars(select(Agent.id).order_by(Agent.id)))
    lo, hi = rollups.hour_start(lo), rollups.hour_start(hi) + rollups.HOUR_S
    engine_rc = pass_engine(engine)

    def hours() -> None:
        with engine.begin() as conn:
            rollups.set_mark(conn, rollups.ROLLED_UNTIL, lo)
        rollups.roll_closed_hours(engine_rc, hi + rollups.SETTLE_S)

    def day() -> None:
        with engine_rc.begin() as conn:
            day = daily_rollups.day_start(lo)
            daily_rollups.roll_days(conn, day, day + daily_rollups.DAY_S, agent_ids)

    hours_n = (hi - lo) // rollups.HOUR_S
    print(f"rollup upkeep ({hours_n} hour(s), {samples:,} samples, {len(agent_ids)} agents):")
    runs = [measured(hours, mariadb) for _ in range(args.rolls)]
    wall, mine, db = (statistics.median(r[i] for r in runs) for i in range(3))
    days = [measured(day, mariadb) for _ in range(args.rolls)]
    day_wall, day_mine, day_db = (statistics.median(r[i] / 24 for r in days) for i in range(3))
    total = mine + db + day_mine + day_db
    per_sample = total / max(1, samples)
    print(
        f"  hours (agents' rows and node tier): {wall:.2f} s, CPU here {mine:.2f} s + MariaDB"
        f" {db:.2f} s (median of {args.rolls}: {', '.join(f'{r[1] + r[2]:.2f}' for r in runs)})"
    )
    print(
        f"  daily tier, a 24th of the agents' day: {day_wall * 1e3:.1f} ms, CPU here"
        f" {day_mine * 1e3:.1f} ms + MariaDB {day_db * 1e3:.1f} ms"
    )
    server, both = ingest_per_sample
    print(
        f"  upkeep {per_sample * 1e6:.2f} us/sample (here and MariaDB):"
        f" {100 * per_sample / both:.1f} % of the ingest's CPU with MariaDB's part"
        f" ({both * 1e6:.1f} us/sample),"
        f" {100 * per_sample / server:.1f} % of the ingest server's alone"
        f" ({server * 1e6:.1f} us/sample); target < 10 %"
    )


if __name__ == "__main__":
    main()
