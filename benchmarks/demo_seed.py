"""How fast `argos-admin demo seed` fills a database.

    python benchmarks/demo_seed.py --server-url mysql+pymysql://root@127.0.0.1:3306/ \
        --agents 10 --branches 10 --companies 10 --tenants 1 --days 7

Creates a scratch database (dropped afterwards), migrates it, seeds the fleet and prints the
parameters, the time and the rows per second.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from scratch import create_database, drop_database
from sqlalchemy.engine import make_url

from argos_core.db import make_engine
from argos_core.demo import seed_demo
from argos_core.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server-url",
        default="mysql+pymysql://root@127.0.0.1:3306/",
        help="a MySQL server URL, or 'sqlite' for a temporary SQLite file",
    )
    parser.add_argument("--tenants", type=int, default=1)
    parser.add_argument("--companies", type=int, default=10)
    parser.add_argument("--branches", type=int, default=10)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--days", type=float, default=7)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="argos-bench-"))
    base = "sqlite://" if args.server_url == "sqlite" else args.server_url
    url = create_database(base, workdir, prefix="argos_bench_seed")
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        summary = seed_demo(
            engine,
            tenants=args.tenants,
            companies=args.companies,
            branches=args.branches,
            agents=args.agents,
            days=args.days,
        )
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
        drop_database(url)
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"database: {make_url(url).get_backend_name()}; fleet: {args.tenants}x{args.companies}"
        f"x{args.branches}x{args.agents} = {summary.agents} agents, {args.days} days of"
        f" 1-minute samples"
    )
    print(
        f"seeded {summary.samples:,} samples in {seconds:.1f} s"
        f" = {summary.samples / seconds:,.0f} samples/s"
    )


if __name__ == "__main__":
    main()
