"""People: superadmins and client admins, their creation and their login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from argos_core import passwords
from argos_core.errors import (
    AuthenticationFailed,
    DuplicateName,
    NotFound,
    ScopeViolation,
    ValidationError,
)
from argos_core.models import (
    Branch,
    Company,
    ConsoleSession,
    PlatformAdmin,
    Tenant,
    User,
    UTCDateTime,
    utcnow,
)
from argos_core.repositories import Ancestry, ScopedRepository
from argos_core.scope import ROLES_BY_RANK, Principal
from argos_core.services import audit
from argos_core.services.dto import Page, UserInfo
from argos_core.services.sessions import revoke_sessions
from argos_core.services.validation import clean_username
from argos_core.transactions import retrying
from argos_core.unit_of_work import UnitOfWork

LOGIN_REFUSED = "Wrong username or password."
FREE_FAILURES = 5
MAX_LOCKOUT = timedelta(minutes=15)
FIRST_LOCKOUT = timedelta(seconds=30)  # doubled at each further failure, up to MAX_LOCKOUT
LOCKOUT_STEPS = 6


class UserService:
    def __init__(
        self, session_factory: sessionmaker[Session], *, first_lockout: timedelta = FIRST_LOCKOUT
    ) -> None:
        self._sf = session_factory
        self._first_lockout = first_lockout

    @retrying
    def create_superadmin(
        self, username: str, password: str, *, source: str = "cli", actor: str = "system"
    ) -> str:
        """Bootstrap path for ``argos-admin create-superadmin``: whoever runs it owns the DB."""
        name = clean_username(username)
        passwords.check_policy(password, name)
        digest = passwords.hash_password(password)  # slow: never inside the transaction
        with UnitOfWork(self._sf) as uow:
            self._refuse_taken(uow.session, name)
            uow.session.add(PlatformAdmin(username=name, password_hash=digest))
            self._flush_or_duplicate(uow.session, name)
            audit.record(
                uow.session, "system", "superadmin.create", "superadmin", name, None, source=source
            )
            uow.commit()
        return name

    @retrying
    def create_user(
        self,
        principal: Principal,
        *,
        username: str,
        password: str,
        role: str,
        scope_org_id: str,
    ) -> UserInfo:
        """A client admin scoped to a node inside the caller's scope, never above their role."""
        principal.require_write()
        if role not in ("admin", "viewer"):
            raise ValidationError("Role must be 'admin' or 'viewer'.")
        if ROLES_BY_RANK[role] > ROLES_BY_RANK[principal.role]:
            raise ScopeViolation("You cannot create a user with a higher role than your own.")
        name = clean_username(username)
        passwords.check_policy(password, name)
        digest = passwords.hash_password(password)  # slow: never inside the transaction
        with UnitOfWork(self._sf) as uow:
            node = ScopedRepository(uow.session, principal).find_org(scope_org_id)
            where = Ancestry.of(node)
            self._refuse_taken(uow.session, name)
            user = User(
                username=name,
                password_hash=digest,
                role=role,
                tenant_id=where.tenant_id,
                company_id=where.company_id,
                branch_id=where.branch_id,
            )
            uow.session.add(user)
            self._flush_or_duplicate(uow.session, name)
            audit.record(
                uow.session,
                principal,
                "user.create",
                "user",
                name,
                where,
                after={"role": role, "scope": node.org_id},
            )
            uow.commit()
            return self._info(user, node.org_id)

    def list_users(self, principal: Principal, offset: int = 0, limit: int = 200) -> Page[UserInfo]:
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            query = repo.users()
            total = repo.count(query)
            users = uow.session.scalars(
                query.order_by(User.username).offset(max(0, offset)).limit(max(1, min(limit, 1000)))
            ).all()
            return Page(
                [self._info(u, self._scope_org_id(uow.session, u)) for u in users], total, offset
            )

    def authenticate(self, username: str, password: str, *, source: str = "") -> Principal:
        """Check credentials and return the principal; throttles repeated failures per account.

        Each guess first claims a try with one atomic ``UPDATE`` (counted before the slow
        password check, refused while the account is locked), so however many guesses run in
        parallel, at most ``FREE_FAILURES`` are checked before the lock. Unknown user, wrong
        password, locked or deactivated account: one message, one timing.
        """
        name = (username or "").strip()
        account = self._find_account(name)
        failures = self._claim_try(account, utcnow()) if account is not None else None
        if account is None or failures is None:
            passwords.dummy_verify()
            self._record_failure(name, account, source=source)
            raise AuthenticationFailed(LOGIN_REFUSED)
        ok, new_hash = passwords.verify_password(password or "", account.password_hash)
        if not ok:
            self._record_failure(name, account, source=source, failures=failures)
            raise AuthenticationFailed(LOGIN_REFUSED)
        return self._sign_in(name, account, new_hash, source)

    @retrying
    def _sign_in(
        self, name: str, account: _Account, new_hash: str | None, source: str
    ) -> Principal:
        """The password was right: clear the failures and record the sign-in."""
        with UnitOfWork(self._sf) as uow:
            model = account.model
            values: dict = {"failed_login_count": 0, "locked_until": None}
            if new_hash:
                values["password_hash"] = new_hash
            uow.session.execute(update(model).where(model.id == account.id).values(**values))
            fresh = uow.session.get(model, account.id)
            if fresh is None or not fresh.is_active:
                uow.commit()
                self._record_failure(name, account, source=source)
                raise AuthenticationFailed(LOGIN_REFUSED)
            fresh.last_login_at = utcnow()
            audit.record(
                uow.session,
                "system",
                "login.success",
                account.kind,
                name,
                _where(fresh),
                source=source,
            )
            uow.commit()
            return principal_of(uow.session, fresh, source)

    def _find_account(self, name: str) -> _Account | None:
        with UnitOfWork(self._sf) as uow:
            for model in (PlatformAdmin, User):
                row = uow.session.execute(
                    select(model.id, model.password_hash).where(model.username == name)
                ).first()
                if row is not None:
                    return _Account(model, row.id, row.password_hash)
        return None

    @retrying
    def _claim_try(self, account: _Account, now: datetime) -> int | None:
        """Count one guess against the account unless it is locked; lock it at the fifth.

        Returns the account's failure count including this guess, or None while it is locked.
        The lock is set by the very statement that counts the guess reaching the limit, so no
        later guess gets in before it; a correct password lifts it again. ``locked_until`` is
        assigned before the count because MySQL evaluates ``SET`` left to right.
        """
        model = account.model
        count = model.failed_login_count
        lock_until = case(
            *(
                (count + 1 == FREE_FAILURES + excess, _at(now + self._lockout(excess)))
                for excess in range(LOCKOUT_STEPS)
            ),
            else_=_at(now + MAX_LOCKOUT),
        )
        claim = (
            update(model)
            .where(model.id == account.id)
            .where(or_(model.locked_until.is_(None), model.locked_until <= now))
            .ordered_values(
                (
                    model.locked_until,
                    case((count + 1 < FREE_FAILURES, model.locked_until), else_=lock_until),
                ),
                (model.failed_login_count, count + 1),
            )
            .execution_options(synchronize_session=False)
        )
        with UnitOfWork(self._sf) as uow:
            if uow.session.execute(claim).rowcount != 1:
                return None
            failures = uow.session.scalar(select(count).where(model.id == account.id))
            uow.commit()
        return failures

    def _lockout(self, excess: int) -> timedelta:
        """How long the account stays locked after its ``FREE_FAILURES + excess``-th failure."""
        return min(MAX_LOCKOUT, self._first_lockout * 2**excess)

    @retrying
    def _record_failure(
        self,
        name: str,
        account: _Account | None,
        *,
        source: str = "",
        failures: int | None = None,
    ) -> None:
        """Audit one failed sign-in; the guess that locks the account is audited as such."""
        locked = failures is not None and failures >= FREE_FAILURES
        with UnitOfWork(self._sf) as uow:
            where = None
            if account is not None and account.model is User:
                where = Ancestry.of(uow.session.get(User, account.id))
            audit.record(
                uow.session,
                "system",
                "login.locked" if locked else "login.failed",
                account.kind if account is not None else "user",
                name,
                where,
                source=source,
                after={"failures": failures} if locked else None,
            )
            uow.commit()

    @retrying
    def update_user(
        self,
        principal: Principal,
        username: str,
        *,
        role: str | None = None,
        scope_org_id: str | None = None,
        is_active: bool | None = None,
    ) -> UserInfo:
        """Change a client admin's role, scope or active flag, never beyond the caller's own."""
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            user = repo.find_user(username)
            if user.username == principal.username:
                raise ScopeViolation("You cannot change your own role, scope or status.")
            before = {
                "role": user.role,
                "scope": self._scope_org_id(uow.session, user),
                "is_active": user.is_active,
            }
            if role is not None:
                if role not in ("admin", "viewer"):
                    raise ValidationError("Role must be 'admin' or 'viewer'.")
                if ROLES_BY_RANK[role] > ROLES_BY_RANK[principal.role]:
                    raise ScopeViolation("You cannot give a user a higher role than your own.")
                user.role = role
            if scope_org_id is not None:
                where = Ancestry.of(repo.find_org(scope_org_id))
                user.tenant_id, user.company_id, user.branch_id = (
                    where.tenant_id,
                    where.company_id,
                    where.branch_id,
                )
            if is_active is not None:
                user.is_active = is_active
                if not is_active:
                    revoke_sessions(uow.session, user, "deactivated")
            uow.session.flush()
            scope = self._scope_org_id(uow.session, user)
            after = {"role": user.role, "scope": scope, "is_active": user.is_active}
            audit.record(
                uow.session,
                principal,
                "user.update",
                "user",
                user.username,
                Ancestry.of(user),
                before=before,
                after=after,
            )
            uow.commit()
            return self._info(user, scope)

    @retrying
    def reset_password(self, principal: Principal, username: str, new_password: str) -> None:
        """An admin sets a new password for a user in their scope (and lifts any lockout).

        The user's sessions end. Nobody resets their own password this way: changing one's own
        needs the current one (``change_own_password``).
        """
        principal.require_write()
        if username.strip() == principal.username:
            raise ScopeViolation("To change your own password, give your current password.")
        passwords.check_policy(new_password, username.strip())
        digest = passwords.hash_password(new_password)  # slow: never inside the transaction
        with UnitOfWork(self._sf) as uow:
            user = ScopedRepository(uow.session, principal).find_user(username)
            passwords.check_policy(new_password, user.username)
            user.password_hash = digest
            user.failed_login_count, user.locked_until = 0, None
            revoke_sessions(uow.session, user, "password_reset")
            audit.record(
                uow.session,
                principal,
                "user.reset_password",
                "user",
                user.username,
                Ancestry.of(user),
            )
            uow.commit()

    @retrying
    def delete_user(self, principal: Principal, username: str) -> None:
        """Remove a client admin in the caller's scope; their sessions go with them."""
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            user = ScopedRepository(uow.session, principal).find_user(username)
            if user.username == principal.username:
                raise ScopeViolation("You cannot delete yourself.")
            if ROLES_BY_RANK[user.role] > ROLES_BY_RANK[principal.role]:
                raise ScopeViolation("You cannot delete a user with a higher role than your own.")
            before = {"role": user.role, "scope": self._scope_org_id(uow.session, user)}
            where = Ancestry.of(user)
            uow.session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
            uow.session.delete(user)
            audit.record(
                uow.session, principal, "user.delete", "user", user.username, where, before=before
            )
            uow.commit()

    @retrying
    def change_own_password(
        self,
        principal: Principal,
        old_password: str,
        new_password: str,
        *,
        keep_session_id: str | None = None,
    ) -> None:
        """Change one's own password (the current one is required); other sessions end.

        The slow parts (checking the current password, hashing the new one) run outside the
        writing transaction, which changes the password only if it is still the one checked."""
        model = PlatformAdmin if principal.is_superadmin else User
        with UnitOfWork(self._sf) as uow:
            current = uow.session.scalar(
                select(model.password_hash).where(model.username == principal.username)
            )
        if current is None or not passwords.verify_password(old_password or "", current)[0]:
            raise AuthenticationFailed("The current password is not correct.")
        passwords.check_policy(new_password, principal.username)
        digest = passwords.hash_password(new_password)
        with UnitOfWork(self._sf) as uow:
            account = uow.session.scalar(
                select(model).where(
                    model.username == principal.username, model.password_hash == current
                )
            )
            if account is None:  # changed meanwhile: the password checked is no longer it
                raise AuthenticationFailed("The current password is not correct.")
            account.password_hash = digest
            revoke_sessions(
                uow.session, account, "password_changed", keep_session_id=keep_session_id
            )
            audit.record(
                uow.session, principal, "password.change", "user", account.username, _where(account)
            )
            uow.commit()

    def list_superadmins(self, principal: Principal) -> list[UserInfo]:
        principal.require_superadmin()
        with UnitOfWork(self._sf) as uow:
            admins = uow.session.scalars(select(PlatformAdmin).order_by(PlatformAdmin.username))
            return [
                UserInfo(
                    a.username,
                    "superadmin",
                    "platform",
                    None,
                    a.is_active,
                    a.created_at,
                    a.last_login_at,
                )
                for a in admins
            ]

    def add_superadmin(self, principal: Principal, username: str, password: str) -> UserInfo:
        principal.require_superadmin()
        name = self.create_superadmin(
            username, password, source=principal.source, actor=principal.actor
        )
        return next(u for u in self.list_superadmins(principal) if u.username == name)

    @retrying
    def set_superadmin_active(self, principal: Principal, username: str, active: bool) -> None:
        principal.require_superadmin()
        if username.strip() == principal.username:
            raise ScopeViolation("You cannot deactivate yourself.")
        with UnitOfWork(self._sf) as uow:
            admin = uow.session.scalar(
                select(PlatformAdmin).where(PlatformAdmin.username == username.strip())
            )
            if admin is None:
                raise NotFound(f"No superadmin named '{username.strip()}'.")
            before = admin.is_active
            admin.is_active = active
            if not active:
                revoke_sessions(uow.session, admin, "deactivated")
            audit.record(
                uow.session,
                principal,
                "superadmin.update",
                "superadmin",
                admin.username,
                None,
                before={"is_active": before},
                after={"is_active": active},
            )
            uow.commit()

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _refuse_taken(session: Session, name: str) -> None:
        lowered = name.lower()
        taken = session.scalar(
            select(func.count()).where(func.lower(PlatformAdmin.username) == lowered)
        ) or session.scalar(select(func.count()).where(func.lower(User.username) == lowered))
        if taken:
            raise DuplicateName(f"The username '{name}' is already taken.")

    @staticmethod
    def _flush_or_duplicate(session: Session, name: str) -> None:
        try:
            session.flush()
        except IntegrityError as exc:
            raise DuplicateName(f"The username '{name}' is already taken.") from exc

    @staticmethod
    def _scope_org_id(session: Session, user: User) -> str:
        if user.branch_id is not None:
            return session.scalar(select(Branch.org_id).where(Branch.id == user.branch_id))
        if user.company_id is not None:
            return session.scalar(select(Company.org_id).where(Company.id == user.company_id))
        return session.scalar(select(Tenant.org_id).where(Tenant.id == user.tenant_id))

    @staticmethod
    def _info(user: User, scope_org_id: str) -> UserInfo:
        kind = "branch" if user.branch_id else "company" if user.company_id else "tenant"
        return UserInfo(
            user.username,
            user.role,
            kind,
            scope_org_id,
            user.is_active,
            user.created_at,
            user.last_login_at,
        )


def principal_of(session: Session, account: PlatformAdmin | User, source: str) -> Principal:
    """The principal of an account as the database says now (role and scope)."""
    if isinstance(account, PlatformAdmin):
        return Principal(account.username, "superadmin", source=source)
    return Principal(
        account.username,
        account.role,  # type: ignore[arg-type]
        account.tenant_id,
        account.company_id,
        account.branch_id,
        UserService._scope_org_id(session, account),
        source,
    )


def _at(moment: datetime) -> ColumnElement[datetime]:
    """A time as a bound value of the models' UTC column type."""
    return literal(moment, UTCDateTime())


def _where(account: PlatformAdmin | User) -> Ancestry | None:
    return Ancestry.of(account) if isinstance(account, User) else None


@dataclass(frozen=True)
class _Account:
    """The few columns of a signing-in account read before its password is checked."""

    model: type[PlatformAdmin] | type[User]
    id: int
    password_hash: str

    @property
    def kind(self) -> str:
        return "superadmin" if self.model is PlatformAdmin else "user"
