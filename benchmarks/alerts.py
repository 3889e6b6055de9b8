"""Alert benchmark: the absence pass (offline rules) over a large fleet.

    python benchmarks/alerts.py [--database-url URL] [--agents 100000] [--offline 1000]

Creates a scratch database (dropped afterwards) with one tenant, ``--branches`` branches,
``--agents`` agents that reported just now, an offline rule and a webhook channel on the
tenant, then times: (1) a pass with every agent online, (2) a pass right after ``--offline``
agents went silent (alerts opened, their outbox rows written), (3) the next pass (nothing
new). A benchmark prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from scratch import create_database, drop_database
from sqlalchemy import insert, select, update
from sqlalchemy.engine import make_url

from argos_core.alerts.evaluation import absence_pass
from argos_core.bootstrap import bootstrap
from argos_core.migrate import upgrade
from argos_core.models import Agent, Branch, utcnow
from argos_core.scope import Principal
from argos_core.settings import StatusPolicy

ROOT = Principal("bench", "superadmin", source="benchmark")
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/argos_bench"


def timed(label: str, fn) -> None:
    started = time.perf_counter()
    outcome = fn()
    seconds = time.perf_counter() - started
    print(
        f"{label}: {seconds:.3f} s ({len(outcome.opened)} opened, {len(outcome.resolved)} resolved)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=DEFAULT_MYSQL)
    p.add_argument("--agents", type=int, default=100_000)
    p.add_argument("--branches", type=int, default=100)
    p.add_argument("--offline", type=int, default=1000)
    args = p.parse_args()
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"parameters: {vars(args)}")
    db_url = create_database(args.database_url, Path(tempfile.mkdtemp(prefix="argos-bench-")))
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
        print(f"database: {make_url(db_url).render_as_string(hide_password=True)}")
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
        drop_database(db_url)


if __name__ == "__main__":
    main()
