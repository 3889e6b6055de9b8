"""Who is asking: a superadmin, or a client admin scoped to a tenant, company or branch.

Scope rules are expressed once here as SQL predicates; the repositories apply them to every
query, so a client admin's query cannot reach rows outside the scope node's subtree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, false, true

from argos_core.errors import ScopeViolation

Role = Literal["superadmin", "admin", "viewer"]
ScopeLevel = Literal["platform", "tenant", "company", "branch"]
ROLES_BY_RANK: dict[str, int] = {"viewer": 0, "admin": 1, "superadmin": 2}
LEVEL_DEPTH: dict[str, int] = {"platform": -1, "tenant": 0, "company": 1, "branch": 2}


@dataclass(frozen=True)
class Principal:
    username: str
    role: Role
    tenant_id: int | None = None
    company_id: int | None = None
    branch_id: int | None = None
    scope_org_id: str | None = None
    source: str = ""

    @property
    def is_superadmin(self) -> bool:
        return self.role == "superadmin"

    @property
    def can_write(self) -> bool:
        return self.role in ("superadmin", "admin")

    @property
    def level(self) -> ScopeLevel:
        if self.is_superadmin:
            return "platform"
        if self.branch_id is not None:
            return "branch"
        if self.company_id is not None:
            return "company"
        return "tenant"

    @property
    def actor(self) -> str:
        kind = "superadmin" if self.is_superadmin else "user"
        return f"{kind}:{self.username}"

    def require_write(self) -> None:
        if not self.can_write:
            raise ScopeViolation("Viewers can look but not change anything.")

    def require_superadmin(self) -> None:
        if not self.is_superadmin:
            raise ScopeViolation("Only superadmins can do this.")


def subtree_filter(
    principal: Principal,
    *,
    tenant_col: ColumnElement | None = None,
    company_col: ColumnElement | None = None,
    branch_col: ColumnElement | None = None,
) -> ColumnElement[bool]:
    """Predicate admitting only rows inside the principal's subtree.

    Each column names the row's ancestor (or own id) at that level; a level the row has no
    column for is above the row, so a principal scoped at that level cannot see it.
    Default-deny: a client principal with no usable scope sees nothing.
    """
    if principal.is_superadmin:
        return true()
    if principal.tenant_id is None:
        return false()
    wanted = {
        "tenant": (tenant_col, principal.tenant_id),
        "company": (company_col, principal.company_id),
        "branch": (branch_col, principal.branch_id),
    }
    predicate: ColumnElement[bool] = true()
    for level in ("tenant", "company", "branch"):
        column, value = wanted[level]
        if value is None:
            continue
        if column is None:
            return false()
        predicate = predicate & (column == value)
    return predicate


def contains(
    principal: Principal, tenant_id: int, company_id: int | None, branch_id: int | None
) -> bool:
    """Whether a node (given by its ancestry ids) lies inside the principal's subtree."""
    if principal.is_superadmin:
        return True
    if principal.tenant_id is None or principal.tenant_id != tenant_id:
        return False
    if principal.company_id is not None and principal.company_id != company_id:
        return False
    return principal.branch_id is None or principal.branch_id == branch_id
