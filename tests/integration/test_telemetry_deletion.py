"""Without a foreign key on ``telemetry`` (partitioned tables cannot carry one), deleting
an agent or a node still deletes the agents' raw samples, rollups and late-hour notes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from argos_core.models import Agent, Telemetry, TelemetryDaily, TelemetryHourly, TelemetryLateHour
from tests.factories import add_agent, add_samples

T0 = 1_790_000_000
DAILY = {
    f"{m}_{s}": 0
    for m in ("cpu_percent", "mem_percent", "disk_percent")
    for s in ("wsum", "weight")
}


@pytest.fixture
def fleet(services, superadmin):
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    company = services.orgs.create_company(superadmin, tenant.org_id, "HQ")
    berlin = services.orgs.create_branch(superadmin, company.org_id, "Berlin")
    paris = services.orgs.create_branch(superadmin, company.org_id, "Paris")
    agents = {
        "a": add_agent(services.session_factory, berlin.org_id, "a"),
        "b": add_agent(services.session_factory, berlin.org_id, "b"),
        "c": add_agent(services.session_factory, paris.org_id, "c"),
    }
    for uuid in agents.values():  # old samples: their hour is noted as late, too
        add_samples(
            services.session_factory,
            uuid,
            [{"ts": T0 + 60 * i, "cpu_percent": 1.0} for i in range(5)],
        )
        with services.session_factory() as session:
            agent_id = session.scalar(select(Agent.id).where(Agent.uuid == uuid))
            session.execute(
                insert(TelemetryHourly).values(agent_id=agent_id, hour=T0 // 3600 * 3600, samples=5)
            )
            session.execute(
                insert(TelemetryDaily).values(agent_id=agent_id, day=T0 // 86400 * 86400, **DAILY)
            )
            session.commit()
    return berlin, agents


def _history(services) -> dict[str, int]:
    with services.session_factory() as session:
        return {
            table.__tablename__: session.scalar(
                select(func.count()).select_from(table).join(Agent, Agent.id == table.agent_id)
            )
            for table in (Telemetry, TelemetryHourly, TelemetryDaily, TelemetryLateHour)
        } | {
            "orphans": sum(
                session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(table.agent_id.not_in(select(Agent.id)))
                )
                for table in (Telemetry, TelemetryHourly, TelemetryDaily, TelemetryLateHour)
            )
        }


def test_deleting_an_agent_deletes_its_history_only(services, superadmin, fleet):
    _, agents = fleet
    services.agents.delete_agent(superadmin, agents["a"])
    assert _history(services) == {
        "telemetry": 10,
        "telemetry_hourly": 2,
        "telemetry_daily": 2,
        "telemetry_late_hours": 2,
        "orphans": 0,
    }


def test_deleting_a_branch_deletes_its_agents_history(services, superadmin, fleet):
    berlin, _ = fleet
    services.orgs.delete(superadmin, berlin.org_id, force=True)
    assert _history(services) == {
        "telemetry": 5,
        "telemetry_hourly": 1,
        "telemetry_daily": 1,
        "telemetry_late_hours": 1,
        "orphans": 0,
    }
