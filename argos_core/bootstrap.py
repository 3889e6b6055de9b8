"""All wiring in one place: a database URL in, the services out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from argos_core.db import make_engine, make_session_factory
from argos_core.errors import ConfigurationError, DatabaseUnavailable
from argos_core.migrate import current_revision, head_revision
from argos_core.services.agent_service import AgentService
from argos_core.services.alert_service import AlertService
from argos_core.services.audit_service import AuditService
from argos_core.services.enrollment_service import EnrollmentService
from argos_core.services.org_service import OrgService
from argos_core.services.own_sessions import OwnSessionsService
from argos_core.services.telemetry_service import TelemetryService
from argos_core.services.user_service import UserService
from argos_core.settings import StatusPolicy, resolve_database_url
from argos_core.transactions import is_connection_error


@dataclass
class Services:
    orgs: OrgService
    agents: AgentService
    enrollment: EnrollmentService
    users: UserService
    own_sessions: OwnSessionsService
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
        own_sessions=OwnSessionsService(session_factory),
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
