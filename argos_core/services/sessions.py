"""Ending console sessions, written by the services in the same transaction as the change
that ends them (password reset, deactivation, deletion)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from argos_core.models import ConsoleSession, PlatformAdmin, User, utcnow


def revoke_sessions(
    session: Session,
    account: User | PlatformAdmin,
    reason: str,
    *,
    keep_session_id: str | None = None,
) -> int:
    """End every live session of the account (but ``keep_session_id``); returns how many."""
    column = (
        ConsoleSession.user_id if isinstance(account, User) else ConsoleSession.platform_admin_id
    )
    query = (
        update(ConsoleSession)
        .where(column == account.id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason[:32])
        .execution_options(synchronize_session=False)
    )
    if keep_session_id is not None:
        query = query.where(ConsoleSession.session_id != keep_session_id)
    return session.execute(query).rowcount
