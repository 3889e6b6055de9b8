"""Fast ways to put rows in a test database without going through slow paths (argon2)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from argos_core.bootstrap import Services
from argos_core.models import Agent, Branch, User, utcnow
from argos_core.telemetry_store import insert_ignoring_duplicates, touch_last_seen
from argos_core.transactions import retrying


@dataclass(frozen=True)
class AgentRow:
    agent_id: int
    revoked: bool


def agent_row(services: Services, agent_uuid: str) -> AgentRow:
    """The stored agent behind an agent id (its token subject), read past every service."""
    with services.session_factory() as session:
        agent = session.query(Agent).filter_by(uuid=agent_uuid).one()
        return AgentRow(agent.id, agent.revoked_at is not None)


FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$notarealhash$notarealhash"


def add_agent(
    session_factory: sessionmaker[Session],
    branch_org_id: str,
    hostname: str,
    *,
    last_seen: datetime | None = None,
    revoked: bool = False,
) -> str:
    with session_factory() as session:
        branch = session.query(Branch).filter_by(org_id=branch_org_id).one()
        agent = Agent(
            uuid=str(uuid.uuid4()),
            tenant_id=branch.tenant_id,
            company_id=branch.company_id,
            branch_id=branch.id,
            machine_id=f"m-{uuid.uuid4().hex}",
            hostname=hostname,
            last_seen=last_seen,
            revoked_at=utcnow() if revoked else None,
        )
        session.add(agent)
        session.commit()
        return agent.uuid


# A server's background jobs may hold SQLite's write lock for a moment meanwhile.
@retrying(idempotent=True)
def add_samples(
    session_factory: sessionmaker[Session], agent_uuid: str, samples: list[dict]
) -> int:
    with session_factory() as session:
        agent = session.query(Agent).filter_by(uuid=agent_uuid).one()
        rows = [{"agent_id": agent.id, **s} for s in samples]
        inserted = insert_ignoring_duplicates(session.connection(), rows)
        session.commit()
        return inserted


def add_user(
    session_factory,
    username: str,
    role: str,
    tenant_id: int,
    company_id: int | None = None,
    branch_id: int | None = None,
) -> None:
    with session_factory() as session:
        session.add(
            User(
                username=username,
                password_hash=FAKE_HASH,
                role=role,
                tenant_id=tenant_id,
                company_id=company_id,
                branch_id=branch_id,
            )
        )
        session.commit()


__all__ = ["add_agent", "add_samples", "add_user", "touch_last_seen"]
