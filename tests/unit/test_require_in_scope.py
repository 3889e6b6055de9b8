"""Reads that leave the scope out of their SQL first refuse a node outside the caller's
subtree: its ancestors, its siblings and other tenants' nodes."""

from __future__ import annotations

import pytest

from argos_core.errors import ScopeViolation
from argos_core.models import Branch, Company, Tenant
from argos_core.repositories import require_in_scope
from argos_core.scope import Principal

TENANT, OTHER_TENANT = Tenant(id=1), Tenant(id=2)
COMPANY, SIBLING = Company(id=10, tenant_id=1), Company(id=11, tenant_id=1)
BRANCH = Branch(id=100, tenant_id=1, company_id=10)
SIBLING_BRANCH = Branch(id=101, tenant_id=1, company_id=11)
COMPANY_ADMIN = Principal("c", "admin", tenant_id=1, company_id=10)


@pytest.mark.parametrize("node", [COMPANY, BRANCH])
def test_the_scope_node_and_what_is_under_it_pass(node) -> None:
    require_in_scope(COMPANY_ADMIN, node)
    require_in_scope(Principal("t", "viewer", tenant_id=1), node)
    require_in_scope(Principal("s", "superadmin"), OTHER_TENANT)


@pytest.mark.parametrize("node", [TENANT, SIBLING, SIBLING_BRANCH, OTHER_TENANT])
def test_ancestors_siblings_and_other_tenants_are_refused(node) -> None:
    with pytest.raises(ScopeViolation):
        require_in_scope(COMPANY_ADMIN, node)
