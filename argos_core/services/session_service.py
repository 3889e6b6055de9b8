"""Console sessions of people: login, refresh-token rotation, logout, and who a session is now.

Login gives a short-lived access token (a JWT naming the session) and an opaque refresh token
kept only as a SHA-256 digest. Every refresh spends the presented token and hands out its
successor; a spent token presented again means someone copied it, so the whole session ends.
Whoever holds an access token, the principal is derived from the database on each lookup:
a deactivated, demoted, moved or deleted account loses its rights at the next lookup.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from argos_core.access_tokens import AccessTokenSigner
from argos_core.db import fresh
from argos_core.errors import AuthenticationFailed, SessionEnded, ValidationError
from argos_core.models import (
    Branch,
    Company,
    ConsoleSession,
    PlatformAdmin,
    SessionRefreshToken,
    Tenant,
    User,
    utcnow,
)
from argos_core.scope import Principal
from argos_core.services import audit
from argos_core.services.dto import Me, SignedIn
from argos_core.services.sessions import account_of, audit_place, owner_column
from argos_core.services.user_service import UserService, principal_of
from argos_core.tokens import digest_secret
from argos_core.transactions import retrying
from argos_core.unit_of_work import UnitOfWork

SESSION_IDLE = timedelta(days=7)
SESSION_MAX_AGE = timedelta(days=30)
KEEP_ENDED = timedelta(days=30)
TOUCH_EVERY = timedelta(minutes=1)
REFRESH_REFUSED = "The refresh token is not valid; sign in again."
REUSED = "This refresh token was already used; the session has been ended. Sign in again."
ENDED = "This session has ended; sign in again."
MAX_REFRESH_TOKEN_LENGTH = 200


class SessionService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        users: UserService,
        signer: AccessTokenSigner,
        *,
        idle: timedelta = SESSION_IDLE,
        max_age: timedelta = SESSION_MAX_AGE,
    ) -> None:
        self._sf = session_factory
        self._users = users
        self._signer = signer
        self._idle = idle
        self._max_age = max_age

    def login(self, username: str, password: str, *, source: str = "") -> SignedIn:
        principal = self._users.authenticate(username, password, source=source)
        return self._open_session(principal, source)

    @retrying
    def _open_session(self, principal: Principal, source: str) -> SignedIn:
        now = utcnow()
        with UnitOfWork(self._sf) as uow:
            account = account_of(uow.session, principal)
            if account is None:
                raise AuthenticationFailed("Wrong username or password.")
            self._forget_ended(uow.session, account, now)
            row = ConsoleSession(
                session_id=secrets.token_urlsafe(16),
                created_at=now,
                last_used_at=now,
                expires_at=now + self._idle,
                source=source[:100],
                **_owner(account),
            )
            uow.session.add(row)
            uow.session.flush()
            refresh_token = _new_refresh_token(uow.session, row)
            me = _me(uow.session, principal)
            uow.commit()
        return self._signed_in(principal, row.session_id, refresh_token, me)

    @retrying
    def refresh(self, refresh_token: str, *, source: str = "") -> SignedIn:
        """Spend the refresh token and hand out its successor (with a new access token)."""
        if not refresh_token or len(refresh_token) > MAX_REFRESH_TOKEN_LENGTH:
            raise AuthenticationFailed(REFRESH_REFUSED)
        digest, now = digest_secret(refresh_token), utcnow()
        with UnitOfWork(self._sf) as uow:
            session = uow.session
            spent = session.execute(
                update(SessionRefreshToken)
                .where(SessionRefreshToken.digest == digest, SessionRefreshToken.spent_at.is_(None))
                .values(spent_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            token = session.get(SessionRefreshToken, digest)
            row = session.get(ConsoleSession, token.session_pk) if token is not None else None
            if row is None:
                raise AuthenticationFailed(REFRESH_REFUSED)
            if spent != 1:
                self._end_reused(session, row, source, now)
                uow.commit()
                raise SessionEnded(REUSED)
            principal = self._derive(session, row, source, now)
            row.last_used_at = now
            row.expires_at = min(now + self._idle, row.created_at + self._max_age)
            next_token = _new_refresh_token(session, row)
            me = _me(session, principal)
            uow.commit()
        return self._signed_in(principal, row.session_id, next_token, me)

    def principal(self, session_id: str, *, source: str = "") -> Principal:
        """Who the session's account is now, or ``SessionEnded``.

        One statement reads the session, its account and the account's scope node (the
        server asks this for every console at least once a refresh): the same rules as
        ``_derive``, without loading ORM objects.
        """
        now = utcnow()
        with UnitOfWork(self._sf) as uow:
            # fresh(): also a session created a moment ago through another Galera node.
            row = uow.session.execute(
                fresh(_PRINCIPAL.where(ConsoleSession.session_id == session_id))
            ).first()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise SessionEnded(ENDED)
        if row.admin_name is not None and row.admin_active:
            principal = Principal(row.admin_name, "superadmin", source=source)
        elif row.user_name is not None and row.user_active:
            principal = Principal(
                row.user_name,
                row.role,
                row.tenant_id,
                row.company_id,
                row.branch_id,
                row.scope_org_id,
                source,
            )
        else:
            raise SessionEnded(ENDED)
        if row.last_used_at < now - TOUCH_EVERY:
            self._touch(session_id, now)
        return principal

    @retrying(idempotent=True)
    def _touch(self, session_id: str, now: datetime) -> None:
        """Record the session's use in a transaction of its own that starts by writing.

        SQLite (WAL) refuses a read transaction's first write at once, without waiting,
        when another connection committed since it read; a write-first one waits its turn.
        """
        with UnitOfWork(self._sf) as uow:
            uow.session.execute(
                update(ConsoleSession)
                .where(
                    ConsoleSession.session_id == session_id,
                    ConsoleSession.last_used_at < now - TOUCH_EVERY,
                )
                .values(last_used_at=now)
            )
            uow.commit()

    def me(self, principal: Principal) -> Me:
        with UnitOfWork(self._sf) as uow:
            return _me(uow.session, principal)

    def change_own_password(
        self, principal: Principal, session_id: str, current_password: str, new_password: str
    ) -> None:
        """Change the caller's password; every other session of theirs ends.

        A wrong current password is a ``ValidationError`` here: the caller is signed in, and
        must not be sent back to the sign-in screen for a typo.
        """
        try:
            self._users.change_own_password(
                principal, current_password, new_password, keep_session_id=session_id
            )
        except AuthenticationFailed as exc:
            raise ValidationError(str(exc)) from None

    # --- helpers ---------------------------------------------------------------------------

    def _signed_in(self, principal: Principal, session_id: str, refresh: str, me: Me) -> SignedIn:
        access = self._signer.issue(principal.username, session_id)
        return SignedIn(access, refresh, self._signer.ttl_s, me)

    def _derive(
        self, session: Session, row: ConsoleSession, source: str, now: datetime
    ) -> Principal:
        if row.revoked_at is not None or row.expires_at <= now:
            raise SessionEnded(ENDED)
        account: User | PlatformAdmin | None
        if row.user_id is not None:
            account = session.get(User, row.user_id)
        else:
            account = session.get(PlatformAdmin, row.platform_admin_id)
        if account is None or not account.is_active:
            raise SessionEnded(ENDED)
        return principal_of(session, account, source)

    @staticmethod
    def _end_reused(session: Session, row: ConsoleSession, source: str, now: datetime) -> None:
        if row.revoked_at is not None:
            return
        row.revoked_at, row.revoked_reason = now, "refresh_reused"
        account = (
            session.get(User, row.user_id)
            if row.user_id is not None
            else session.get(PlatformAdmin, row.platform_admin_id)
        )
        if account is None:
            return
        audit.record(
            session,
            "system",
            "session.refresh_reused",
            "user" if isinstance(account, User) else "superadmin",
            account.username,
            audit_place(account),
            source=source,
            after={"session_id": row.session_id},
        )

    @staticmethod
    def _forget_ended(session: Session, account: User | PlatformAdmin, now: datetime) -> None:
        """Drop the account's sessions that ended long ago (their token chains go with them)."""
        ids = select(ConsoleSession.id).where(
            owner_column(account) == account.id,
            or_(
                ConsoleSession.revoked_at < now - KEEP_ENDED,
                ConsoleSession.expires_at < now - KEEP_ENDED,
            ),
        )
        old = list(session.scalars(ids))
        if old:
            session.execute(
                delete(SessionRefreshToken).where(SessionRefreshToken.session_pk.in_(old))
            )
            session.execute(delete(ConsoleSession).where(ConsoleSession.id.in_(old)))


def _new_refresh_token(session: Session, row: ConsoleSession) -> str:
    token = secrets.token_urlsafe(32)
    session.add(SessionRefreshToken(digest=digest_secret(token), session_pk=row.id))
    return token


# A session with its account (a client admin's or a superadmin's) and the org id of the
# account's scope node: the branch's, else the company's, else the tenant's.
_PRINCIPAL = (
    select(
        ConsoleSession.revoked_at,
        ConsoleSession.expires_at,
        ConsoleSession.last_used_at,
        PlatformAdmin.username.label("admin_name"),
        PlatformAdmin.is_active.label("admin_active"),
        User.username.label("user_name"),
        User.is_active.label("user_active"),
        User.role,
        User.tenant_id,
        User.company_id,
        User.branch_id,
        case(
            (User.branch_id.is_not(None), Branch.org_id),
            (User.company_id.is_not(None), Company.org_id),
            else_=Tenant.org_id,
        ).label("scope_org_id"),
    )
    .outerjoin(PlatformAdmin, PlatformAdmin.id == ConsoleSession.platform_admin_id)
    .outerjoin(User, User.id == ConsoleSession.user_id)
    .outerjoin(Tenant, Tenant.id == User.tenant_id)
    .outerjoin(Company, Company.id == User.company_id)
    .outerjoin(Branch, Branch.id == User.branch_id)
)


def _owner(account: User | PlatformAdmin) -> dict[str, int]:
    key = "user_id" if isinstance(account, User) else "platform_admin_id"
    return {key: account.id}


def _me(session: Session, principal: Principal) -> Me:
    if principal.is_superadmin:
        return Me(principal.username, principal.role, "platform", None, None, None)
    node: Tenant | Company | Branch | None
    if principal.branch_id is not None:
        node = session.get(Branch, principal.branch_id)
    elif principal.company_id is not None:
        node = session.get(Company, principal.company_id)
    else:
        node = session.get(Tenant, principal.tenant_id)
    tenant = session.get(Tenant, principal.tenant_id)
    return Me(
        principal.username,
        principal.role,
        principal.level,  # type: ignore[arg-type]
        node.org_id if node is not None else None,
        node.name if node is not None else None,
        tenant.org_id if tenant is not None else None,
    )
