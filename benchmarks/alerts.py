"""Alert benchmarks: what alerting costs ingest, and the absence pass over a large fleet.

    python benchmarks/alerts.py [--database-url URL] [--scenarios ingest absence]

``ingest``: ``argos-ingest`` (``--processes``) takes batched telemetry (``--batch-size``
samples per request, as in benchmarks/ingest.py) alternately without alert rules and with
``--rules`` threshold rules on the fleet's tenant (so on every agent), ``--rounds`` times in
the same run against the same server and database; each round prints both rates, the
server's CPU per sample, and their ratio (target: with rules >= 90 % of without).

``absence``: a scratch fleet of ``--agents`` agents in ``--branches`` branches that reported
just now, an offline rule and a webhook channel on the tenant, then times: (1) a pass with
every agent online, (2) a pass right after ``--offline`` agents went silent (alerts opened,
their outbox rows written), (3) the next pass (nothing new).

Each scenario works in a scratch database, dropped afterwards. A benchmark prints figures;
it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import ingest as ingest_bench
from scratch import create_database, drop_database
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import make_url

from argos_core.alerts.evaluation import absence_pass
from argos_core.bootstrap import bootstrap
from argos_core.migrate import upgrade
from argos_core.models import Agent, Alert, AlertRule, Branch, NotificationOutbox, utcnow
from argos_core.scope import Principal
from argos_core.settings import StatusPolicy

ROOT = Principal("bench", "superadmin", source="benchmark")
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/argos_bench"
RULE_CACHE_S = 5  # the server re-reads rules this often (argos_core.alerts.evaluation)


def timed(label: str, fn) -> None:
    started = time.perf_counter()
    outcome = fn()
    seconds = time.perf_counter() - started
    print(
        f"{label}: {seconds:.3f} s ({len(outcome.opened)} opened, {len(outcome.resolved)} resolved)"
    )


def absence_scenario(args: argparse.Namespace, db_url: str) -> None:
    services = bootstrap(db_url)
    try:
        upgrade(services.engine)
        tenant = services.orgs.create_tenant(ROOT, "Bench").org_id
        company = services.orgs.create_company(ROOT, tenant, "Company").org_id
        branches = [
            services.orgs.create_branch(ROOT, company, f"Branch {i}").org_id
            for i in range(args.branches)
        ]
        now = utcnow()
        with services.engine.begin() as conn:
            rows = conn.execute(select(Branch).where(Branch.org_id.in_(branches))).all()
            per = args.agents // len(rows)
            for branch in rows:
                conn.execute(
                    insert(Agent),
                    [
                        {
                            "uuid": str(uuid.uuid4()),
                            "tenant_id": branch.tenant_id,
                            "company_id": branch.company_id,
                            "branch_id": branch.id,
                            "machine_id": f"m-{branch.id}-{i}",
                            "hostname": f"host-{branch.id}-{i:05d}",
                            "last_seen": now,
                        }
                        for i in range(per)
                    ],
                )
        services.alerts.create_rule(ROOT, tenant, condition="offline", severity="critical")
        services.alerts.create_channel(ROOT, tenant, "webhook", "http://127.0.0.1:9/argos")
        print(f"absence: {args.agents:,} agents in {args.branches} branches, one offline rule")
        policy = StatusPolicy()
        timed("(1) pass, all online", lambda: absence_pass(services.session_factory, policy))
        with services.engine.begin() as conn:
            silent = conn.execute(select(Agent.id).limit(args.offline)).scalars().all()
            conn.execute(
                update(Agent)
                .where(Agent.id.in_(silent))
                .values(last_seen=now - timedelta(minutes=10))
            )
        timed(
            f"(2) pass, {len(silent)} went offline",
            lambda: absence_pass(services.session_factory, policy),
        )
        timed("(3) next pass, nothing new", lambda: absence_pass(services.session_factory, policy))
    finally:
        services.close()


def set_rules(services, count: int) -> None:
    """``count`` threshold rules on the fleet's tenant (none: the rules and their alerts
    go), then a wait for the server's rule cache to see the change."""
    with services.engine.begin() as conn:
        for table in (NotificationOutbox, Alert, AlertRule):
            conn.execute(delete(table))
    ingest_bench.add_alert_rules(services.database_url, count)
    time.sleep(RULE_CACHE_S + 1)


def ingest_scenario(args: argparse.Namespace, db_url: str) -> None:
    fleet = ingest_bench.make_fleet(db_url, args.concurrency)
    services = bootstrap(db_url)
    server = ingest_bench.IngestProcess(db_url, args.processes, 5.0)
    try:
        print(
            f"ingest: {len(fleet.tokens)} agents, {args.batch_size} samples/request,"
            f" {args.requests} requests per run, {args.processes} server processes"
        )
        ratios, cpu_ratios = [], []
        for round_ in range(args.rounds):
            measured = {}
            for rules in (0, args.rules):
                set_rules(services, rules)
                plan = {
                    "tokens": fleet.tokens,
                    "per_request": args.batch_size,
                    "requests": args.requests,
                    "ts_base": ingest_bench.T0 + (2 * round_ + bool(rules)) * 10_000_000,
                    "concurrency": args.concurrency,
                }
                result = server.measure(plan)
                measured[rules] = result
                label = f"round {round_ + 1}, {rules} rules per agent"
                print(ingest_bench.describe(label, result))
            bare, ruled = measured[0], measured[args.rules]
            ratios.append((ruled.samples / ruled.seconds) / (bare.samples / bare.seconds))
            cpu_ratios.append(
                (ruled.server_cpu_s / ruled.samples) / (bare.server_cpu_s / bare.samples)
            )
            print(
                f"    with {args.rules} rules / without: rate {ratios[-1]:.0%},"
                f" server CPU per sample {cpu_ratios[-1]:.0%}"
            )
        print(
            f"rate with rules / without, median of {len(ratios)} rounds:"
            f" {statistics.median(ratios):.0%} (each: {', '.join(f'{r:.0%}' for r in ratios)});"
            f" server CPU per sample: {statistics.median(cpu_ratios):.0%}"
        )
        with services.engine.connect() as conn:
            opened = conn.scalar(select(func.count()).select_from(Alert))
        print(f"alerts opened in the last run with rules: {opened}")
    finally:
        print(f"server exit code after SIGTERM: {server.stop()}")
        services.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=DEFAULT_MYSQL)
    p.add_argument("--scenarios", nargs="+", default=["ingest", "absence"])
    p.add_argument("--agents", type=int, default=100_000)
    p.add_argument("--branches", type=int, default=100)
    p.add_argument("--offline", type=int, default=1000)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--rules", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--requests", type=int, default=600)
    p.add_argument("--concurrency", type=int, default=24)
    args = p.parse_args()
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"parameters: {vars(args)}")
    workdir = Path(tempfile.mkdtemp(prefix="argos-bench-"))
    for scenario in args.scenarios:
        db_url = create_database(args.database_url, workdir)
        print(f"database: {make_url(db_url).render_as_string(hide_password=True)}")
        try:
            {"ingest": ingest_scenario, "absence": absence_scenario}[scenario](args, db_url)
        finally:
            drop_database(db_url)


if __name__ == "__main__":
    main()
