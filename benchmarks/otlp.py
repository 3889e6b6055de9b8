"""OTLP intake benchmark: samples/s through ``POST /v1/metrics`` next to the JSON agent API's
batched rate, in the same run, on the same server and database.

    python benchmarks/otlp.py [--database-url URL] [--processes 2] [--rounds 3]

Each round sends (a) JSON agent batches of H x S samples per request (``benchmarks/ingest.py``'s
batched load) and then (o) OTLP exports of H hosts x S seconds each, every second carrying
the 7 data points a host-metrics exporter sends for one sample (CPU and memory utilization,
the root filesystem, network bytes in and out, load, uptime), protobuf (or ``--encoding
json``), closed loop. The OTLP hosts are enrolled before the first round (first sight is an
enrollment, not measured), then ``--warmup-rounds`` rounds of both kinds are sent and not
counted (each server process caches the identities its own connections bring). Every
round's ratio o/a is printed, and the median. The kind sent first alternates from round to
round (the warm-up round included).

A benchmark prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from google.protobuf import json_format
from ingest import ROOT, T0, make_fleet
from ingest_process import IngestProcess
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality
from paced_load import LoadResult, describe
from raw_http import read_response
from scratch import create_database, drop_database
from sqlalchemy.engine import make_url

from argos_core.bootstrap import bootstrap

DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/argos_bench"
CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
CONTENT_TYPES = {"proto": "application/x-protobuf", "json": "application/json"}
WARMUP_HELP = (
    "rounds of both kinds sent first and not counted: each server process learns the hosts"
    " and agents its connections bring (a Collector's host is known to the process its"
    " connection reaches; looking up hosts first seen by that process made the first round"
    " the slowest)"
)


def enrollment_key(db_url: str) -> str:
    services = bootstrap(db_url)
    try:
        tag = uuid.uuid4().hex[:6]
        tenant = services.orgs.create_tenant(ROOT, f"OTLP bench {tag}")
        company = services.orgs.create_company(ROOT, tenant.org_id, "OTLP company")
        branch = services.orgs.create_branch(ROOT, company.org_id, "OTLP branch")
        return services.enrollment.issue_key(ROOT, branch.org_id, expires_in=None).key
    finally:
        services.close()


def export_request(hosts: list[str], first: int, seconds: int) -> ExportMetricsServiceRequest:
    message = ExportMetricsServiceRequest()
    for h, host in enumerate(hosts):
        rm = message.resource_metrics.add()
        rm.resource.attributes.add(key="host.name").value.string_value = host
        rm.resource.attributes.add(key="os.type").value.string_value = "linux"
        metrics = rm.scope_metrics.add().metrics
        gauges = {
            name: metrics.add(name=name).gauge.data_points
            for name in (
                "system.cpu.utilization",
                "system.memory.utilization",
                "system.filesystem.utilization",
                "system.cpu.load_average.1m",
                "system.uptime",
            )
        }
        network = metrics.add(name="system.network.io").sum
        network.aggregation_temporality = CUMULATIVE
        network.is_monotonic = True
        for k in range(seconds):
            ts = (first + k) * 10**9
            i = h + k

            def point(points, value, ts=ts, **attrs):
                dp = points.add(time_unix_nano=ts, start_time_unix_nano=T0 * 10**9)
                if isinstance(value, int):
                    dp.as_int = value
                else:
                    dp.as_double = value
                for key, text in attrs.items():
                    dp.attributes.add(key=key).value.string_value = text

            point(gauges["system.cpu.utilization"], 1 - ((i * 7) % 100 + 0.5) / 100, state="idle")
            point(gauges["system.memory.utilization"], ((i * 3) % 100 + 0.25) / 100, state="used")
            point(gauges["system.filesystem.utilization"], 0.555, mountpoint="/")
            point(gauges["system.cpu.load_average.1m"], 0.75)
            point(gauges["system.uptime"], 86_400 + i)
            point(network.data_points, 1_000_000 + i, device="eth0", direction="receive")
            point(network.data_points, 2_000_000 + i, device="eth0", direction="transmit")
    return message


def http_request(message: ExportMetricsServiceRequest, key: str, encoding: str) -> bytes:
    if encoding == "json":
        body = json_format.MessageToJson(message, indent=None).encode()
    else:
        body = message.SerializeToString()
    head = (
        f"POST /v1/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {CONTENT_TYPES[encoding]}"
        f"\r\nAuthorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def drive(port: int, requests: list[bytes], samples_each: int, concurrency: int):
    result = LoadResult()
    queue = list(reversed(range(len(requests))))
    started = time.perf_counter()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            index = queue.pop()
            sent = time.perf_counter()
            writer.write(requests[index])
            response = await read_response(reader)
            result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
            result.requests += 1
            if response.status == 200:
                result.samples += samples_each
                result.latencies_ms.append(1000 * (time.perf_counter() - sent))
        writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def otlp_worker(port: int, plan: dict, pipe) -> None:
    hosts, per, seconds = plan["hosts"], plan["hosts_per_request"], plan["seconds"]
    groups = [hosts[i : i + per] for i in range(0, len(hosts), per)]
    requests = [
        http_request(
            export_request(
                groups[r % len(groups)], plan["ts_base"] + (r // len(groups)) * seconds, seconds
            ),
            plan["key"],
            plan["encoding"],
        )
        for r in range(plan["requests"])
    ]
    gc.collect()
    gc.freeze()
    pipe.send(asyncio.run(drive(port, requests, per * seconds, plan["concurrency"])))


def run_otlp(server: IngestProcess, plan: dict) -> LoadResult:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=otlp_worker, args=(server.port, plan, child))
    before_cpu = server.cpu_seconds()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process.start()
    result = parent.recv()
    process.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.load_cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result.server_cpu_s = server.cpu_seconds() - before_cpu
    return result


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--database-url", default=os.environ.get("ARGOS_BENCH_DATABASE_URL", DEFAULT_MYSQL)
    )
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--flush-ms", type=float, default=5.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=400, help="per round and kind")
    p.add_argument("--warmup-rounds", type=int, default=1, help=WARMUP_HELP)
    p.add_argument("--concurrency", type=int, default=24)
    p.add_argument("--hosts-per-request", type=int, default=10)
    p.add_argument("--seconds-per-host", type=int, default=50)
    p.add_argument("--hosts", type=int, default=640)
    p.add_argument("--encoding", choices=sorted(CONTENT_TYPES), default="proto")
    args = p.parse_args()

    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    print(f"parameters: {vars(args)}")
    workdir = Path(tempfile.mkdtemp(prefix="argos-bench-"))
    db_url = create_database(args.database_url, workdir)
    batch = args.hosts_per_request * args.seconds_per_host
    try:
        fleet = make_fleet(db_url, max(64, args.concurrency))
        key = enrollment_key(db_url)
        hosts = [f"otlp-{i:05d}" for i in range(args.hosts)]
        print(f"database: {make_url(db_url).render_as_string(hide_password=True)}")
        server = IngestProcess(db_url, args.processes, args.flush_ms)
        otlp = {
            "hosts": hosts,
            "hosts_per_request": args.hosts_per_request,
            "key": key,
            "encoding": args.encoding,
            "concurrency": args.concurrency,
        }
        warm = run_otlp(
            server,
            {
                **otlp,
                "seconds": 1,
                "requests": -(-len(hosts) // args.hosts_per_request),
                "ts_base": T0 - 10,
            },
        )
        print(f"enrolled {len(hosts)} OTLP hosts: statuses {warm.statuses}")
        ratios = []
        for round_ in range(-args.warmup_rounds, args.rounds):
            base = T0 + (round_ + args.warmup_rounds) * 1_000_000
            agent_plan = {
                "tokens": fleet.tokens[: max(64, args.concurrency)],
                "per_request": batch,
                "requests": args.requests,
                "ts_base": base,
                "concurrency": args.concurrency,
            }
            name = f"round {round_ + 1}" if round_ >= 0 else "warm-up, not counted"
            otlp_plan = {
                **otlp,
                "seconds": args.seconds_per_host,
                "requests": args.requests,
                "ts_base": base,
            }
            # Which kind goes first alternates: what one leaves the database doing (its
            # pages to write back) falls on the other.
            if round_ % 2:
                o = run_otlp(server, otlp_plan)
                a = server.measure(agent_plan)
            else:
                a = server.measure(agent_plan)
                o = run_otlp(server, otlp_plan)
            print(describe(f"(a) JSON agent API, {batch} samples/request, {name}", a))
            label = (
                f"(o) OTLP {args.encoding}, {args.hosts_per_request} hosts x"
                f" {args.seconds_per_host} s = {batch} samples/request, {name}"
                f"{', sent first' if round_ % 2 else ''}"
            )
            print(describe(label, o))
            ratio = (o.samples / o.seconds) / (a.samples / a.seconds)
            print(f"    ratio (o)/(a), {name}: {ratio:.2f}")
            if round_ >= 0:
                ratios.append(ratio)
        each = ", ".join(f"{x:.2f}" for x in ratios)
        print(
            f"(o)/(a) over {len(ratios)} rounds: median {statistics.median(ratios):.2f}"
            f" (each: {each})"
        )
        print(f"server exit code after SIGTERM: {server.stop()}")
    finally:
        drop_database(db_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
