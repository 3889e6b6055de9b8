"""A small fleet for alert tests: one tenant, two companies' worth of branches, agents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from argos_core.models import Agent, utcnow
from argos_core.telemetry_store import COLUMNS
from tests.factories import add_agent, add_samples


@dataclass
class Fleet:
    tenant: str
    company: str
    berlin: str
    paris: str
    web: str  # agent uuid in Berlin
    db: str  # agent uuid in Berlin
    cache: str  # agent uuid in Paris


def build_fleet(services, superadmin, last_seen: datetime | None = None) -> Fleet:
    tenant = services.orgs.create_tenant(superadmin, "Acme").org_id
    company = services.orgs.create_company(superadmin, tenant, "HQ").org_id
    berlin = services.orgs.create_branch(superadmin, company, "Berlin").org_id
    paris = services.orgs.create_branch(superadmin, company, "Paris").org_id
    sf = services.session_factory
    return Fleet(
        tenant,
        company,
        berlin,
        paris,
        add_agent(sf, berlin, "web-01", last_seen=last_seen),
        add_agent(sf, berlin, "db-01", last_seen=last_seen),
        add_agent(sf, paris, "cache-01", last_seen=last_seen),
    )


def agent_id(services, uuid: str) -> int:
    with services.session_factory() as session:
        return session.scalar(select(Agent.id).where(Agent.uuid == uuid))


def store(services, uuid: str, ts: int, **metrics: float) -> tuple:
    """Store one sample and return its row as the writer hands it to the evaluator."""
    add_samples(services.session_factory, uuid, [{"ts": ts, **metrics}])
    ident = agent_id(services, uuid)
    return tuple(ident if c == "agent_id" else ts if c == "ts" else metrics.get(c) for c in COLUMNS)


def silence(services, uuids, seconds: float) -> None:
    """Make agents look silent for ``seconds`` (their ``last_seen`` set that far back)."""
    with services.session_factory() as session:
        session.execute(
            update(Agent)
            .where(Agent.uuid.in_(uuids))
            .values(last_seen=utcnow() - timedelta(seconds=seconds))
        )
        session.commit()
