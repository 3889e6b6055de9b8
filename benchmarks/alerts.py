"""Alert benchmarks: what alerting costs ingest, and the absence pass over a large fleet.

    python benchmarks/alerts.py [--database-url URL] [--scenarios ingest webhook absence]

``ingest``: ``argos-ingest`` (``--processes``) takes batched telemetry (``--batch-size``
samples per request, as in benchmarks/ingest.py) alternately without alert rules and with
``--rules`` threshold rules on the fleet's tenant (so on every agent), ``--rounds`` times in
the same run against the same server and database; each round prints both rates, the
server's CPU per sample, and their ratio (target: with rules >= 90 % of without).

``webhook``: ``--webhook-agents`` agents each send a sample over a critical CPU threshold,
then one under its recovery threshold, ``--webhook-rounds`` times (paced at
``--webhook-rate`` samples/s); a webhook receiver on 127.0.0.1 notes when each opened and
resolved notification arrives: sample sent -> webhook received, p50/p99 (target p99 < 5 s).

``absence``: a scratch fleet of ``--agents`` agents in ``--branches`` branches that reported
just now, an offline rule and a webhook channel on the tenant, then times: (1) a pass with
every agent online, then ``--absence-rounds`` times: (2) a pass right after ``--offline``
agents went silent (alerts opened, their outbox rows written), (3) the next pass (nothing
new), (4) a pass after they reported again (alerts resolved, outbox rows written). Each line
gives the wall time and this process's CPU time (the database server's is not in it); the
target is the wall time of (2) and (3) < 1 s.

Each scenario works in a scratch database, dropped afterwards. A benchmark prints figures;
it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import ingest as ingest_bench
from scratch import create_database, drop_database
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import make_url

from argos_core.alerts.evaluation import absence_pass
from argos_core.bootstrap import bootstrap
from argos_core.migrate import upgrade
from argos_core.models import Agent, Alert, AlertRule, Branch, NotificationOutbox, Tenant, utcnow
from argos_core.scope import Principal
from argos_core.settings import StatusPolicy

ROOT = Principal("bench", "superadmin", source="benchmark")
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/argos_bench"
RULE_CACHE_S = 5  # the server re-reads rules this often (argos_core.alerts.evaluation)


def timed(label: str, fn) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    outcome = fn()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"{label}: {seconds:.3f} s, CPU {cpu:.3f} s ({len(outcome.opened)} opened,"
        f" {len(outcome.resolved)} resolved; load average {os.getloadavg()[0]:.1f})"
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
        for round_no in range(1, args.absence_rounds + 1):
            with services.engine.begin() as conn:
                conn.execute(
                    update(Agent)
                    .where(Agent.id.in_(silent))
                    .values(last_seen=utcnow() - timedelta(minutes=10))
                )
            timed(
                f"round {round_no} (2) pass, {len(silent)} went offline",
                lambda: absence_pass(services.session_factory, policy),
            )
            timed(
                f"round {round_no} (3) next pass, nothing new",
                lambda: absence_pass(services.session_factory, policy),
            )
            with services.engine.begin() as conn:
                conn.execute(update(Agent).where(Agent.id.in_(silent)).values(last_seen=utcnow()))
            timed(
                f"round {round_no} (4) pass, they reported again",
                lambda: absence_pass(services.session_factory, policy),
            )
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


class Receiver:
    """A webhook receiver on 127.0.0.1 noting when each notification arrived, per agent and
    event (a group message counts for each of its alerts)."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.count = 0
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                at = time.monotonic()
                with receiver.changed:
                    for alert in body.get("alerts", [body]):
                        receiver.arrived[(alert["agent_id"], body["event"])].append(at)
                        receiver.count += 1
                    receiver.changed.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout_s: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count >= count, timeout_s)


def webhook_scenario(args: argparse.Namespace, db_url: str) -> None:
    fleet = ingest_bench.make_fleet(db_url, args.webhook_agents)
    services = bootstrap(db_url)
    receiver = Receiver()
    with services.engine.connect() as conn:
        tenant = conn.execute(select(Tenant.org_id)).scalars().one()
        uuids = dict(conn.execute(select(Agent.id, Agent.uuid)).all())
    services.alerts.create_rule(
        ROOT,
        tenant,
        metric="cpu_percent",
        comparison="above",
        threshold=90,
        recover_at=50,
        severity="critical",
    )
    services.alerts.create_channel(ROOT, tenant, "webhook", receiver.url)
    server = ingest_bench.IngestProcess(db_url, args.processes, 5.0)
    sent: dict[tuple[str, str], list[float]] = defaultdict(list)
    expected = 0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as client:
            for round_ in range(args.webhook_rounds):
                for step, (event, cpu) in enumerate(
                    (("alert.opened", 99.0), ("alert.resolved", 10.0))
                ):
                    ts = ingest_bench.T0 + 60 * round_ + 30 * step
                    for token, agent in zip(fleet.tokens, fleet.agent_ids, strict=True):
                        sent[(uuids[agent], event)].append(time.monotonic())
                        client.post(
                            "/api/v1/telemetry",
                            json={"samples": [{"ts": ts, "cpu_percent": cpu}]},
                            headers={"Authorization": f"Bearer {token}"},
                        ).raise_for_status()
                        time.sleep(1 / args.webhook_rate)
                    expected += len(fleet.tokens)
                    if not receiver.wait_for(expected, 60):
                        print(f"    missing after 60 s: {expected - receiver.count} notifications")
    finally:
        print(f"server exit code after SIGTERM: {server.stop()}")
        receiver.server.shutdown()
        services.close()
    latencies = sorted(
        got - put
        for key, times in sent.items()
        for put, got in zip(times, receiver.arrived[key], strict=False)
    )
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"sample -> webhook: {len(latencies)} notifications ({args.webhook_agents} agents,"
        f" {args.webhook_rounds} rounds of opened + resolved, {args.webhook_rate:g} samples/s):"
        f" p50 {statistics.median(latencies):.2f} s, p99 {p99:.2f} s, max {latencies[-1]:.2f} s"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=DEFAULT_MYSQL)
    p.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    p.add_argument("--agents", type=int, default=100_000)
    p.add_argument("--branches", type=int, default=100)
    p.add_argument("--offline", type=int, default=1000)
    p.add_argument("--absence-rounds", type=int, default=3)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--rules", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--requests", type=int, default=600)
    p.add_argument("--concurrency", type=int, default=24)
    p.add_argument("--webhook-agents", type=int, default=50)
    p.add_argument("--webhook-rounds", type=int, default=5)
    p.add_argument("--webhook-rate", type=float, default=50.0, help="samples per second")
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
            SCENARIOS[scenario](args, db_url)
        finally:
            drop_database(db_url)


SCENARIOS = {"ingest": ingest_scenario, "webhook": webhook_scenario, "absence": absence_scenario}

if __name__ == "__main__":
    main()
