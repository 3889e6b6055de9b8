"""Ingest on a 3-node Galera cluster beside a single MariaDB node, in the same run.

    python benchmarks/galera.py [--rounds 2] [--batched-requests 300] [--small-requests 8000]

Both databases are started here by ``deploy/galera/argos-galera`` with the same node
configuration (the single node with Galera off, ``--plain``), both behind haproxy, on this
machine; removed afterwards. For each, an ``argos-ingest`` (``--processes``) serves a fleet
inserted directly (set-up, not measured), and the rounds alternate between the two so both
meet the machine in the same state:

  batched   samples/s with --batch-size samples per request (closed loop)
  small     1 sample per request from --agents agents, closed loop: req/s, p50/p99

Printed: each round's figures and the cluster's rate as a share of the single node's
(median over the rounds). A benchmark prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ingest import T0, IngestProcess, describe, make_fleet, run_load

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "deploy" / "galera" / "argos-galera"


def cluster(directory: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(CLUSTER), "--dir", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"argos-galera {' '.join(args)}: {done.stderr or done.stdout}")
    return done.stdout


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--batched-requests", type=int, default=300)
    p.add_argument("--batched-concurrency", type=int, default=24)
    p.add_argument("--agents", type=int, default=2000)
    p.add_argument("--small-requests", type=int, default=8000)
    p.add_argument("--small-concurrency", type=int, default=64)
    args = p.parse_args()
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    print(f"parameters: {vars(args)}")
    work = Path(tempfile.mkdtemp(prefix="argos-galera-bench-"))
    work.chmod(0o755)  # run as root, the nodes run as the mysql user
    targets = {"single": work / "single", "galera": work / "galera"}
    servers: dict[str, IngestProcess] = {}
    try:
        cluster(targets["single"], "start", "--plain")
        cluster(targets["galera"], "start", "--nodes", str(args.nodes))
        fleets = {}
        for name, directory in targets.items():
            url = json.loads(cluster(directory, "status", "--json"))["database_url"]
            fleets[name] = make_fleet(url, max(args.agents, args.batched_concurrency))
            servers[name] = IngestProcess(url, args.processes, 5.0)
            warm = {
                "tokens": fleets[name].tokens,
                "per_request": 1,
                "requests": len(fleets[name].tokens),
                "ts_base": T0 + 9_000_000,
                "concurrency": args.small_concurrency,
            }
            run_load(servers[name].port, warm)  # agents that reported before: caches warm
        print(f"single: 1 MariaDB node, Galera off; galera: {args.nodes} nodes; both via haproxy")
        rates: dict[str, dict[str, list[float]]] = {
            n: {"batched": [], "small": []} for n in targets
        }
        for round_ in range(args.rounds):
            for name in targets:
                batched = {
                    "tokens": fleets[name].tokens[: max(64, args.batched_concurrency)],
                    "per_request": args.batch_size,
                    "requests": args.batched_requests,
                    "ts_base": T0 + round_ * 1_000_000,
                    "concurrency": args.batched_concurrency,
                }
                r = servers[name].measure(batched)
                rates[name]["batched"].append(r.samples / r.seconds)
                print(describe(f"{name:<6} batched, round {round_ + 1}", r))
            for name in targets:
                small = {
                    "tokens": fleets[name].tokens,
                    "per_request": 1,
                    "requests": args.small_requests,
                    "ts_base": T0 + 20_000_000 + round_ * 1_000_000,
                    "concurrency": args.small_concurrency,
                }
                r = servers[name].measure(small)
                rates[name]["small"].append(r.requests / r.seconds)
                print(describe(f"{name:<6} small, round {round_ + 1}", r))
        for kind, unit in (("batched", "samples/s"), ("small", "req/s")):
            ratios = [
                g / s for g, s in zip(rates["galera"][kind], rates["single"][kind], strict=True)
            ]
            print(
                f"{kind}: galera {statistics.median(rates['galera'][kind]):,.0f} {unit},"
                f" single {statistics.median(rates['single'][kind]):,.0f} {unit};"
                f" galera/single median {statistics.median(ratios):.0%}"
                f" (rounds: {', '.join(f'{x:.0%}' for x in ratios)})"
            )
    finally:
        for server in servers.values():
            server.stop()
        for directory in targets.values():
            subprocess.run(
                [sys.executable, str(CLUSTER), "--dir", str(directory), "stop"], check=False
            )
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
