"""Scoped data access. Every query passes through the principal's subtree filter.

Repositories never commit; the unit of work does. Out-of-scope rows are indistinguishable
from missing ones (``NotFound``/``UnknownOrgId``), so a client admin cannot probe for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from argos_core import org_ids
from argos_core.errors import NotFound, ScopeViolation, UnknownOrgId
from argos_core.models import (
    Agent,
    AuditLog,
    Branch,
    Company,
    EnrollmentKey,
    OrgIdRegistry,
    Tenant,
    User,
)
from argos_core.scope import Principal, contains, subtree_filter

OrgRow = Tenant | Company | Branch
ORG_MODELS: dict[str, type[OrgRow]] = {"tenant": Tenant, "company": Company, "branch": Branch}
MAX_KNOWN_KINDS = 200_000
# Org id -> kind, as the registry said when the node was last found: a hint that lets a
# lookup read the node's row alone (every tree level, node and agents page starts with one).
# The registry never forgets an org id nor changes its kind; should a hint be wrong all the
# same (a rolled-back node, another database), the lookup asks the registry as before.
_known_kinds: dict[str, str] = {}


def tenant_scope(p: Principal) -> ColumnElement[bool]:
    return subtree_filter(p, tenant_col=Tenant.id)


def company_scope(p: Principal) -> ColumnElement[bool]:
    return subtree_filter(p, tenant_col=Company.tenant_id, company_col=Company.id)


def branch_scope(p: Principal) -> ColumnElement[bool]:
    return subtree_filter(
        p, tenant_col=Branch.tenant_id, company_col=Branch.company_id, branch_col=Branch.id
    )


def agent_scope(p: Principal) -> ColumnElement[bool]:
    return subtree_filter(
        p, tenant_col=Agent.tenant_id, company_col=Agent.company_id, branch_col=Agent.branch_id
    )


def user_scope(p: Principal) -> ColumnElement[bool]:
    return subtree_filter(
        p, tenant_col=User.tenant_id, company_col=User.company_id, branch_col=User.branch_id
    )


def audit_scope(p: Principal) -> ColumnElement[bool]:
    return subtree_filter(
        p,
        tenant_col=AuditLog.tenant_id,
        company_col=AuditLog.company_id,
        branch_col=AuditLog.branch_id,
    )


@dataclass(frozen=True)
class Ancestry:
    """A node's place in the hierarchy by internal ids (``None`` below the node's level)."""

    tenant_id: int
    company_id: int | None = None
    branch_id: int | None = None

    @classmethod
    def of(cls, row: OrgRow | Agent | User) -> Ancestry:
        if isinstance(row, Tenant):
            return cls(row.id)
        if isinstance(row, Company):
            return cls(row.tenant_id, row.id)
        if isinstance(row, Branch):
            return cls(row.tenant_id, row.company_id, row.id)
        return cls(row.tenant_id, row.company_id, row.branch_id)


class ScopedRepository:
    """Reads and writes rows on behalf of one principal."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    # --- org nodes -------------------------------------------------------------------------

    def find_org(self, raw_org_id: str) -> OrgRow:
        """The tenant, company or branch with this org id, if it is inside the scope."""
        org_id = org_ids.normalize(raw_org_id)
        hint = _known_kinds.get(org_id)
        row = self._org_row(org_id, hint) if hint else None
        if row is None:
            kind = self.session.scalar(
                select(OrgIdRegistry.kind).where(OrgIdRegistry.org_id == org_id)
            )
            if kind not in ORG_MODELS or kind == hint:
                raise UnknownOrgId(org_id)
            row = self._org_row(org_id, kind)
            if row is None:
                raise UnknownOrgId(org_id)
            if len(_known_kinds) >= MAX_KNOWN_KINDS:
                _known_kinds.clear()
            _known_kinds[org_id] = kind
        return row

    def _org_row(self, org_id: str, kind: str) -> OrgRow | None:
        model = ORG_MODELS[kind]
        scope = {Tenant: tenant_scope, Company: company_scope, Branch: branch_scope}[model]
        return self.session.scalar(
            select(model).where(model.org_id == org_id, scope(self.principal))
        )

    def find_tenant(self, raw_org_id: str) -> Tenant:
        return self._expect(self.find_org(raw_org_id), Tenant, raw_org_id)

    def find_company(self, raw_org_id: str) -> Company:
        return self._expect(self.find_org(raw_org_id), Company, raw_org_id)

    def find_branch(self, raw_org_id: str) -> Branch:
        return self._expect(self.find_org(raw_org_id), Branch, raw_org_id)

    @staticmethod
    def _expect(row: OrgRow, model: type, raw: str) -> Any:
        if not isinstance(row, model):
            raise UnknownOrgId(org_ids.normalize(raw))
        return row

    def tenants(self) -> Select[tuple[Tenant]]:
        return select(Tenant).where(tenant_scope(self.principal))

    def companies(self) -> Select[tuple[Company]]:
        return select(Company).where(company_scope(self.principal))

    def branches(self) -> Select[tuple[Branch]]:
        return select(Branch).where(branch_scope(self.principal))

    def org_ids_by_id(self, model: type[OrgRow], ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self.session.execute(select(model.id, model.org_id).where(model.id.in_(set(ids))))
        return dict(rows.all())

    def labels_by_id(self, model: type[OrgRow], ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """(org id, name) of each row: what a path of ancestors shows."""
        if not ids:
            return {}
        rows = self.session.execute(
            select(model.id, model.org_id, model.name).where(model.id.in_(set(ids)))
        )
        return {ident: (org_id, name) for ident, org_id, name in rows}

    # --- agents ----------------------------------------------------------------------------

    def agents(self) -> Select[tuple[Agent]]:
        return select(Agent).where(agent_scope(self.principal))

    def find_agent(self, agent_uuid: str) -> Agent:
        row = self.session.scalar(
            select(Agent).where(
                Agent.uuid == (agent_uuid or "").strip(), agent_scope(self.principal)
            )
        )
        if row is None:
            raise NotFound("No agent with that id.")
        return row

    def count(self, query: Select) -> int:
        return self.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery())
        )

    def page_total(self, query: Select, offset: int, limit: int, read: int) -> int:
        """The rows ``query`` matches, given that its page at ``offset`` held ``read`` of at
        most ``limit``: a page that ends short says it without counting (same transaction)."""
        total = short_page_total(offset, limit, read)
        return self.count(query) if total is None else total

    # --- users, keys, audit ----------------------------------------------------------------

    def users(self) -> Select[tuple[User]]:
        return select(User).where(user_scope(self.principal))

    def find_user(self, username: str) -> User:
        row = self.session.scalar(self.users().where(User.username == username.strip()))
        if row is None:
            raise NotFound(f"No user named '{username.strip()}'.")
        return row

    def enrollment_keys(self) -> Select[tuple[EnrollmentKey]]:
        return (
            select(EnrollmentKey)
            .join(Branch, Branch.id == EnrollmentKey.branch_id)
            .where(branch_scope(self.principal))
        )

    def audit_entries(self) -> Select[tuple[AuditLog]]:
        return select(AuditLog).where(audit_scope(self.principal))


def require_in_scope(principal: Principal, row: OrgRow) -> None:
    """For reads under a node that leave the scope out of their SQL (every agent under a
    node in scope is in scope too): refuse a node outside the principal's subtree."""
    where = Ancestry.of(row)
    if not contains(principal, where.tenant_id, where.company_id, where.branch_id):
        raise ScopeViolation("That node is outside your scope.")


def short_page_total(offset: int, limit: int, read: int) -> int | None:
    """The total of a page at ``offset`` that held ``read`` rows of at most ``limit`` when the
    page says it (it ended short), else ``None``: count."""
    return offset + read if read < limit and (read or not offset) else None


def substring_pattern(text: str) -> str:
    """A LIKE pattern (escape ``\\``) matching ``text`` anywhere, its wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def name_matches(column: Any, text: str) -> ColumnElement[bool]:
    """Substring match with LIKE wildcards in the text escaped.

    LIKE is case-insensitive on both backends (MySQL's ``_ci`` collation, SQLite for ASCII),
    so no ``lower()`` per row is needed.
    """
    return column.like(substring_pattern(text), escape="\\")


def org_id_or_name_matches(model: type[OrgRow], text: str) -> ColumnElement[bool]:
    candidate = text.strip().upper()
    return or_(name_matches(model.name, text), model.org_id == candidate)
