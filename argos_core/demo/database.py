"""The ``argos --demo`` database: created and seeded on first use, brought up to date later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, func, select, update

from argos_core.bootstrap import bootstrap
from argos_core.demo.alert_rules import ensure_demo_alerts
from argos_core.demo.seed import DEMO_SUPERADMIN, seed_demo
from argos_core.migrate import upgrade
from argos_core.models import Agent, Branch, PlatformAdmin, Telemetry, utcnow
from argos_core.rollups import shift_history
from argos_core.settings import data_dir

# Restarting the demo within a few minutes needs no shift: the heartbeat kept it fresh.
DEMO_SHIFT_THRESHOLD_S = 300


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
            ensure_demo_alerts(services, DEMO_SUPERADMIN)
            return DemoDatabase(url, summary.first_branch_org_id, True, 0)
        shift = _shift_demo_fleet(services.engine)
        ensure_demo_alerts(services, DEMO_SUPERADMIN)
        with services.engine.connect() as conn:
            branch = conn.scalar(select(Branch.org_id).order_by(Branch.id).limit(1))
        return DemoDatabase(url, branch, False, shift)
    finally:
        services.close()


def _shift_demo_fleet(engine: Engine, now: datetime | None = None) -> int:
    now = now or utcnow()
    with engine.begin() as conn:
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
        # statement could collide with a neighbour mid-update, so first move every row
        # past the newest one (ts is unsigned on MySQL: no detour through negative values).
        low, high = conn.execute(select(func.min(Telemetry.ts), func.max(Telemetry.ts))).one()
        if low is not None:
            past = high - low + shift + 1
            conn.execute(update(Telemetry).values(ts=Telemetry.ts + past))
            conn.execute(update(Telemetry).values(ts=Telemetry.ts - (past - shift)))
    shift_history(engine, shift)
    return shift
