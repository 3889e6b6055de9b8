"""Audit records, written by the services in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from argos_core.models import AuditLog
from argos_core.repositories import Ancestry
from argos_core.scope import Principal


def record(
    session: Session,
    actor: Principal | str,
    action: str,
    target_kind: str,
    target: str,
    where: Ancestry | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    source: str = "",
) -> None:
    if isinstance(actor, Principal):
        actor_name, source = actor.actor, source or actor.source
    else:
        actor_name = actor
    session.add(
        AuditLog(
            actor=actor_name[:100],
            action=action,
            target_kind=target_kind,
            target=target[:100],
            tenant_id=where.tenant_id if where else None,
            company_id=where.company_id if where else None,
            branch_id=where.branch_id if where else None,
            before=before,
            after=after,
            source=source[:100],
        )
    )
