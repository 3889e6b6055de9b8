"""Reading the audit log, scoped like everything else."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from argos_core.models import AuditLog
from argos_core.repositories import ScopedRepository, name_matches
from argos_core.scope import Principal
from argos_core.services.dto import AuditEntry, Page
from argos_core.unit_of_work import UnitOfWork


class AuditService:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sf = session_factory

    def list_entries(
        self,
        principal: Principal,
        *,
        offset: int = 0,
        limit: int = 200,
        action: str | None = None,
        text: str = "",
    ) -> Page[AuditEntry]:
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            query = repo.audit_entries()
            if action:
                query = query.where(AuditLog.action == action)
            if text.strip():
                query = query.where(
                    name_matches(AuditLog.actor, text) | name_matches(AuditLog.target, text)
                )
            total = repo.count(query)
            rows = uow.session.scalars(
                query.order_by(AuditLog.at.desc(), AuditLog.id.desc())
                .offset(max(0, offset))
                .limit(max(1, min(limit, 1000)))
            ).all()
            return Page(
                [
                    AuditEntry(
                        r.at,
                        r.actor,
                        r.action,
                        r.target_kind,
                        r.target,
                        r.before,
                        r.after,
                        r.source,
                    )
                    for r in rows
                ],
                total,
                offset,
            )
