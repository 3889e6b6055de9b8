"""Telemetry history at scale: chart reads per tier, node aggregates, the rollup job's cost,
partition drop against row-by-row deletes, bytes per sample. Each figure is printed with
its parameters and, where there is one, the reference measured in the same run.

    python benchmarks/history.py [--database-url URL] [--agents 1000] [--rollup-days 35]
                                 [--raw-agents 50] [--raw-days 15] [--reference-days 365]
                                 [--runs 5]

The URL names a server (MariaDB by default: ``ARGOS_BENCH_MYSQL_URL``, else
mysql+pymysql://root@127.0.0.1:3306/argos_history_bench); a scratch database is created
beside it and dropped afterwards. The fleet: one company of ``--agents`` agents in branches
of 100. Every agent gets ``--rollup-days`` of hourly rollups (generated, not rolled: 35 days
cover the 30-day aggregates and keep seeding to minutes on two shared cores; 400 takes about
ten); the first ``--raw-agents`` get ``--raw-days`` of one-minute raw samples (rolled up by
the real job, and timed), and one more agent gets a year (``--reference-days``) of one-minute
raw samples, rolled up, for the 1-year chart and its raw-scan reference (a few days make a
smoke run: rolling a year hour by hour takes minutes). The node tier (hourly rows per
branch) is built from the generated rows. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from scratch import create_database, drop_database
from sqlalchemy import Engine, bindparam, event, func, select, text

from argos_core import branch_rollups, partitions, rollups
from argos_core.bootstrap import bootstrap
from argos_core.demo import seed_demo
from argos_core.housekeeping import Retention, _delete_by_agents, housekeep
from argos_core.migrate import upgrade
from argos_core.models import (
    Agent,
    Branch,
    Company,
    Telemetry,
    TelemetryBranchHourly,
    TelemetryDaily,
    TelemetryHourly,
    TelemetryMark,
)
from argos_core.pass_pace import PassPace
from argos_core.scope import Principal
from argos_core.telemetry_stats import disk_bytes

DAY = 86400
HOUR = 3600
ROOT = Principal("bench", "superadmin", source="benchmark")
DEFAULT_URL = os.environ.get(
    "ARGOS_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/argos_history_bench"
)
AGENTS_PER_STATEMENT = 25
RAW_COLUMNS = (
    "agent_id, ts, cpu_percent, mem_percent, disk_percent, net_rx_bytes, net_tx_bytes,"
    " load_1m, uptime_s"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--rollup-days", type=int, default=35)
    parser.add_argument("--raw-agents", type=int, default=50)
    parser.add_argument("--raw-days", type=int, default=15)
    parser.add_argument(
        "--reference-days",
        type=int,
        default=365,
        help="days of one-minute raw samples of the year-of-raw agent (at least --raw-days)",
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.agents % 100 or args.raw_agents > args.agents:
        parser.error("--agents must be a multiple of 100 and at least --raw-agents")
    if args.reference_days < args.raw_days:
        parser.error("--reference-days must be at least --raw-days")
    url = create_database(args.database_url, Path(tempfile.mkdtemp(prefix="argos-history-")))
    try:
        return run(url, args)
    finally:
        drop_database(url)


def run(url: str, args: argparse.Namespace) -> int:
    services = bootstrap(url)
    engine = services.engine
    upgrade(engine)
    now = int(time.time())
    print(
        f"history benchmark on {engine.dialect.name} ({platform.python_version()},"
        f" {os.cpu_count()} cores); now = {now}"
    )
    seed_demo(engine, tenants=1, companies=1, branches=args.agents // 100, agents=100, days=0)
    with engine.connect() as conn:
        agent_ids = list(conn.scalars(select(Agent.id).order_by(Agent.id)))
    reference_id = agent_ids[0]
    raw_ids = agent_ids[1 : args.raw_agents + 1]

    began = time.perf_counter()
    year_start = (now - args.reference_days * DAY) // 60 * 60
    raw_start = (now - args.raw_days * DAY) // 60 * 60
    with engine.begin() as conn:
        partitions.prepare_since(conn, year_start)
        _numbers(conn, max((now - year_start) // 60, args.rollup_days * 24) + 1)
    raw_rows = _seed_raw(engine, [reference_id], year_start, now)
    raw_rows += _seed_raw(engine, raw_ids, raw_start, now)
    seeded_raw = time.perf_counter() - began
    print(
        f"seeded {raw_rows:,} raw samples in {seeded_raw:.1f} s ({len(raw_ids)} agents x"
        f" {args.raw_days} days + 1 agent x {args.reference_days} days, one a minute)"
    )

    # The year-of-raw agent's older hours first, alone (the job would list every agent)
    raw_hour = rollups.hour_start(raw_start)
    with engine.begin() as conn:
        for hour in range(rollups.hour_start(year_start), raw_hour, HOUR):
            rollups.roll(conn, hour, hour + HOUR, [reference_id])
        rollups.set_mark(conn, rollups.ROLLED_UNTIL, raw_hour)
        catch_up = conn.scalar(
            select(func.count()).select_from(Telemetry).where(Telemetry.ts >= raw_hour)
        )
    began = time.perf_counter()
    hours = rollups.roll_closed_hours(engine, now)
    rolled_s = time.perf_counter() - began
    print(
        f"rollup job catching up {hours:,} hours ({args.agents} agents listed,"
        f" {catch_up:,} samples): {rolled_s:.1f} s = {rolled_s / catch_up * 1e6:.2f} us"
        " per sample"
    )
    with engine.connect() as conn:
        rolled = rollups.get_mark(conn, rollups.ROLLED_UNTIL)
    began = time.perf_counter()
    rollup_rows = _seed_rollups(engine, agent_ids, now, args, rolled)
    print(
        f"seeded {rollup_rows:,} hourly rollup rows in {time.perf_counter() - began:.1f} s"
        f" ({args.agents} agents x {args.rollup_days} days)"
    )
    began = time.perf_counter()
    with engine.begin() as conn:
        first = rollups.hour_start(year_start)
        for lo in range(first, rolled, 7 * DAY):
            branch_rollups.roll_branches(conn, lo, min(lo + 7 * DAY, rolled))
        branch_rows = conn.scalar(select(func.count()).select_from(TelemetryBranchHourly))
    print(
        f"built the node tier from them: {branch_rows:,} branch-hour rows in"
        f" {time.perf_counter() - began:.1f} s (a week of hours per statement)"
    )
    began = time.perf_counter()
    days = rollups.roll_closed_days(engine)
    with engine.connect() as conn:
        daily_rows = conn.scalar(select(func.count()).select_from(TelemetryDaily))
    spent = time.perf_counter() - began
    print(
        f"rolled {days} closed days into the daily tier: {daily_rows:,} agent-day rows in"
        f" {spent:.1f} s = {spent / max(1, daily_rows) * 1e3:.2f} ms per agent-day"
    )
    _analyze(engine)

    _rollup_upkeep(engine, rolled)
    _agent_charts(services, engine, reference_id, raw_ids[0], now, args.runs)
    _aggregates(services, engine, now, args.runs)
    _bytes_per_sample(engine, raw_start, now)
    _housekeeping(engine, now, args)
    services.close()
    return 0


def _numbers(conn, count: int) -> None:
    """``bench_numbers(n)`` holding 0 .. count-1, by doubling."""
    conn.exec_driver_sql("CREATE TABLE bench_numbers (n INTEGER PRIMARY KEY)")
    conn.exec_driver_sql("INSERT INTO bench_numbers VALUES (0)")
    size = 1
    while size < count:
        conn.execute(
            text(
                "INSERT INTO bench_numbers SELECT n + :size FROM bench_numbers WHERE n + :size < :c"
            ),
            {"size": size, "c": count},
        )
        size *= 2


def _seed_raw(engine: Engine, agent_ids: list[int], start: int, end: int) -> int:
    """One sample a minute per agent: a daily CPU cycle with noise, creeping memory and
    disk, growing network counters; computed by the database."""
    sql = (
        f"INSERT INTO telemetry ({RAW_COLUMNS})"
        " SELECT a.id, :start + n * 60,"
        " 10 + ((n + a.id * 97) % 1440) / 40.0 + ((n * 7919 + a.id) % 97) / 10.0,"
        " 30 + (n % 10080) / 500.0, 40 + n / 20000.0,"
        " n * (1000 + a.id % 50) + (n * 31) % 1000, n * 300 + (n * 17) % 500,"
        " ((n * 13 + a.id) % 400) / 100.0, n * 60"
        " FROM agents a CROSS JOIN bench_numbers"
        " WHERE a.id IN ({ids}) AND n < :minutes"
    )
    return _per_agents(engine, sql, agent_ids, {"start": start, "minutes": (end - start) // 60})


def _per_agents(engine: Engine, sql: str, agent_ids: list[int], params: dict) -> int:
    total = 0
    for first in range(0, len(agent_ids), AGENTS_PER_STATEMENT):
        listed = ",".join(str(i) for i in agent_ids[first : first + AGENTS_PER_STATEMENT])
        with engine.begin() as conn:
            total += conn.execute(text(sql.replace("{ids}", listed)), params).rowcount
    return total


def _seed_rollups(engine, agent_ids, now, args, rolled) -> int:
    """Generated hourly rows before each agent's rolled-up raw history (over the whole
    range up to ``rolled`` for agents without raw samples)."""
    first_hour = (now - args.rollup_days * DAY) // HOUR * HOUR
    stats = []
    for i, _metric in enumerate(rollups.ROLLUP_METRICS):
        base = f"(10 + {i * 7} + ((n + a.id * 7) % 24) * 1.5 + ((n * 31 + a.id) % 13))"
        stats += [f"{base} * 0.6", base, f"{base} * 1.5"]
    sql = (
        f"INSERT INTO telemetry_hourly ({', '.join(rollups.ROLLUP_COLUMNS)})"
        f" SELECT a.id, :first + n * {HOUR}, 60, {', '.join(stats)}"
        " FROM agents a CROSS JOIN bench_numbers"
        " WHERE a.id IN ({ids}) AND n < :hours"
    )
    with engine.connect() as conn:
        rolled_from = dict(
            conn.execute(
                select(TelemetryHourly.agent_id, func.min(TelemetryHourly.hour)).group_by(
                    TelemetryHourly.agent_id
                )
            ).all()
        )
    plain = [a for a in agent_ids if a not in rolled_from]
    total = _per_agents(
        engine, sql, plain, {"first": first_hour, "hours": (rolled - first_hour) // HOUR}
    )
    for agent_id, since in rolled_from.items():
        hours = (since - first_hour) // HOUR
        if hours > 0:
            total += _per_agents(engine, sql, [agent_id], {"first": first_hour, "hours": hours})
    return total


def _analyze(engine: Engine) -> None:
    with engine.connect() as conn:
        if partitions.is_mysql(conn):
            conn.exec_driver_sql(
                "ANALYZE TABLE telemetry, telemetry_hourly, telemetry_branch_hourly, agents"
            )


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """First run and median of the following ones, in milliseconds."""
    began = time.perf_counter()
    result = fn()
    first = (time.perf_counter() - began) * 1000
    times = []
    for _ in range(max(1, runs)):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return first, statistics.median(times), result


def report(label: str, first: float, median: float, extra: str = "") -> None:
    print(f"  {label:<58} first {first:8.1f} ms  median {median:8.1f} ms  {extra}")


def _rollup_upkeep(engine: Engine, rolled: int) -> None:
    hour = rolled - HOUR
    with engine.connect() as conn:
        samples = conn.scalar(
            select(func.count())
            .select_from(Telemetry)
            .where(Telemetry.ts >= hour, Telemetry.ts < hour + HOUR)
        )

    def one_hour():
        with engine.begin() as conn:
            rollups.roll(conn, hour, hour + HOUR)

    first, median, _ = timed(one_hour, 3)
    per_sample = median / 1000 / max(1, samples)
    print(f"rollup upkeep: one closed hour ({samples:,} samples)")
    report(
        "roll one hour (upsert, all agents, then their branches)",
        first,
        median,
        f"{per_sample * 1e6:.2f} us/sample -> {per_sample * 1700 * 100:.2f} % of one core"
        " at 1,700 samples/s (DB + client)",
    )

    def branches_hour():
        with engine.begin() as conn:
            branch_rollups.roll_branches(conn, hour, hour + HOUR)

    with engine.connect() as conn:
        agent_hours = conn.scalar(
            select(func.count()).select_from(TelemetryHourly).where(TelemetryHourly.hour == hour)
        )
    first, median, _ = timed(branches_hour, 3)
    per_agent_hour = median / 1000 / max(1, agent_hours)
    report(
        f"  of which the node tier ({agent_hours:,} agent-hours)",
        first,
        median,
        f"{per_agent_hour * 1e6:.1f} us/agent-hour = {per_agent_hour / 60 * 1e6:.2f} us/sample"
        " at one sample a minute",
    )


def _agent_charts(services, engine, reference_uuid_id, raw_agent_id, now, runs) -> None:
    with engine.connect() as conn:
        uuids = dict(conn.execute(select(Agent.id, Agent.uuid)).all())
    reference, agent = uuids[reference_uuid_id], uuids[raw_agent_id]
    tel = services.telemetry
    print(
        "agent charts (service call, 2,000 points at most; targets: 1 year < 200 ms,"
        " 30 days < 100 ms)"
    )
    for label, uuid, span, resolution in (
        ("1 day (raw)", agent, DAY, "auto"),
        ("7 days (raw)", agent, 7 * DAY, "auto"),
        ("30 days (hourly rollups)", agent, 30 * DAY, "auto"),
        ("1 year (hourly rollups), a full year of history", reference, 365 * DAY, "auto"),
        ("REFERENCE 1 year as raw scan, year-of-raw agent", reference, 365 * DAY, "raw"),
        ("REFERENCE 30 days as raw scan, year-of-raw agent", reference, 30 * DAY, "raw"),
    ):
        first, median, series = timed(
            lambda u=uuid, s=span, r=resolution: tel.telemetry_range(
                ROOT, u, now - s, now, resolution=r
            ),
            runs,
        )
        report(
            label,
            first,
            median,
            f"{len(series)} points, {series.resolution}, bucket {series.bucket_s} s",
        )


def _aggregates(services, engine, now, runs) -> None:
    with engine.connect() as conn:
        branch = conn.scalar(select(Branch.org_id).order_by(Branch.id).limit(1))
        company = conn.scalar(select(Company.org_id).limit(1))
        agents = conn.scalar(select(func.count()).select_from(Agent))
    tel = services.telemetry
    print("node aggregates, 30 days (targets: branch of 100 < 300 ms, company of 1,000 < 1 s)")
    for label, org in (
        (f"branch ({min(100, agents)} agents)", branch),
        (f"company ({agents} agents)", company),
    ):
        first, median, series = timed(
            lambda o=org: tel.node_aggregate(ROOT, o, now - 30 * DAY, now), runs
        )
        report(
            f"{label}: avg/max per metric + agents reporting",
            first,
            median,
            f"{len(series)} points (node tier)",
        )
        if org == company:
            for days in (90, 365):
                first, median, series = timed(
                    lambda o=org, d=days: tel.node_aggregate(ROOT, o, now - d * DAY, now), runs
                )
                report(
                    f"{label}: the same over {days} days",
                    first,
                    median,
                    f"{len(series)} points, bucket {series.bucket_s} s",
                )
            with _all_branches_stale(engine):
                first, median, series = timed(
                    lambda o=org: tel.node_aggregate(ROOT, o, now - 30 * DAY, now), runs
                )
            report(
                f"REFERENCE {label} from the agents' rows",
                first,
                median,
                f"{len(series)} points (every branch noted stale)",
            )
        first, median, top = timed(
            lambda o=org: tel.top_agents(ROOT, o, "cpu_percent", now - 30 * DAY, now), runs
        )
        report(f"{label}: top 10 agents by CPU", first, median, f"{len(top)} agents (daily tier)")
        if org == company:
            with _without_daily_tier(engine):
                first, median, hourly_top = timed(
                    lambda o=org: tel.top_agents(ROOT, o, "cpu_percent", now - 30 * DAY, now),
                    runs,
                )
            same = [a.uuid for a in hourly_top] == [a.uuid for a in top]
            report(
                f"REFERENCE {label}: top 10 from the hourly tier",
                first,
                median,
                f"same ranking: {same}",
            )


@contextmanager
def _all_branches_stale(engine: Engine) -> Iterator[None]:
    """Every branch noted stale, so node aggregates read the agents' rows as before the
    node tier (the path a branch takes between an agent's move and housekeeping)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO telemetry_stale_branches (branch_id, since, until)"
                " SELECT id, 0, 9000000000 FROM branches"
            )
        )
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM telemetry_stale_branches"))


@contextmanager
def _without_daily_tier(engine: Engine) -> Iterator[None]:
    """No ``daily_until`` mark: rankings read every hour from the hourly tier."""
    with engine.begin() as conn:
        daily = rollups.get_mark(conn, rollups.DAILY_UNTIL)
        conn.execute(
            TelemetryMark.__table__.delete().where(TelemetryMark.name == rollups.DAILY_UNTIL)
        )
    try:
        yield
    finally:
        with engine.begin() as conn:
            rollups.set_mark(conn, rollups.DAILY_UNTIL, daily)


def _bytes_per_sample(engine: Engine, raw_start: int, now: int) -> None:
    """Raw tier bytes on disk per sample, against the same rows in the table as it was
    (BIGINT ts, no compression, no partitions); also for the days every raw agent reports
    alone (the year-of-raw agent's days are partitions of 1,440 rows each, where a
    partition's own pages weigh as much as its rows)."""
    if engine.dialect.name == "sqlite":
        return
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE telemetry_before (agent_id INTEGER NOT NULL, ts BIGINT NOT NULL,"
            " cpu_percent FLOAT, mem_percent FLOAT, disk_percent FLOAT, net_rx_bytes BIGINT,"
            " net_tx_bytes BIGINT, load_1m FLOAT, uptime_s BIGINT, PRIMARY KEY (agent_id, ts))"
            " ENGINE=InnoDB"
        )
        # the same arrival order as ingest: by time, agents interleaved
        conn.exec_driver_sql(
            "INSERT INTO telemetry_before SELECT * FROM telemetry ORDER BY ts, agent_id"
        )
    with engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(Telemetry))
        for table in ("telemetry", "telemetry_before"):
            conn.exec_driver_sql(f"FLUSH TABLES {table} FOR EXPORT")
            conn.exec_driver_sql("UNLOCK TABLES")
        now_bytes = disk_bytes(conn, ("telemetry",))
        before = disk_bytes(conn, ("telemetry_before",))
        logical = conn.exec_driver_sql(
            "SELECT SUM(data_length + index_length) FROM information_schema.tables"
            " WHERE table_schema = DATABASE() AND table_name = 'telemetry'"
        ).scalar()
        full = [
            p
            for p in partitions.partitions(conn)
            if p.bound is not None and p.bound - DAY >= raw_start and p.bound <= now
        ]
        schema = conn.exec_driver_sql("SELECT DATABASE()").scalar()
        fleet_bytes = conn.execute(
            text(
                "SELECT SUM(allocated_size) FROM information_schema.innodb_sys_tablespaces"
                " WHERE name IN :names"
            ).bindparams(bindparam("names", expanding=True)),
            {"names": [f"{schema}/telemetry#P#{p.name}" for p in full]},
        ).scalar()
        fleet_rows = conn.scalar(
            select(func.count())
            .select_from(Telemetry)
            .where(Telemetry.ts >= full[0].bound - DAY, Telemetry.ts < full[-1].bound)
        )
        conn.exec_driver_sql("DROP TABLE telemetry_before")
    print(f"raw tier on disk ({rows:,} samples, InnoDB files as allocated after a flush)")
    print(
        f"  partitioned, page-compressed: {now_bytes / rows:6.1f} B/sample"
        f" (pages before compression {int(logical) / rows:.1f} B/sample)"
    )
    print(
        f"  the {len(full)} whole days of the raw fleet alone ({fleet_rows:,} samples):"
        f" {int(fleet_bytes) / fleet_rows:6.1f} B/sample"
    )
    print(f"  REFERENCE table as before:    {before / rows:6.1f} B/sample")


@contextmanager
def _statement_times(engine: Engine, prefix: str, times: list[float]) -> Iterator[None]:
    """Append how long each statement starting with ``prefix`` took to ``times``."""
    started: list[float] = []

    def before(conn, cursor, statement, *args) -> None:
        started.append(time.perf_counter())

    def after(conn, cursor, statement, *args) -> None:
        if statement.startswith(prefix):
            times.append(time.perf_counter() - started[-1])

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _housekeeping(engine: Engine, now: int, args) -> None:
    """Expire one raw day by dropping its partition, then the next day row by row."""
    print(
        f"housekeeping (raw retention {args.raw_days - 1} days: one day of"
        f" {args.raw_agents} agents expires, plus the year-of-raw agent's older days)"
    )
    began = time.perf_counter()
    result = housekeep(engine, Retention(raw=timedelta(days=args.raw_days - 1)), now=now)
    spent = time.perf_counter() - began
    print(
        f"  housekeep pass: {spent * 1000:.0f} ms; {len(result.partitions_dropped)} partitions"
        f" dropped, {result.rollup_rows_deleted:,} rollup rows deleted"
    )
    day = partitions.day_start(now - (args.raw_days - 2) * DAY)
    with engine.connect() as conn:
        next_day = conn.scalar(
            select(func.count())
            .select_from(Telemetry)
            .where(Telemetry.ts >= day - DAY, Telemetry.ts < day)
        )
        one = [p for p in partitions.partitions(conn) if p.bound == day]
    if engine.dialect.name != "sqlite" and one:
        locking: list[float] = []
        with _statement_times(engine, "ALTER TABLE telemetry ", locking):
            began = time.perf_counter()
            partitions.drop_before(engine, day)
            dropped = time.perf_counter() - began
        print(
            f"  drop one day's partition ({one[0].rows:,} rows by estimate):"
            f" {dropped * 1000:.0f} ms, of which telemetry locked (swap out, drop the"
            f" emptied partition) {sum(locking) * 1000:.0f} ms"
        )
        day += DAY
        with engine.connect() as conn:
            next_day = conn.scalar(
                select(func.count())
                .select_from(Telemetry)
                .where(Telemetry.ts >= day - DAY, Telemetry.ts < day)
            )
    began = time.perf_counter()
    deleted = _delete_by_agents(engine, Telemetry.__table__, "ts", day, PassPace())
    spent = time.perf_counter() - began
    print(
        f"  REFERENCE delete the next day row by row ({deleted:,} rows, expected"
        f" {next_day:,}, 50 agents per transaction): {spent * 1000:.0f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
