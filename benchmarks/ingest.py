"""Ingest benchmark: end-to-end throughput and latency of ``argos-ingest`` against the
database's own multi-row INSERT ceiling, plus a database restart under load.

    python benchmarks/ingest.py [--database-url URL] [--processes 2] [--scenarios ...]

It creates a scratch database (dropped afterwards), inserts agents directly and mints their
tokens (set-up, not measured), starts the server as a child process and drives the load
from another child process, so the figures include HTTP, auth, validation and the durable
group commit. Scenarios:

  batched   samples/s with --batch-size samples per request (closed loop)
  small     1 sample per request from --agents agents: max req/s (closed loop), then a paced
            run at --rate req/s reporting p50/p99 measured from each request's scheduled time
  ceiling   rows/s of direct multi-row INSERTs of the same rows with the same driver; with
            batched, measured right after each of --batched-rounds batched runs (a database
            that is flushing pages shows in both), every round's ratio and the median printed
  restart   a private MariaDB (own datadir, port 3307) restarted mid-load; checks that rows
            stored equal samples acknowledged with 200 (nothing lost, nothing twice)

``--alert-rules N`` puts N threshold rules on the fleet's tenant first, so the same scenarios
measure ingest with alert evaluation at work (compare with a run without).

A benchmark prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ingest_process import SECRET, IngestProcess
from paced_load import describe, load_worker, run_load, sample
from scratch import create_database, drop_database, server_engine
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from argos_core.alerts.rules import METRICS
from argos_core.bootstrap import bootstrap
from argos_core.migrate import upgrade
from argos_core.models import Agent, Branch, Tenant
from argos_core.scope import Principal
from argos_core.telemetry_store import COLUMNS, insert_tuples
from argos_core.tokens import TokenSigner

ROOT = Principal("bench", "superadmin", source="benchmark")
T0 = 1_700_000_000
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/argos_bench"
PRIVATE_PORT = 3307


# --- set-up -------------------------------------------------------------------------------


@dataclass
class Fleet:
    url: str
    tokens: list[str]
    agent_ids: list[int]


def make_fleet(db_url: str, agents: int) -> Fleet:
    services = bootstrap(db_url)
    upgrade(services.engine)
    tag = uuid.uuid4().hex[:6]
    tenant = services.orgs.create_tenant(ROOT, f"Bench {tag}")
    company = services.orgs.create_company(ROOT, tenant.org_id, "Bench company")
    branch = services.orgs.create_branch(ROOT, company.org_id, "Bench branch")
    with services.engine.begin() as conn:
        row = conn.execute(select(Branch).where(Branch.org_id == branch.org_id)).one()
        uuids = [str(uuid.uuid4()) for _ in range(agents)]
        for start in range(0, agents, 1000):
            conn.execute(
                insert(Agent),
                [
                    {
                        "uuid": u,
                        "tenant_id": row.tenant_id,
                        "company_id": row.company_id,
                        "branch_id": row.id,
                        "machine_id": f"bench-{u}",
                        "hostname": f"bench-{start + i:06d}",
                        "report_interval_s": 60,
                    }
                    for i, u in enumerate(uuids[start : start + 1000])
                ],
            )
        ids = dict(conn.execute(select(Agent.uuid, Agent.id).where(Agent.uuid.in_(uuids))).all())
    services.close()
    signer = TokenSigner(SECRET)
    return Fleet(db_url, [signer.issue(u) for u in uuids], [ids[u] for u in uuids])


def add_alert_rules(db_url: str, count: int) -> None:
    """``count`` threshold rules on the fleet's tenant, over every metric in turn (the CPU
    ones breach for some agents now and then: alerts open and resolve during the run)."""
    services = bootstrap(db_url)
    try:
        with services.engine.connect() as conn:
            tenant = conn.execute(select(Tenant.org_id)).scalars().first()
        for i in range(count):
            metric = METRICS[i % len(METRICS)]
            services.alerts.create_rule(
                ROOT,
                tenant,
                metric=metric,
                comparison="above",
                threshold=90.0 if metric == "cpu_percent" else 1e15,
                recover_at=50.0 if metric == "cpu_percent" else None,
                samples=3,
                severity="warning",
            )
    finally:
        services.close()


def count_rows(db_url: str) -> int:
    services = bootstrap(db_url)
    try:
        with services.engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM telemetry")).scalar_one()
    finally:
        services.close()


# --- scenarios ---------------------------------------------------------------------------


def _insert_share(db_url: str, data: list[tuple], per_txn: int, go, pipe) -> None:
    services = bootstrap(db_url)
    with services.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    go.wait()
    for start in range(0, len(data), per_txn):
        with services.engine.begin() as conn:
            insert_tuples(conn, data[start : start + per_txn])
    services.close()
    pipe.send(True)


def measure_ceiling(args: argparse.Namespace, db_url: str, fleet, round_: int) -> float:
    """(c) for the rows of one batched round, with 1 and ``--processes`` connections; the best."""
    rows = args.batched_requests * args.batch_size
    best = 0.0
    for n, connections in enumerate(sorted({1, args.processes})):
        ts_base = T0 + (n + 5) * 10**7 + round_ * 1_000_000
        rate = ceiling(db_url, fleet.agent_ids[:64], rows, 5000, connections, ts_base)
        best = max(best, rate)
        print(
            f"(c) database ceiling: {rows:,} rows by direct multi-row INSERT (the writer's"
            f" own insert_tuples over PyMySQL), 5,000 rows per transaction,"
            f" {connections} connection(s) in separate processes: {rate:,.0f} rows/s"
        )
    return best


def ceiling(
    db_url: str, agent_ids: list[int], rows: int, per_txn: int, connections: int, ts_base: int
) -> float:
    """Rows/s of the writer's own INSERT path (``insert_tuples``: multi-row INSERT statements
    over PyMySQL) with no HTTP in front, from ``connections`` processes."""
    data = []
    for i in range(rows):
        agent = agent_ids[i % len(agent_ids)]
        s = sample(ts_base + i // len(agent_ids), i)
        data.append((agent, s["ts"], *(s[c] for c in COLUMNS[2:])))
    ctx = multiprocessing.get_context("fork")
    go = ctx.Event()
    pipes, workers = [], []
    for n in range(connections):
        parent, child = ctx.Pipe(duplex=False)
        share = data[n::connections]
        workers.append(ctx.Process(target=_insert_share, args=(db_url, share, per_txn, go, child)))
        pipes.append(parent)
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # let every worker connect before the clock starts
    started = time.perf_counter()
    go.set()
    for pipe in pipes:
        pipe.recv()
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return rows / seconds


class PrivateMariaDB:
    """A throw-away MariaDB server with its own datadir, so restarting it disturbs nobody."""

    def __init__(self, workdir: Path, port: int = PRIVATE_PORT) -> None:
        self.datadir = workdir / "mariadb"
        self.port = port
        self.socket = workdir / "mariadb.sock"
        self.proc: subprocess.Popen | None = None
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--user=root",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/argos_restart"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--port={self.port}",
                f"--socket={self.socket}",
                "--bind-address=127.0.0.1",
                "--user=root",
                "--innodb-buffer-pool-size=128M",
                "--skip-log-bin",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            probe = subprocess.run(
                ["mysqladmin", "--protocol=tcp", "-h127.0.0.1", f"-P{self.port}", "-uroot", "ping"],
                capture_output=True,
            )
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        raise SystemExit("the private MariaDB did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(60)
            self.proc = None


def restart_scenario(args, workdir: Path) -> None:
    if not shutil.which("mariadbd") or not shutil.which("mariadb-install-db"):
        print("restart: skipped (mariadbd/mariadb-install-db not installed)")
        return
    db = PrivateMariaDB(workdir)
    db.start()
    try:
        with server_engine(make_url(db.url)).begin() as conn:
            conn.exec_driver_sql("CREATE DATABASE argos_restart CHARACTER SET utf8mb4")
        fleet = make_fleet(db.url, args.restart_agents)
        server = IngestProcess(db.url, args.processes, args.flush_ms)
        plan = {
            "tokens": fleet.tokens,
            "per_request": args.restart_batch,
            "requests": int(args.restart_seconds * args.restart_rate),
            "ts_base": T0,
            "concurrency": 64,
            "rate": args.restart_rate,
            "retry": True,
        }
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe(duplex=False)
        loader = ctx.Process(target=load_worker, args=(server.port, plan, child))
        loader.start()
        time.sleep(args.restart_seconds / 3)
        down = time.perf_counter()
        db.stop()
        time.sleep(args.restart_downtime)
        db.start()
        outage = time.perf_counter() - down
        result = parent.recv()
        loader.join()
        code = server.stop()
        rows = count_rows(db.url)
        acknowledged = result.accepted + result.duplicates
        print(f"restart: MariaDB stopped and restarted mid-run ({outage:.1f}s without database)")
        print("  " + describe("load", result))
        print(
            f"  samples acknowledged with 200: {acknowledged:,} ({result.accepted:,} new,"
            f" {result.duplicates:,} already stored by a commit whose answer was lost)"
        )
        print(
            f"  rows in telemetry: {rows:,};"
            f" samples sent: {plan['requests'] * plan['per_request']:,}"
        )
        lost = acknowledged - rows
        print(
            f"  lost acknowledged samples: {max(0, lost)};"
            f" rows beyond acknowledged: {max(0, -lost)};"
            f" duplicate rows: 0 by primary key; server exit code {code}"
        )
    finally:
        db.stop()


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--database-url", default=os.environ.get("ARGOS_BENCH_DATABASE_URL", DEFAULT_MYSQL)
    )
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--flush-ms", type=float, default=5.0)
    p.add_argument("--scenarios", nargs="+", default=["batched", "ceiling", "small", "restart"])
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--batched-requests", type=int, default=800)
    p.add_argument(
        "--batched-rounds", type=int, default=3, help="(a) then (c), this many times; all shown"
    )
    p.add_argument("--batched-concurrency", type=int, default=24)
    p.add_argument("--agents", type=int, default=5000)
    p.add_argument("--small-requests", type=int, default=40_000)
    p.add_argument("--small-concurrency", type=int, default=128)
    p.add_argument("--rate", type=float, default=1700.0)
    p.add_argument("--paced-seconds", type=float, default=20.0)
    p.add_argument("--restart-agents", type=int, default=500)
    p.add_argument("--restart-batch", type=int, default=10)
    p.add_argument("--restart-rate", type=float, default=400.0)
    p.add_argument("--restart-seconds", type=float, default=20.0)
    p.add_argument("--restart-downtime", type=float, default=3.0)
    p.add_argument(
        "--alert-rules", type=int, default=0, help="threshold rules on the fleet's tenant"
    )
    args = p.parse_args()

    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    print(f"parameters: {vars(args)}")
    workdir = Path(tempfile.mkdtemp(prefix="argos-bench-"))
    db_url = create_database(args.database_url, workdir)
    try:
        fleet = make_fleet(db_url, max(args.agents, args.batched_concurrency))
        add_alert_rules(db_url, args.alert_rules)
        print(
            f"database: {make_url(db_url).render_as_string(hide_password=True)}; "
            f"{len(fleet.tokens)} agents, {args.alert_rules} alert rules"
        )
        with_ceiling = "ceiling" in args.scenarios
        if "batched" in args.scenarios or "small" in args.scenarios:
            server = IngestProcess(db_url, args.processes, args.flush_ms)
            if "batched" in args.scenarios:
                ratios = []
                for round_ in range(args.batched_rounds):
                    plan = {
                        "tokens": fleet.tokens[: max(64, args.batched_concurrency)],
                        "per_request": args.batch_size,
                        "requests": args.batched_requests,
                        "ts_base": T0 + round_ * 1_000_000,
                        "concurrency": args.batched_concurrency,
                    }
                    r = server.measure(plan)
                    label = f"(a) batched, {args.batch_size} samples/request, round {round_ + 1}"
                    print(describe(label, r))
                    if with_ceiling:  # right after, so both meet the database in one state
                        best = measure_ceiling(args, db_url, fleet, round_)
                        ratios.append(r.samples / r.seconds / best)
                        print(f"    ratio (a)/(best c), round {round_ + 1}: {ratios[-1]:.0%}")
                if ratios:
                    each = ", ".join(f"{x:.0%}" for x in ratios)
                    print(
                        f"(a)/(c) over {len(ratios)} rounds: median"
                        f" {statistics.median(ratios):.0%} (each: {each})"
                    )
            if "small" in args.scenarios:
                warm = {
                    "tokens": fleet.tokens,
                    "per_request": 1,
                    "requests": len(fleet.tokens),
                    "ts_base": T0 + 9_000_000,
                    "concurrency": args.small_concurrency,
                }
                run_load(server.port, warm)  # a fleet that has reported before: caches warm
                plan = {
                    "tokens": fleet.tokens,
                    "per_request": 1,
                    "requests": args.small_requests,
                    "ts_base": T0 + 10_000_000,
                    "concurrency": args.small_concurrency,
                }
                r = server.measure(plan)
                print(
                    describe(
                        f"(b) small, 1 sample/request, {len(fleet.tokens)} agents, "
                        f"{args.small_concurrency} connections, closed loop",
                        r,
                    )
                )
                plan = {
                    "tokens": fleet.tokens,
                    "per_request": 1,
                    "requests": int(args.rate * args.paced_seconds),
                    "ts_base": T0 + 20_000_000,
                    "concurrency": args.small_concurrency,
                    "rate": args.rate,
                }
                r = server.measure(plan)
                print(
                    describe(
                        f"(b) small, paced at {args.rate:,.0f} req/s "
                        "(latency from scheduled send time)",
                        r,
                    )
                )
            print(f"server exit code after SIGTERM: {server.stop()}")
        if with_ceiling and "batched" not in args.scenarios:
            measure_ceiling(args, db_url, fleet, 0)
        if "restart" in args.scenarios:
            restart_scenario(args, workdir)
    finally:
        drop_database(db_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
