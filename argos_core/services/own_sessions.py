"""A person's own console sessions: list them and end one (logout ends the current one).

Needs no token signer, so the direct console can show a superadmin's sessions on servers too.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from argos_core.errors import NotFound
from argos_core.models import ConsoleSession, utcnow
from argos_core.scope import Principal
from argos_core.services import audit
from argos_core.services.dto import SessionInfo
from argos_core.services.sessions import account_of, audit_place, owned_by
from argos_core.transactions import retrying
from argos_core.unit_of_work import UnitOfWork


class OwnSessionsService:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sf = session_factory

    def list_sessions(
        self, principal: Principal, current_session_id: str = ""
    ) -> list[SessionInfo]:
        """The caller's live sessions, newest first; ``current`` marks the one asking."""
        now = utcnow()
        with UnitOfWork(self._sf) as uow:
            account = account_of(uow.session, principal)
            if account is None:
                return []
            rows = uow.session.scalars(
                owned_by(account)
                .where(ConsoleSession.revoked_at.is_(None), ConsoleSession.expires_at > now)
                .order_by(ConsoleSession.created_at.desc(), ConsoleSession.id.desc())
            )
            return [
                SessionInfo(
                    r.session_id,
                    r.created_at,
                    r.last_used_at,
                    r.source,
                    r.session_id == current_session_id,
                )
                for r in rows
            ]

    @retrying
    def end_session(self, principal: Principal, session_id: str) -> None:
        """End one of the caller's own live sessions; anyone else's is ``NotFound``."""
        now = utcnow()
        with UnitOfWork(self._sf) as uow:
            account = account_of(uow.session, principal)
            row = None
            if account is not None:
                row = uow.session.scalar(
                    owned_by(account).where(
                        ConsoleSession.session_id == session_id,
                        ConsoleSession.revoked_at.is_(None),
                    )
                )
            if row is None:
                raise NotFound("No such session.")
            row.revoked_at, row.revoked_reason = now, "ended"
            audit.record(
                uow.session,
                principal,
                "session.end",
                "session",
                principal.username,
                audit_place(account),
                after={"session_id": session_id},
            )
            uow.commit()
