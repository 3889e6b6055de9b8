"""The server's CPU per console request: ``console_load.py``'s consoles alone, no ingest load.

    python benchmarks/console_cpu.py --database-url URL                    # a seeded demo fleet
    python benchmarks/console_cpu.py --database-url URL --shared-answers 0 # answers not shared
    python benchmarks/console_cpu.py --database-url URL --ask-node         # the console before

The consoles (accounts, tree paths, selections and refreshes exactly as in
``console_load.py``) refresh every ``--interval`` seconds for ``--seconds`` against
``argos-ingest`` (a child process, ``--processes``); nothing else uses the server meanwhile,
so its CPU over the run divided by the console requests is what a console request costs it,
and does not hinge on how an overloaded machine shares its cores between ingest and consoles
(the difference ``console_load.py`` prints). The machine's load average is printed with it.

A benchmark prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os

from console_load import (
    ASK_NODE_HELP,
    consoles_worker,
    describe_consoles,
    machine_line,
    plan_consoles,
)
from ingest_process import IngestProcess
from sqlalchemy.engine import make_url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="a seeded demo fleet")
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument("--interval", type=float, default=10.0, help="live refresh, seconds")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--processes", type=int, default=2, help="argos-ingest processes")
    parser.add_argument("--shared-answers", help="argos-ingest --shared-answers (its default)")
    parser.add_argument("--ask-node", action="store_true", help=ASK_NODE_HELP)
    args = parser.parse_args()

    print(f"machine: {machine_line()}")
    print(f"parameters: {vars(args)}")
    print(f"database: {make_url(args.database_url).render_as_string()}")
    plans, created = plan_consoles(args.database_url, args.consoles, args.ask_node)
    print(f"{len(plans)} consoles ({created} accounts created)")
    extra = ("--shared-answers", args.shared_answers) if args.shared_answers else ()
    server = IngestProcess(args.database_url, args.processes, 5.0, extra)
    try:
        ctx = multiprocessing.get_context("fork")
        ready, go = ctx.Event(), ctx.Event()
        parent, child = ctx.Pipe(duplex=False)
        consoles = ctx.Process(
            target=consoles_worker,
            args=(server.url, plans, args.seconds, args.interval, child, ready, go),
        )
        consoles.start()
        while not ready.wait(1.0):
            if not consoles.is_alive():
                raise SystemExit("the consoles did not get ready")
        before = server.cpu_seconds()
        go.set()
        result = parent.recv()
        consoles.join()
        cpu = server.cpu_seconds() - before
        load = os.getloadavg()[0]
    finally:
        print(f"server exit code after SIGTERM: {server.stop()}")
    requests = sum(len(v) for v in result.latencies_ms.values())
    print("  " + describe_consoles(result))
    print(
        f"server CPU {cpu:.1f} s for {requests} console requests ({result.refreshes} of them"
        f" health checks): {1000 * cpu / max(1, requests):.2f} ms per console request,"
        f" {1000 * cpu / max(1, result.refreshes):.1f} ms per refresh"
        f" (load average {load:.1f} at the end)"
    )


if __name__ == "__main__":
    main()
