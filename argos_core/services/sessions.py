"""Console sessions' rows as their owners see them: whose they are, and ending them (written
by the services in the same transaction as the change that ends them: password reset,
deactivation, deletion)."""

from __future__ import annotations

from sqlalchemy import Select, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from argos_core.models import ConsoleSession, PlatformAdmin, User, utcnow
from argos_core.repositories import Ancestry
from argos_core.scope import Principal


def account_of(session: Session, principal: Principal) -> User | PlatformAdmin | None:
    """The principal's account row (a superadmin's or a client user's)."""
    model = PlatformAdmin if principal.is_superadmin else User
    return session.scalar(select(model).where(model.username == principal.username))


def owner_column(account: User | PlatformAdmin) -> InstrumentedAttribute[int | None]:
    return ConsoleSession.user_id if isinstance(account, User) else ConsoleSession.platform_admin_id


def owned_by(account: User | PlatformAdmin) -> Select[tuple[ConsoleSession]]:
    return select(ConsoleSession).where(owner_column(account) == account.id)


def audit_place(account: User | PlatformAdmin | None) -> Ancestry | None:
    """Where an audit entry about the account's sessions belongs (superadmins: nowhere)."""
    return Ancestry.of(account) if isinstance(account, User) else None


def revoke_sessions(
    session: Session,
    account: User | PlatformAdmin,
    reason: str,
    *,
    keep_session_id: str | None = None,
) -> int:
    """End every live session of the account (but ``keep_session_id``); returns how many."""
    query = (
        update(ConsoleSession)
        .where(owner_column(account) == account.id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason[:32])
        .execution_options(synchronize_session=False)
    )
    if keep_session_id is not None:
        query = query.where(ConsoleSession.session_id != keep_session_id)
    return session.execute(query).rowcount
