"""Reading the audit log, scoped like everything else."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from argos_core.errors import ValidationError
from argos_core.models import AuditLog
from argos_core.repositories import ScopedRepository, name_matches
from argos_core.scope import Principal
from argos_core.services.dto import AuditEntry, Page
from argos_core.unit_of_work import UnitOfWork

SORT_COLUMNS = {
    "at": AuditLog.at,
    "actor": AuditLog.actor,
    "action": AuditLog.action,
    "target": AuditLog.target,
    "source": AuditLog.source,
}


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
        sort_by: str = "at",
        descending: bool = True,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEntry]:
        """Newest first by default; ``sort_by`` one of ``SORT_COLUMNS`` (ties: newest first).

        ``since``/``until`` (time-zone aware) keep entries with ``since <= at < until``.
        """
        if sort_by not in SORT_COLUMNS:
            raise ValidationError(f"Cannot sort the audit log by '{sort_by}'.")
        for bound in (since, until):
            if bound is not None and bound.tzinfo is None:
                raise ValidationError("A period needs times with a time zone.")
        if since is not None and until is not None and since >= until:
            raise ValidationError("The period must end after it starts.")
        order = SORT_COLUMNS[sort_by].desc() if descending else SORT_COLUMNS[sort_by].asc()
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            query = repo.audit_entries()
            if action:
                query = query.where(AuditLog.action == action)
            if text.strip():
                query = query.where(
                    name_matches(AuditLog.actor, text) | name_matches(AuditLog.target, text)
                )
            if since is not None:
                query = query.where(AuditLog.at >= since.astimezone(UTC))
            if until is not None:
                query = query.where(AuditLog.at < until.astimezone(UTC))
            total = repo.count(query)
            rows = uow.session.scalars(
                query.order_by(order, AuditLog.id.desc())
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

    def list_actions(self, principal: Principal) -> list[str]:
        """The distinct actions recorded in the caller's scope, for a filter list."""
        with UnitOfWork(self._sf) as uow:
            query = ScopedRepository(uow.session, principal).audit_entries()
            return sorted(
                uow.session.scalars(query.with_only_columns(AuditLog.action).distinct()).all()
            )
