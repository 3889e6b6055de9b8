"""Finding a node by org id: once its kind is known, only the node's own row is read; a kind
learnt wrongly (a rolled-back node, another database) still finds the node, and scope holds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event

from argos_core import repositories
from argos_core.errors import UnknownOrgId
from argos_core.repositories import ScopedRepository
from argos_core.scope import Principal


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def acme(services, superadmin):
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    company = services.orgs.create_company(superadmin, tenant.org_id, "HQ")
    other = services.orgs.create_tenant(superadmin, "Globex")
    return tenant, company, other


def find(services, principal: Principal, org_id: str):
    with services.session_factory() as session:
        return ScopedRepository(session, principal).find_org(org_id)


def test_a_node_found_before_is_found_by_reading_its_row_only(
    services, superadmin, acme, statements
) -> None:
    _tenant, company, _other = acme
    repositories._known_kinds.pop(company.org_id, None)
    assert find(services, superadmin, company.org_id).name == "HQ"
    first = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    statements.clear()
    assert find(services, superadmin, company.org_id).name == "HQ"
    again = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert (len(first), len(again)) == (2, 1)
    assert "org_ids" not in again[0]


def test_a_wrong_kind_learnt_still_finds_the_node(services, superadmin, acme) -> None:
    tenant, _company, _other = acme
    repositories._known_kinds[tenant.org_id] = "branch"
    assert find(services, superadmin, tenant.org_id).name == "Acme"
    assert repositories._known_kinds[tenant.org_id] == "tenant"


def test_a_known_kind_does_not_open_another_scope(services, superadmin, acme) -> None:
    tenant, company, other = acme
    admin = Principal("ann", "admin", tenant_id=find(services, superadmin, other.org_id).id)
    assert find(services, superadmin, company.org_id).name == "HQ"  # its kind is known now
    with pytest.raises(UnknownOrgId):
        find(services, admin, company.org_id)
    with pytest.raises(UnknownOrgId):
        find(services, admin, tenant.org_id)
    with pytest.raises(UnknownOrgId):
        find(services, admin, "ZZZZZZ")
