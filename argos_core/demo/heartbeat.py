"""The seeded demo agents that are meant to be online keep reporting while the demo runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from argos_core.demo.seed import DEMO_MACHINE_PREFIX
from argos_core.models import Agent, Telemetry, utcnow
from argos_core.transactions import retrying
from argos_core.unit_of_work import UnitOfWork

ONLINE_COHORT = timedelta(minutes=1)


class DemoHeartbeat:
    """Plays the part of the seeded fleet's agents, which have no process behind them.

    The simulator child process enrolls and animates its own agents over HTTP. The seeder
    saw its 'online' agents within seconds of each other and the others minutes or more
    earlier, so the agents seen within a minute of the freshest seeded agent are the online
    ones: each beat sees them again, with one more telemetry sample a minute. The rest stay
    silent and age as real ones would.
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sf = session_factory

    @retrying
    def beat(self, now: datetime | None = None) -> int:
        """One beat; returns how many agents reported. Run again whole when SQLite was locked
        past its busy timeout (the server's first housekeeping pass over a freshly seeded demo
        writes for longer), instead of the console reporting an error."""
        now = (now or utcnow()).replace(microsecond=0)
        seeded = Agent.machine_id.like(f"{DEMO_MACHINE_PREFIX}%") & Agent.revoked_at.is_(None)
        with UnitOfWork(self._sf) as uow:
            s = uow.session
            freshest = s.scalar(select(func.max(Agent.last_seen)).where(seeded))
            if freshest is None:
                return 0
            alive = list(
                s.scalars(
                    select(Agent.id).where(seeded, Agent.last_seen >= freshest - ONLINE_COHORT)
                )
            )
            if not alive:
                return 0
            s.execute(update(Agent).where(Agent.id.in_(alive)).values(last_seen=now))
            samples = _next_samples(s, alive, int(now.timestamp()) // 60 * 60)
            if samples:
                s.execute(insert(Telemetry), samples)
            uow.commit()
        return len(alive)


def _next_samples(session: Session, agent_ids: list[int], minute: int) -> list[dict]:
    """For each agent whose newest sample is older than ``minute``: one at ``minute``,
    near the newest one, counters advanced by the minutes between."""
    latest = (
        select(Telemetry.agent_id, func.max(Telemetry.ts).label("ts"))
        .where(Telemetry.agent_id.in_(agent_ids))
        .group_by(Telemetry.agent_id)
        .subquery()
    )
    last = session.execute(
        select(Telemetry).join(
            latest, (Telemetry.agent_id == latest.c.agent_id) & (Telemetry.ts == latest.c.ts)
        )
    ).scalars()
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
    return samples


def _clamp(value: float) -> float:
    return round(min(100.0, max(0.0, value)), 2)
