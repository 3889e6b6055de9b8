"""People: superadmins and client admins, their creation and their login."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
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
from argos_core.models import Branch, Company, PlatformAdmin, Tenant, User, utcnow
from argos_core.repositories import Ancestry, ScopedRepository
from argos_core.scope import ROLES_BY_RANK, Principal
from argos_core.services import audit
from argos_core.services.dto import Page, UserInfo
from argos_core.services.validation import clean_username
from argos_core.unit_of_work import UnitOfWork

LOGIN_REFUSED = "Wrong username or password."
FREE_FAILURES = 5
MAX_LOCKOUT = timedelta(minutes=15)


class UserService:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sf = session_factory

    def create_superadmin(
        self, username: str, password: str, *, source: str = "cli", actor: str = "system"
    ) -> str:
        """Bootstrap path for ``argos-admin create-superadmin``: whoever runs it owns the DB."""
        name = clean_username(username)
        passwords.check_policy(password)
        with UnitOfWork(self._sf) as uow:
            self._refuse_taken(uow.session, name)
            uow.session.add(
                PlatformAdmin(username=name, password_hash=passwords.hash_password(password))
            )
            self._flush_or_duplicate(uow.session, name)
            audit.record(
                uow.session, "system", "superadmin.create", "superadmin", name, None, source=source
            )
            uow.commit()
        return name

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
        passwords.check_policy(password)
        with UnitOfWork(self._sf) as uow:
            node = ScopedRepository(uow.session, principal).find_org(scope_org_id)
            where = Ancestry.of(node)
            self._refuse_taken(uow.session, name)
            user = User(
                username=name,
                password_hash=passwords.hash_password(password),
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
        """Check credentials and return the principal; throttles repeated failures per user."""
        name = (username or "").strip()
        with UnitOfWork(self._sf) as uow:
            session = uow.session
            account: PlatformAdmin | User | None = session.scalar(
                select(PlatformAdmin).where(PlatformAdmin.username == name)
            ) or session.scalar(select(User).where(User.username == name))
            now = utcnow()
            if account is None:
                passwords.dummy_verify()
                raise AuthenticationFailed(LOGIN_REFUSED)
            if account.locked_until is not None and account.locked_until > now:
                raise AuthenticationFailed("Too many failed logins; try again in a few minutes.")
            ok, new_hash = passwords.verify_password(password or "", account.password_hash)
            if not ok or not account.is_active:
                if not ok:
                    account.failed_login_count += 1
                    excess = account.failed_login_count - FREE_FAILURES
                    if excess >= 0:
                        account.locked_until = now + min(
                            MAX_LOCKOUT, timedelta(seconds=30 * 2**excess)
                        )
                        audit.record(
                            session,
                            "system",
                            "login.locked",
                            "user",
                            name,
                            _where(account),
                            source=source,
                            after={"failures": account.failed_login_count},
                        )
                    uow.commit()
                raise AuthenticationFailed(LOGIN_REFUSED)
            if new_hash:
                account.password_hash = new_hash
            account.failed_login_count = 0
            account.locked_until = None
            account.last_login_at = now
            uow.commit()
            return self._principal(session, account, source)

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

    def reset_password(self, principal: Principal, username: str, new_password: str) -> None:
        """An admin sets a new password for a user in their scope (and lifts any lockout)."""
        principal.require_write()
        passwords.check_policy(new_password)
        with UnitOfWork(self._sf) as uow:
            user = ScopedRepository(uow.session, principal).find_user(username)
            user.password_hash = passwords.hash_password(new_password)
            user.failed_login_count, user.locked_until = 0, None
            audit.record(
                uow.session,
                principal,
                "user.reset_password",
                "user",
                user.username,
                Ancestry.of(user),
            )
            uow.commit()

    def change_own_password(
        self, principal: Principal, old_password: str, new_password: str
    ) -> None:
        passwords.check_policy(new_password)
        with UnitOfWork(self._sf) as uow:
            model = PlatformAdmin if principal.is_superadmin else User
            account = uow.session.scalar(select(model).where(model.username == principal.username))
            if (
                account is None
                or not passwords.verify_password(old_password or "", account.password_hash)[0]
            ):
                raise AuthenticationFailed("The current password is not correct.")
            account.password_hash = passwords.hash_password(new_password)
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

    def _principal(self, session: Session, account: PlatformAdmin | User, source: str) -> Principal:
        if isinstance(account, PlatformAdmin):
            return Principal(account.username, "superadmin", source=source)
        return Principal(
            account.username,
            account.role,
            account.tenant_id,
            account.company_id,  # type: ignore[arg-type]
            account.branch_id,
            self._scope_org_id(session, account),
            source,
        )

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


def _where(account: PlatformAdmin | User) -> Ancestry | None:
    return Ancestry.of(account) if isinstance(account, User) else None
