"""Agents' telemetry requests from a forked load generator: pre-encoded requests written on
kept-alive raw connections (no client library in the measured path), closed loop or paced
at a rate; a paced request's latency counts from its scheduled send time."""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import resource
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from raw_http import read_response


def telemetry_request(token: str, samples: list[dict]) -> bytes:
    body = json.dumps({"samples": samples}, separators=(",", ":")).encode()
    head = (
        "POST /api/v1/telemetry HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def sample(ts: int, i: int) -> dict:
    return {
        "ts": ts,
        "cpu_percent": (i * 7) % 100 + 0.5,
        "mem_percent": (i * 3) % 100 + 0.25,
        "disk_percent": 55.5,
        "net_rx_bytes": 1_000_000 + i,
        "net_tx_bytes": 2_000_000 + i,
        "load_1m": 0.75,
        "uptime_s": 86_400 + i,
    }


@dataclass
class LoadResult:
    requests: int = 0
    samples: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    sent_s: list[float] = field(default_factory=list)  # each latency's request, from the start
    accepted: int = 0
    duplicates: int = 0
    errors: int = 0
    load_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    database_cpu_s: float = 0.0  # a local MariaDB's, where the script reads it


def between(result: LoadResult, since_s: float, until_s: float) -> list[float]:
    """The latencies of the requests sent (scheduled, when paced) in that span of the run."""
    return [
        ms
        for ms, at in zip(result.latencies_ms, result.sent_s, strict=True)
        if since_s <= at < until_s
    ]


def percentiles(latencies_ms: list[float]) -> tuple[float, float]:
    """p50 and p99 (nan for none)."""
    lat = sorted(latencies_ms)
    if not lat:
        return float("nan"), float("nan")
    return statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))]


async def _drive(
    port: int,
    requests: list[bytes],
    sizes: list[int],
    concurrency: int,
    rate: float | None,
    retry: bool,
) -> LoadResult:
    result = LoadResult()
    queue = list(range(len(requests)))
    queue.reverse()
    started = time.perf_counter()

    async def connection(slot: int) -> None:
        reader = writer = None
        while queue:
            index = queue.pop()
            scheduled = started + index / rate if rate else time.perf_counter()
            if rate:
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            while True:
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    sent = time.perf_counter()
                    writer.write(requests[index])
                    response = await read_response(reader)
                except (OSError, asyncio.IncompleteReadError, Exception):
                    result.errors += 1
                    writer = None
                    if not retry:
                        break
                    await asyncio.sleep(0.2)
                    continue
                done = time.perf_counter()
                result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
                if response.status == 200:
                    data = json.loads(response.body)
                    result.accepted += data["accepted"]
                    result.duplicates += data["duplicates"]
                    began = scheduled if rate else sent
                    result.latencies_ms.append(1000 * (done - began))
                    result.sent_s.append(began - started)
                    result.samples += sizes[index]
                    break
                if not retry:
                    break
                await asyncio.sleep(float(response.headers.get("retry-after", "1")) * 0.5)
            result.requests += 1

    await asyncio.gather(*(connection(i) for i in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def load_worker(port: int, plan: dict, pipe, ready=None, go=None) -> None:
    """Build the plan's requests, then send them; with ``ready``/``go`` (events), say when
    built and wait for the go, so another load can start at the same moment."""
    tokens, per_request, total = plan["tokens"], plan["per_request"], plan["requests"]
    ts_base = plan["ts_base"]
    requests, sizes = [], []
    for r in range(total):
        agent = r % len(tokens)
        round_ = r // len(tokens)
        first = ts_base + round_ * per_request
        samples = [sample(first + k, r + k) for k in range(per_request)]
        requests.append(telemetry_request(tokens[agent], samples))
        sizes.append(per_request)
    # The forked load generator carries the parent's whole heap (SQLAlchemy, the fleet set-up,
    # the requests just built): its first full collection during the run stalled every
    # connection for 60-100 ms, and that pause was counted as server latency. Freeze it
    # first, as the server does; the requests still leave at their scheduled times.
    gc.collect()
    gc.freeze()
    if ready is not None:
        ready.set()
        go.wait()
    result = asyncio.run(
        _drive(port, requests, sizes, plan["concurrency"], plan.get("rate"), plan.get("retry"))
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.load_cpu_s = usage.ru_utime + usage.ru_stime
    pipe.send(result)


@dataclass
class RunningLoad:
    """A load generator started in a forked process; ``ready`` is set once it is built."""

    process: multiprocessing.process.BaseProcess
    pipe: Any
    ready: Any

    def result(self) -> LoadResult:
        result = self.pipe.recv()
        self.process.join()
        return result


def start_load(port: int, plan: dict, go=None) -> RunningLoad:
    """Fork the load generator; with ``go`` (an event) it waits for it before sending."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    ready = ctx.Event() if go is not None else None
    process = ctx.Process(target=load_worker, args=(port, plan, child, ready, go))
    process.start()
    return RunningLoad(process, parent, ready)


def run_load(port: int, plan: dict) -> LoadResult:
    return start_load(port, plan).result()


def describe(name: str, r: LoadResult) -> str:
    p50, p99 = percentiles(r.latencies_ms)
    text = (
        f"{name}: {r.requests} requests in {r.seconds:.2f}s = {r.requests / r.seconds:,.0f} req/s,"
        f" {r.samples / r.seconds:,.0f} samples/s; p50 {p50:.1f} ms, p99 {p99:.1f} ms;"
        f" statuses {dict(sorted(r.statuses.items()))}, errors {r.errors}"
    )
    if not r.server_cpu_s:
        return text
    return (
        f"{text}\n    CPU: server {r.server_cpu_s:.1f}s"
        f" ({1e6 * r.server_cpu_s / max(1, r.requests):,.0f} us/request,"
        f" {1e6 * r.server_cpu_s / max(1, r.samples):,.1f} us/sample),"
        f" load generator {r.load_cpu_s:.1f}s incl. building the requests"
    )
