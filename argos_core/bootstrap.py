"""All wiring in one place: a database URL in, the services out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from argos_core.db import make_engine, make_session_factory
from argos_core.services.agent_service import AgentService
from argos_core.services.alert_service import AlertService
from argos_core.services.audit_service import AuditService
from argos_core.services.enrollment_service import EnrollmentService
from argos_core.services.org_service import OrgService
from argos_core.services.telemetry_service import TelemetryService
from argos_core.services.user_service import UserService
from argos_core.settings import StatusPolicy, resolve_database_url


@dataclass
class Services:
    orgs: OrgService
    agents: AgentService
    enrollment: EnrollmentService
    users: UserService
    telemetry: TelemetryService
    audit: AuditService
    alerts: AlertService
    engine: Engine
    session_factory: sessionmaker[Session]
    database_url: str

    def close(self) -> None:
        self.engine.dispose()


def build_services(
    session_factory: sessionmaker[Session],
    database_url: str = "",
    policy: StatusPolicy | None = None,
) -> Services:
    policy = policy or StatusPolicy()
    engine = session_factory.kw["bind"]
    return Services(
        orgs=OrgService(session_factory, policy),
        agents=AgentService(session_factory, policy),
        enrollment=EnrollmentService(session_factory, policy),
        users=UserService(session_factory),
        telemetry=TelemetryService(session_factory),
        audit=AuditService(session_factory),
        alerts=AlertService(session_factory),
        engine=engine,
        session_factory=session_factory,
        database_url=database_url or engine.url.render_as_string(hide_password=False),
    )


def bootstrap(
    database_url: str | None = None, policy: StatusPolicy | None = None, pool_size: int = 5
) -> Services:
    url = resolve_database_url(database_url)
    engine = make_engine(url, pool_size=pool_size)
    return build_services(make_session_factory(engine), url, policy)
