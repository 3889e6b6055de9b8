"""A fleet of simulated hosts reporting over the real protocol, all in one event loop.

Every host has its own personality drawn from a seeded RNG: a baseline load with a daily
rhythm, noise, occasional bursts, memory that creeps up and drops back (restarts), slowly
filling disks, traffic counters growing at their own rates. The same seed and index give the
same host, machine id and curves, so a restarted simulator re-enrolls the same agents.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argos_agent import __version__
from argos_agent.protocol import Enrollment, IngestClient
from argos_agent.reporter import EnrollmentRefused, Reporter

log = logging.getLogger(__name__)

DAY_S = 86400.0
ENROLL_CONCURRENCY = 16
POOL_CONNECTIONS = 64
ROLES = ("web", "db", "app", "cache", "ws", "build", "file", "mail")
OSES = ("Linux 6.1", "Linux 5.15", "Windows 10.0.19045", "Windows Server 2022", "macOS 14.5")


class SimulatedHost:
    def __init__(self, branch_org_id: str, index: int, seed: int = 0) -> None:
        rng = random.Random(f"{seed}:{branch_org_id}:{index}")
        self._rng = rng
        role = rng.choice(ROLES)
        self.hostname = f"{role}-{branch_org_id.lower()}-{index + 1:04d}"
        self.machine_id = f"argos-sim-{seed}-{branch_org_id}-{index}"
        self.os = rng.choice(OSES)
        self.cpu_count = rng.choice((2, 4, 8, 16, 32))
        self.memory_total_bytes = rng.choice((4, 8, 16, 32, 64, 128)) * 1024**3
        self._cpu_base = rng.uniform(3, 55)
        self._cpu_daily = rng.uniform(0, 30)
        self._phase = rng.uniform(0, 2 * math.pi)
        self._mem_base = rng.uniform(20, 70)
        self._mem = self._mem_base
        self._mem_leak = rng.uniform(0, 0.05)
        self._disk = rng.uniform(15, 85)
        self._disk_growth = rng.uniform(0, 0.002)
        self._rx_rate = rng.lognormvariate(11, 1.5)
        self._tx_rate = self._rx_rate * rng.uniform(0.1, 1.5)
        self._rx = rng.randrange(1 << 30)
        self._tx = rng.randrange(1 << 30)
        self._uptime = rng.uniform(3600, 90 * DAY_S)
        self._burst_until = 0.0
        self._last: float | None = None

    def inventory(self) -> dict[str, Any]:
        return {
            "hostname": self.hostname,
            "machine_id": self.machine_id,
            "os": self.os,
            "agent_version": f"{__version__}-sim",
            "ip_addresses": [f"10.{self._rng.randrange(256)}.{self._rng.randrange(256)}.10"],
            "cpu_count": self.cpu_count,
            "memory_total_bytes": self.memory_total_bytes,
        }

    def __call__(self, now: float) -> dict[str, Any]:
        rng = self._rng
        elapsed = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        day = math.sin(2 * math.pi * (now % DAY_S) / DAY_S + self._phase)
        if now >= self._burst_until and rng.random() < 0.01:
            self._burst_until = now + rng.uniform(30, 600)
        burst = rng.uniform(25, 45) if now < self._burst_until else 0.0
        cpu = self._cpu_base + self._cpu_daily * day + burst + rng.gauss(0, 4)
        self._mem += self._mem_leak * elapsed / 60 + rng.gauss(0, 0.3)
        if self._mem > 95 or rng.random() < 0.0005:
            self._mem = self._mem_base  # the service restarted
        self._disk = min(99.0, self._disk + self._disk_growth * elapsed / 60)
        traffic = max(0.1, 1 + 0.6 * day + burst / 50)
        self._rx += int(self._rx_rate * traffic * elapsed * rng.uniform(0.7, 1.3))
        self._tx += int(self._tx_rate * traffic * elapsed * rng.uniform(0.7, 1.3))
        self._uptime += elapsed
        cpu = _clamp(cpu)
        return {
            "ts": int(now),
            "cpu_percent": round(cpu, 2),
            "mem_percent": round(_clamp(self._mem), 2),
            "disk_percent": round(_clamp(self._disk), 2),
            "net_rx_bytes": self._rx,
            "net_tx_bytes": self._tx,
            "load_1m": round(max(0.0, cpu / 100 * self.cpu_count + rng.gauss(0, 0.1)), 2),
            "uptime_s": int(self._uptime),
        }


@dataclass
class FleetStats:
    agents: int = 0
    enrolled: int = 0
    sent: int = 0
    duplicates: int = 0
    dropped: int = 0


async def run_fleet(
    server: str | Sequence[str],
    branch_org_id: str,
    enrollment_key: str,
    agents: int,
    *,
    interval_s: float,
    stop: asyncio.Event,
    seed: int = 0,
    ca_file: str | None = None,
) -> FleetStats:
    """Run ``agents`` simulated hosts until ``stop`` is set; raises ``EnrollmentRefused``.

    All hosts share one client: a pool of at most ``POOL_CONNECTIONS`` kept-alive connections.
    """
    gate = asyncio.Semaphore(ENROLL_CONCURRENCY)
    stats = FleetStats(agents=agents)
    reporters: list[Reporter] = []
    refused: list[EnrollmentRefused] = []
    jitter = random.Random(seed)
    client = IngestClient(server, ca_file=ca_file, max_connections=min(agents, POOL_CONNECTIONS))

    async def one(index: int) -> None:
        host = SimulatedHost(branch_org_id, index, seed)

        async def enroll() -> Enrollment:
            async with gate:
                return await client.enroll(branch_org_id, enrollment_key, host.inventory())

        def enrolled(_enrollment: Enrollment) -> None:
            stats.enrolled += 1

        reporter = Reporter(
            client, enroll, host, name=host.hostname, interval_s=interval_s, on_enrolled=enrolled
        )
        reporters.append(reporter)
        try:
            await reporter.run(stop, first_sample_in=jitter.uniform(0, interval_s))
        except EnrollmentRefused as exc:
            refused.append(exc)
            stop.set()

    tasks = [asyncio.create_task(one(i)) for i in range(agents)]
    stopped = asyncio.create_task(stop.wait())
    try:
        # A host's samples are made up: on stop, requests still queued for a connection of
        # the pool are cancelled rather than waited for.
        done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # a reporter that failed unexpectedly fails the fleet
    finally:
        stopped.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()
    for reporter in reporters:
        stats.sent += reporter.sent
        stats.duplicates += reporter.duplicates
        stats.dropped += reporter.dropped
    if refused:
        raise refused[0]
    return stats


def _clamp(value: float) -> float:
    return min(100.0, max(0.0, value))
