"""What the desktop console needs from the core besides the services: opening a database
safely, and preparing and animating the ``argos --demo`` fleet.

The console may not touch engines or SQL (import-linter contract), so the few steps that
do live here, behind plain functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from argos_core.bootstrap import Services, bootstrap
from argos_core.demo import DEMO_SUPERADMIN, seed_demo
from argos_core.errors import ConfigurationError, DatabaseUnavailable
from argos_core.migrate import current_revision, head_revision, upgrade
from argos_core.models import Agent, Branch, PlatformAdmin, Telemetry, utcnow
from argos_core.rollups import shift_history
from argos_core.settings import data_dir
from argos_core.transactions import is_connection_error

DEMO_MACHINE_PREFIX = "demo-"
ONLINE_COHORT = timedelta(minutes=1)
# Restarting the demo within a few minutes needs no shift: the heartbeat kept it fresh.
DEMO_SHIFT_THRESHOLD_S = 300


def open_services(database_url: str) -> Services:
    """Services for an existing, migrated Argos database, or one clear sentence why not."""
    try:
        parsed = make_url(database_url)
    except ArgumentError as exc:
        raise ConfigurationError("That is not a valid database URL.") from exc
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or not Path(path).is_file():
            raise ConfigurationError(f"There is no Argos database at '{path or '(memory)'}'.")
    services = bootstrap(database_url)
    try:
        revision = current_revision(services.engine)
    except DBAPIError as exc:
        services.close()
        if is_connection_error(exc):
            raise DatabaseUnavailable(
                "The database cannot be reached; check the address and that it is running."
            ) from exc
        raise ConfigurationError("The database refused the connection.") from exc
    except BaseException:
        services.close()
        raise
    if revision is None:
        services.close()
        raise ConfigurationError(
            "This database holds no Argos schema yet; run 'argos-admin db upgrade' first."
        )
    if revision != head_revision():
        services.close()
        raise ConfigurationError(
            "This database's schema is out of date; run 'argos-admin db upgrade'."
        )
    return services


@dataclass(frozen=True)
class DemoDatabase:
    database_url: str
    branch_org_id: str
    seeded: bool
    shifted_by_s: int


def demo_database_url() -> str:
    return f"sqlite:///{data_dir() / 'demo.db'}"


def prepare_demo(
    database_url: str | None = None,
    *,
    tenants: int = 3,
    companies: int = 3,
    branches: int = 3,
    agents: int = 10,
    days: float = 1,
) -> DemoDatabase:
    """Create and seed the demo database on first use; on later runs bring it up to date.

    Seeded agents were 'seen' when the demo was seeded. Days later they would all be
    overdue, which is not what someone starting the demo expects, so every timestamp of
    the demo fleet is moved forward by the time that passed: the fleet looks as it did,
    history included, ending now.
    """
    url = database_url or demo_database_url()
    services = bootstrap(url)
    try:
        upgrade(services.engine)
        with services.engine.connect() as conn:
            has_demo = conn.scalar(
                select(func.count())
                .select_from(PlatformAdmin)
                .where(PlatformAdmin.username == DEMO_SUPERADMIN)
            )
        if not has_demo:
            summary = seed_demo(
                services.engine,
                tenants=tenants,
                companies=companies,
                branches=branches,
                agents=agents,
                days=days,
            )
            return DemoDatabase(url, summary.first_branch_org_id, True, 0)
        shift = _shift_demo_fleet(services)
        with services.engine.connect() as conn:
            branch = conn.scalar(select(Branch.org_id).order_by(Branch.id).limit(1))
        return DemoDatabase(url, branch, False, shift)
    finally:
        services.close()


def _shift_demo_fleet(services: Services, now: datetime | None = None) -> int:
    now = now or utcnow()
    with services.engine.begin() as conn:
        freshest = conn.scalar(select(func.max(Agent.last_seen)))
        if freshest is None:
            return 0
        shift = int((now - freshest).total_seconds()) // 60 * 60
        if shift < DEMO_SHIFT_THRESHOLD_S:
            return 0
        delta = timedelta(seconds=shift)
        rows = conn.execute(
            select(Agent.id, Agent.last_seen).where(Agent.last_seen.is_not(None))
        ).all()
        if rows:
            conn.execute(
                update(Agent)
                .where(Agent.id == bindparam("agent_id"))
                .values(last_seen=bindparam("seen")),
                [{"agent_id": r.id, "seen": r.last_seen + delta} for r in rows],
            )
        # (agent, ts) is the primary key: moving every row by the same amount in one
        # statement could collide with a neighbour mid-update, so go through negative values.
        conn.execute(update(Telemetry).values(ts=-(Telemetry.ts + shift)))
        conn.execute(update(Telemetry).values(ts=-Telemetry.ts))
    shift_history(services.engine, shift)
    return shift


def demo_heartbeat(services: Services, now: datetime | None = None) -> int:
    """Keep the seeded demo agents that are meant to be online reporting.

    The simulator child process enrolls and animates its own agents over HTTP; the seeded
    fleet has no process behind it, so the demo console plays its part. The seeder saw its
    'online' agents within seconds of each other and the others minutes or more earlier,
    so the agents seen within a minute of the freshest seeded agent are the online ones:
    they are seen again now, with one more telemetry sample a minute. The rest stay silent
    and age as real ones would. Returns how many agents reported.
    """
    now = (now or utcnow()).replace(microsecond=0)
    seeded = Agent.machine_id.like(f"{DEMO_MACHINE_PREFIX}%") & Agent.revoked_at.is_(None)
    with services.engine.begin() as conn:
        freshest = conn.scalar(select(func.max(Agent.last_seen)).where(seeded))
        if freshest is None:
            return 0
        alive = list(
            conn.scalars(
                select(Agent.id).where(seeded, Agent.last_seen >= freshest - ONLINE_COHORT)
            )
        )
        if not alive:
            return 0
        conn.execute(update(Agent).where(Agent.id.in_(alive)).values(last_seen=now))
        minute = int(now.timestamp()) // 60 * 60
        latest = (
            select(Telemetry.agent_id, func.max(Telemetry.ts).label("ts"))
            .where(Telemetry.agent_id.in_(alive))
            .group_by(Telemetry.agent_id)
            .subquery()
        )
        last = conn.execute(
            select(Telemetry).join(
                latest, (Telemetry.agent_id == latest.c.agent_id) & (Telemetry.ts == latest.c.ts)
            )
        ).all()
        samples = []
        for row in last:
            gap = (minute - row.ts) // 60
            if gap < 1:
                continue
            wobble = ((row.agent_id * 7919 + minute // 60 * 104729) % 997) / 997.0 - 0.5
            samples.append(
                {
                    "agent_id": row.agent_id,
                    "ts": minute,
                    "cpu_percent": _clamp((row.cpu_percent or 20) + 8 * wobble),
                    "mem_percent": _clamp((row.mem_percent or 40) + 2 * wobble),
                    "disk_percent": _clamp(row.disk_percent or 30),
                    "net_rx_bytes": (row.net_rx_bytes or 0) + (row.agent_id % 50 + 1) * 1000 * gap,
                    "net_tx_bytes": (row.net_tx_bytes or 0) + (row.agent_id % 50 + 1) * 300 * gap,
                    "load_1m": max(0.0, (row.load_1m or 0.5) + 0.3 * wobble),
                    "uptime_s": (row.uptime_s or 0) + 60 * gap,
                }
            )
        if samples:
            conn.execute(insert(Telemetry), samples)
    return len(alive)


def _clamp(value: float) -> float:
    return round(min(100.0, max(0.0, value)), 2)
