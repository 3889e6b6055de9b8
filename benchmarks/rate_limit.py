"""What the shared rate limit costs per request: ``RateLimiter.retry_after`` (a bucket in
shared memory under an ``fcntl`` lock, one table for every worker process) next to the
per-process dictionary of token buckets it replaced, same keys, same run.

    python benchmarks/rate_limit.py [--agents 5000] [--calls 500000] [--processes 2]

The keys cycle through ``--agents`` agent ids (every call finds its bucket, as in steady
operation). ``--processes`` workers forked after the table was made call at once, the case
``argos-ingest --processes N`` creates, to show what waiting on each other's lock costs.

A benchmark prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

from ingest_server.rate_limit import RateLimiter

RATE, BURST = 2.0, 20.0


class DictBuckets:
    """The per-process limiter as it was: a dict of (tokens, last) per agent."""

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[float, float]] = {}

    def retry_after(self, key: int) -> int:
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (BURST, now))
        tokens = min(BURST, tokens + (now - last) * RATE)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / RATE))
        self._buckets[key] = (tokens - 1, now)
        return 0


def per_call_us(limiter, agents: int, calls: int) -> float:
    keys = [i % agents for i in range(calls)]
    retry_after = limiter.retry_after
    started = time.perf_counter()
    for key in keys:
        retry_after(key)
    return 1e6 * (time.perf_counter() - started) / calls


def contended_us(limiter: RateLimiter, agents: int, calls: int, processes: int) -> list[float]:
    """Each forked worker's cost per call while all of them call at once."""
    pipes = []
    for index in range(processes):
        reading, writing = os.pipe()
        if os.fork() == 0:
            offset = index * agents  # its own agents, as connections spread them
            us = per_call_us(_Offset(limiter, offset), agents, calls)
            os.write(writing, f"{us:.4f}".encode())
            os._exit(0)
        os.close(writing)
        pipes.append(reading)
    results = []
    for reading in pipes:
        results.append(float(os.read(reading, 64).decode()))
        os.close(reading)
    for _ in pipes:
        os.wait()
    return results


class _Offset:
    def __init__(self, limiter: RateLimiter, offset: int) -> None:
        self._limiter, self._offset = limiter, offset

    def retry_after(self, key: int) -> int:
        return self._limiter.retry_after(key + self._offset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=500_000)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    print(
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()},"
        f" load average {os.getloadavg()[0]:.1f}; {args.agents} agents, {args.calls} calls"
        f" each, rate {RATE}/s burst {BURST:g}"
    )
    shared = per_call_us(RateLimiter(RATE, BURST), args.agents, args.calls)
    local = per_call_us(DictBuckets(), args.agents, args.calls)
    print(f"one process: shared table {shared:.2f} us/call, per-process dict {local:.2f} us/call")
    both = contended_us(RateLimiter(RATE, BURST), args.agents, args.calls, args.processes)
    print(
        f"{args.processes} processes calling at once: "
        + ", ".join(f"{us:.2f}" for us in both)
        + " us/call"
    )


if __name__ == "__main__":
    main()
