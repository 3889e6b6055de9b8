"""Ingest latency while a housekeeping pass runs, beside the same ingest load alone.

    python benchmarks/housekeeping_load.py                    # scratch MariaDB database
    python benchmarks/housekeeping_load.py --history-agents 100 --seconds 20   # smaller

Seeds ``--agents`` agents (branches of 100) of which ``--history-agents`` have
``--days`` of one-minute samples (rolled up, as the demo seeder does), then forgets the last
``--reroll-hours`` of rollups (as after a server outage) so that a pass has hours to roll
again, its daily tier to build and the days older than the raw retention (``--raw-days``)
to drop as partitions. ``argos-ingest --processes 2`` runs as a child (its log goes to a
file, read for retried flushes); ``--ingest-agents`` of the fleet's agents send one sample
per request paced at ``--rate`` requests/s, stamped ``--sample-age`` seconds ago (0: now, as
agents report; 3600: late samples, which the writer notes for the pass to re-roll):

  reference     the ingest load alone for ``--seconds``
  together      the same load while one housekeeping pass runs; the load goes on for
                ``--seconds`` or until the pass ends

Before each phase the script waits (``--settle-s``, a minute at most) for MariaDB to write back
the dirty pages the seeding left (their flushing slows every commit) and prints how many were
left.

The pass is the server's own: ``HousekeepingJob.run_once`` from
``ingest_server/jobs/housekeeping.py`` (the lease claimed, renewed between steps and let
go; the same ``housekeep`` as ``argos-admin telemetry housekeep``; paced as the server
paces it, ``--sleep-coef``), run in a process of its own. In the server it runs on a
thread of one worker process, where its Python time would compete with that worker's
event loop for the GIL: the script prints the pass's CPU time (user + system of its
process) beside its duration, which bounds that share.

Prints the pass's report, duration and CPU beside both loads' latencies and server CPU
(beside the pass: also split into the requests sent while it ran and after it),
the flushes the server retried after a deadlock (1213) or a lock wait timeout (1205), and
MariaDB's own counters over each phase (server-wide: ``Innodb_deadlocks``, row lock waits
and the time spent in them). Asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import tempfile
import time
from datetime import timedelta

from console_load import (
    PhaseStamps,
    database_cpu_seconds,
    ingest_tokens,
    machine_line,
    reference,
)
from demo_fleet import demo_fleet
from ingest_process import IngestProcess
from paced_load import LoadResult, between, describe, percentiles, start_load
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from argos_core import rollups
from argos_core.db import make_engine
from argos_core.housekeeping import DEFAULT_SLEEP_COEF, Retention
from argos_core.models import TelemetryHourly
from ingest_server.jobs.housekeeping import HousekeepingJob

COUNTERS = ("Innodb_deadlocks", "Innodb_row_lock_waits", "Innodb_row_lock_time")
RETRIED = re.compile(r"Retrying telemetry flush .*\((\d{4}),")


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


def housekeeping_worker(url: str, raw_days: int, sleep_coef: float, pipe, go) -> None:
    engine = make_engine(url)
    job = HousekeepingJob(
        engine, retention=Retention(raw=timedelta(days=raw_days)), sleep_coef=sleep_coef
    )
    go.wait()
    started = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    report = job.run_once()
    after = resource.getrusage(resource.RUSAGE_SELF)
    took = time.perf_counter() - started
    cpu_s = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    pipe.send((took, cpu_s, report))
    engine.dispose()


class MariaDB:
    """MariaDB's server-wide status counters, and a wait for its dirty pages."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def status(self, *names: str) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SHOW GLOBAL STATUS WHERE Variable_name IN %s", (names,)
            ).all()
        return {name: int(value) for name, value in rows}

    def settle(self, limit_s: float = 60.0) -> str:
        """Wait until fewer than 1,000 buffer pool pages are dirty (or ``limit_s``)."""
        began = time.perf_counter()
        while True:
            dirty = self.status("Innodb_buffer_pool_pages_dirty")["Innodb_buffer_pool_pages_dirty"]
            waited = time.perf_counter() - began
            if dirty < 1000 or waited > limit_s:
                return f"{dirty:,} dirty pages after waiting {waited:.0f} s"
            time.sleep(1.0)

    def settings(self) -> str:
        """The settings the figures hinge on."""
        with self.engine.connect() as conn:
            pool, flush, io = conn.exec_driver_sql(
                "SELECT @@innodb_buffer_pool_size, @@innodb_flush_log_at_trx_commit,"
                " @@innodb_io_capacity"
            ).one()
        return (
            f"innodb_buffer_pool_size {int(pool) >> 20} MiB, innodb_flush_log_at_trx_commit"
            f" {flush}, innodb_io_capacity {io}"
        )

    def counters(self) -> dict[str, int]:
        return self.status(*COUNTERS)


def database_cpu(result: LoadResult) -> str:
    per_request = 1e6 * result.database_cpu_s / max(1, result.requests)
    return f"MariaDB CPU: {result.database_cpu_s:.1f}s ({per_request:,.0f} us/request)"


def counted(before: dict[str, int], after: dict[str, int]) -> str:
    return ", ".join(f"{name} +{after[name] - before[name]:,}" for name in COUNTERS)


def retried_flushes(log_path: str, start: int) -> tuple[str, int]:
    """The flush retries logged since byte ``start``, by MariaDB error code."""
    with open(log_path) as log:
        log.seek(start)
        text = log.read()
        end = log.tell()
    codes: dict[str, int] = {}
    for code in RETRIED.findall(text):
        codes[code] = codes.get(code, 0) + 1
    named = {"1213": "deadlock", "1205": "lock wait timeout"}
    found = ", ".join(f"{n} after {named.get(c, c)} ({c})" for c, n in sorted(codes.items()))
    return found or "none", end


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
    parser.add_argument("--sample-age", type=int, default=0, help="seconds; 3600: late samples")
    parser.add_argument(
        "--sleep-coef",
        type=float,
        default=DEFAULT_SLEEP_COEF,
        help="the pass rests this many times as long as each transaction took (the server's"
        " default; 0: no rest, as before 2026-12-01)",
    )
    parser.add_argument(
        "--settle-s",
        type=float,
        default=60.0,
        help="before each phase, wait at most this long for MariaDB's dirty pages to fall"
        " under 1,000 (0: do not wait, e.g. for a smoke run)",
    )
    args = parser.parse_args()

    print(f"machine: {machine_line()}")
    print(f"parameters: {vars(args)}")
    url, drop, note = demo_fleet(
        None, args.server_url, "argos_bench_hk", tenants=1, companies=1,
        branches=max(1, args.agents // 100), agents=min(100, args.agents), days=args.days,
        telemetry_agents=args.history_agents,
    )  # fmt: skip
    print(f"database: {make_url(url).render_as_string()} ({note})")
    mariadb = MariaDB(url)
    print(f"MariaDB: {mariadb.settings()}")
    try:
        with tempfile.NamedTemporaryFile("w", prefix="argos-hk-server-", suffix=".log") as log:
            run(args, url, mariadb, log)
    finally:
        mariadb.engine.dispose()
        drop()


def run(args: argparse.Namespace, url: str, mariadb: MariaDB, log) -> None:
    """Both phases against one ``argos-ingest`` whose log goes to ``log``."""
    server = None
    try:
        forget_recent_rollups(url, args.reroll_hours)
        tokens = ingest_tokens(url, args.ingest_agents)
        server = IngestProcess(url, args.processes, args.flush_ms, stderr=log)
        print(f"reference ({mariadb.settle(args.settle_s)}; load {os.getloadavg()[0]:.1f} before):")
        counters, logged = mariadb.counters(), 0
        stamps = PhaseStamps(tokens, args)
        alone, _load = reference(server, stamps.plan())
        print("  " + describe("ingest alone", alone))
        print(f"  {database_cpu(alone)}")
        retries, logged = retried_flushes(log.name, logged)
        print(f"  flushes retried: {retries}; MariaDB: {counted(counters, mariadb.counters())}")

        ctx = multiprocessing.get_context("fork")
        go = ctx.Event()
        parent, child = ctx.Pipe(duplex=False)
        keeper = ctx.Process(
            target=housekeeping_worker, args=(url, args.raw_days, args.sleep_coef, child, go)
        )
        keeper.start()
        print(f"together ({mariadb.settle(args.settle_s)}; load {os.getloadavg()[0]:.1f} before):")
        load = start_load(server.port, stamps.plan(), go)
        load.ready.wait()
        before, database = server.cpu_seconds(), database_cpu_seconds()
        counters = mariadb.counters()
        go.set()
        beside = load.result()
        beside.server_cpu_s = server.cpu_seconds() - before
        beside.database_cpu_s = database_cpu_seconds() - database
        ended = "ended during the load" if parent.poll() else "still running when the load ended"
        took, pass_cpu_s, report = parent.recv()
        keeper.join()
        print("  " + describe("ingest beside housekeeping", beside))
        during, after = between(beside, 0, took), between(beside, took, beside.seconds)
        for name, part in (("while the pass ran", during), ("after it", after)):
            p50, p99 = percentiles(part)
            print(f"    sent {name}: {len(part):,} requests, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        print(f"  {database_cpu(beside)} (the pass's statements included)")
        retries, logged = retried_flushes(log.name, logged)
        print(f"  flushes retried: {retries}; MariaDB: {counted(counters, mariadb.counters())}")
        print(
            f"  housekeeping pass (sleep coefficient {args.sleep_coef:g}): {took:.1f} s, of"
            f" which {report.rested_seconds:.1f} s resting; {pass_cpu_s:.2f} s of CPU in its"
            " process"
        )
        print(f"    ({ended}); {report}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        if server is not None:
            print(f"server exit code after SIGTERM: {server.stop()}")


if __name__ == "__main__":
    main()
