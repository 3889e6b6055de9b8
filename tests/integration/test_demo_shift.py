"""A later ``argos --demo`` run moves the fleet's history up to date on both databases (on
MySQL ``ts`` is unsigned: no detour through negative values)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from argos_core.bootstrap import bootstrap
from argos_core.demo import prepare_demo
from argos_core.models import Agent, Telemetry

SMALL = {"tenants": 1, "companies": 1, "branches": 1, "agents": 4, "days": 0.02}
DAY = 86400


def test_a_later_run_moves_the_history_of_an_old_demo_fleet_to_now(fresh_database_url):
    assert prepare_demo(fresh_database_url, **SMALL).seeded
    services = bootstrap(fresh_database_url)
    with services.engine.begin() as conn:  # as if the demo last ran three days ago
        for agent_id, seen in conn.execute(select(Agent.id, Agent.last_seen)).all():
            if seen is not None:
                conn.execute(
                    update(Agent)
                    .where(Agent.id == agent_id)
                    .values(last_seen=seen - timedelta(days=3))
                )
        rows = conn.scalar(select(func.count()).select_from(Telemetry))
        conn.execute(update(Telemetry).values(ts=Telemetry.ts + 10 * DAY))
        conn.execute(update(Telemetry).values(ts=Telemetry.ts - 13 * DAY))
        newest = conn.scalar(select(func.max(Telemetry.ts)))
    services.close()
    assert prepare_demo(fresh_database_url).shifted_by_s >= 3 * DAY - 120
    services = bootstrap(fresh_database_url)
    with services.engine.connect() as conn:
        assert conn.scalar(select(func.max(Telemetry.ts))) >= newest + 3 * DAY - 120
        assert conn.scalar(select(func.count()).select_from(Telemetry)) == rows
    services.close()
