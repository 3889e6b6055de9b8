"""Demo telemetry history: realistic curves, generated fast enough for millions of samples.

A handful of *profiles* (a day/night CPU cycle, bursts and quiet spells, memory that creeps
and drops back, disks that fill, traffic that follows office hours) are computed once in
Python, per minute, into a temporary table. Each agent then copies one profile with its own
offsets and scale in a single ``INSERT ... SELECT`` — plain additions the database does at
its full insert rate, in primary-key order.
"""

from __future__ import annotations

import math
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import Connection, Engine, select, text

from argos_core.models import Agent
from argos_core.partitions import prepare_since
from argos_core.rollups import roll_closed_hours

PROFILES = 8
AGENTS_PER_COMMIT = 20
_INSERT = text("""
    INSERT INTO telemetry (agent_id, ts, cpu_percent, mem_percent, disk_percent,
                           net_rx_bytes, net_tx_bytes, load_1m, uptime_s)
    SELECT :agent, :start + p.n * 60, p.cpu + :cpu, p.mem + :mem, p.disk + :disk,
           :rx0 + p.rx * :scale, :tx0 + p.tx * :scale, p.load1 + :load, :up0 + p.n * 60
    FROM demo_profiles p
    WHERE p.profile = :profile
""")


def generate_telemetry(
    engine: Engine, days: float, limit: int | None, now: datetime, seed: int = 42
) -> int:
    """One sample a minute for the first ``limit`` agents (all if ``None``), ending now,
    rolled up into hourly rows as housekeeping would.

    On MySQL the agents are split between two connections, and each session skips the
    per-row foreign-key check: the agent ids come from the ``agents`` table itself.
    """
    minutes = int(days * 1440)
    if minutes <= 0:
        return 0
    start = int(now.timestamp()) // 60 * 60 - minutes * 60
    with engine.begin() as conn:
        agent_ids = list(conn.scalars(select(Agent.id).order_by(Agent.id).limit(limit)))
    if not agent_ids:
        return 0
    profiles = _profiles(minutes, random.Random(seed))
    if engine.dialect.name == "sqlite":
        samples = _fill(engine, agent_ids, start, profiles, seed)
    else:
        with engine.begin() as conn:
            prepare_since(conn, start)  # one partition a day, so old days expire on time
        halves = [agent_ids[: len(agent_ids) // 2], agent_ids[len(agent_ids) // 2 :]]
        with ThreadPoolExecutor(max_workers=2) as pool:
            samples = sum(pool.map(lambda ids: _fill(engine, ids, start, profiles, seed), halves))
    roll_closed_hours(engine, int(now.timestamp()))
    return samples


def _profiles(minutes: int, rng: random.Random) -> list[dict]:
    rows = []
    for profile in range(PROFILES):
        phase = rng.uniform(0, 2 * math.pi)
        busy = rng.uniform(8, 22)
        cpu_noise = mem_walk = 0.0
        burst = 0
        rx = tx = 0
        disk = rng.uniform(10, 20)
        disk_rate = rng.uniform(0.5, 3.0) / 1440  # percent a day
        for n in range(minutes):
            day = math.sin(2 * math.pi * n / 1440 + phase)
            if burst == 0 and rng.random() < 0.002:
                burst = rng.randint(3, 25)
            spike = rng.uniform(15, 35) if burst else 0.0
            burst = max(0, burst - 1)
            cpu_noise = 0.8 * cpu_noise + rng.gauss(0, 2.5)
            cpu = 4 + busy * (1 + day) / 2 + abs(cpu_noise) + spike
            mem_walk = 0.0 if rng.random() < 0.0007 else min(15.0, mem_walk + rng.uniform(0, 0.02))
            mem = 25 + 6 * day + mem_walk + rng.gauss(0, 0.6)
            disk += disk_rate + (-rng.uniform(2, 5) if rng.random() < 0.0003 else 0)
            disk = max(5.0, disk)
            office = max(0.05, day + 0.3)
            rx += int(1500 * office * rng.uniform(0.6, 1.4) + (800 * spike))
            tx += int(450 * office * rng.uniform(0.6, 1.4) + (200 * spike))
            load = max(0.0, cpu / 25 + rng.gauss(0, 0.05))
            rows.append(
                {
                    "profile": profile,
                    "n": n,
                    "cpu": min(cpu, 70.0),
                    "mem": max(5.0, mem),
                    "disk": min(disk, 40.0),
                    "rx": rx,
                    "tx": tx,
                    "load1": load,
                }
            )
    return rows


def _fill(engine: Engine, agent_ids: list[int], start: int, profiles: list[dict], seed: int) -> int:
    if not agent_ids:
        return 0
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return _copy_profiles(conn, agent_ids, start, profiles, seed)
        # The demo's own rows need no check against agents it has just inserted. The setting
        # belongs to this pooled connection: put it back whatever happens, or the next user
        # of the connection would write without foreign-key checks.
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
        try:
            return _copy_profiles(conn, agent_ids, start, profiles, seed)
        finally:
            conn.rollback()
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 1")
            conn.commit()


def _copy_profiles(
    conn: Connection, agent_ids: list[int], start: int, profiles: list[dict], seed: int
) -> int:
    samples = 0
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE demo_profiles (profile INTEGER, n INTEGER, cpu FLOAT,"
        " mem FLOAT, disk FLOAT, rx BIGINT, tx BIGINT, load1 FLOAT,"
        " PRIMARY KEY (profile, n))"
    )
    try:
        insert_profile = text(
            "INSERT INTO demo_profiles VALUES (:profile, :n, :cpu, :mem, :disk, :rx, :tx, :load1)"
        )
        for first in range(0, len(profiles), 20_000):
            conn.execute(insert_profile, profiles[first : first + 20_000])
        conn.commit()
        for i, agent_id in enumerate(agent_ids, start=1):
            samples += conn.execute(_INSERT, _agent_params(agent_id, start, seed)).rowcount
            if i % AGENTS_PER_COMMIT == 0:
                conn.commit()
        conn.commit()
    finally:
        conn.rollback()
        conn.exec_driver_sql("DROP TABLE demo_profiles")
        conn.commit()
    return samples


def _agent_params(agent_id: int, start: int, seed: int) -> dict:
    """Per-agent offsets, reproducible from the seed and the agent id."""
    rng = random.Random(seed * 1_000_003 + agent_id)
    return {
        "agent": agent_id,
        "start": start,
        "profile": agent_id % PROFILES,
        "cpu": rng.uniform(0, 25),
        "mem": rng.uniform(0, 45),
        "disk": rng.uniform(0, 45),
        "scale": rng.randint(1, 40),
        "load": rng.uniform(0, 1.5),
        "rx0": rng.randint(0, 10**9),
        "tx0": rng.randint(0, 10**8),
        "up0": rng.randint(3600, 90 * 86400),
    }
