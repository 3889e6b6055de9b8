from datetime import timedelta

import pytest
from sqlalchemy import update

from argos_core.errors import Conflict, DuplicateName, ScopeViolation, UnknownOrgId, ValidationError
from argos_core.models import Agent, utcnow
from argos_core.scope import Principal
from argos_core.status import AgentStatus
from tests.factories import add_agent


@pytest.fixture
def acme(services, superadmin):
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    hq = services.orgs.create_company(superadmin, tenant.org_id, "HQ")
    berlin = services.orgs.create_branch(superadmin, hq.org_id, "Berlin")
    return tenant, hq, berlin


def test_created_nodes_get_distinct_well_formed_org_ids(services, superadmin, acme):
    ids = {node.org_id for node in acme}
    assert len(ids) == 3
    for node in acme:
        assert services.orgs.get_node(superadmin, f"  {node.org_id.lower()} ").name == node.name


def test_duplicate_sibling_names_are_refused_case_insensitively(services, superadmin, acme):
    tenant, hq, _berlin = acme
    with pytest.raises(DuplicateName):
        services.orgs.create_tenant(superadmin, " acme ")
    with pytest.raises(DuplicateName):
        services.orgs.create_company(superadmin, tenant.org_id, "hq")
    with pytest.raises(DuplicateName):
        services.orgs.create_branch(superadmin, hq.org_id, "BERLIN")
    other = services.orgs.create_company(superadmin, tenant.org_id, "Plant")
    assert services.orgs.create_branch(superadmin, other.org_id, "Berlin").name == "Berlin"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_bad_names_write_nothing(services, superadmin, name):
    with pytest.raises(ValidationError):
        services.orgs.create_tenant(superadmin, name)
    assert services.orgs.list_children(superadmin).total == 0


def test_unknown_parent_org_id(services, superadmin):
    with pytest.raises(UnknownOrgId):
        services.orgs.create_company(superadmin, "ZZZZZZ", "X")


def test_children_carry_counts_by_status_and_child_counts(services, superadmin, acme):
    _tenant, hq, berlin = acme
    now = utcnow()
    add_agent(services.session_factory, berlin.org_id, "web-01", last_seen=now)
    add_agent(services.session_factory, berlin.org_id, "web-02", last_seen=now)
    add_agent(
        services.session_factory, berlin.org_id, "db-01", last_seen=now - timedelta(minutes=5)
    )
    add_agent(services.session_factory, berlin.org_id, "old", last_seen=now - timedelta(hours=2))
    add_agent(services.session_factory, berlin.org_id, "new")
    add_agent(services.session_factory, berlin.org_id, "gone", revoked=True)
    [root] = services.orgs.list_children(superadmin).items
    assert root.child_count == 1
    assert (
        root.counts.online,
        root.counts.offline,
        root.counts.overdue,
        root.counts.never_seen,
        root.counts.revoked,
    ) == (2, 1, 1, 1, 1)
    assert root.counts.worst == AgentStatus.OVERDUE
    [branch] = services.orgs.list_children(superadmin, hq.org_id).items
    assert branch.child_count == 6 and branch.counts.summary == "2/6 online"


def test_children_are_paged_in_name_order(services, superadmin, acme):
    tenant, _, _ = acme
    for i in range(12):
        services.orgs.create_company(superadmin, tenant.org_id, f"C{i:02d}")
    first = services.orgs.list_children(superadmin, tenant.org_id, offset=0, limit=5)
    rest = services.orgs.list_children(superadmin, tenant.org_id, offset=5, limit=100)
    names = [n.name for n in first.items + rest.items]
    assert first.total == 13 and first.has_more and not rest.has_more
    assert rest.total == 13
    exact = services.orgs.list_children(superadmin, tenant.org_id, offset=8, limit=5)
    beyond = services.orgs.list_children(superadmin, tenant.org_id, offset=50, limit=5)
    assert (exact.total, len(exact.items), beyond.total, beyond.items) == (13, 5, 13, [])
    assert names == sorted(names) and len(set(names)) == 13


def test_rename_is_audited_and_refuses_duplicates(services, superadmin, acme):
    tenant, hq, _ = acme
    services.orgs.create_company(superadmin, tenant.org_id, "Plant")
    with pytest.raises(DuplicateName):
        services.orgs.rename(superadmin, hq.org_id, "plant")
    assert services.orgs.rename(superadmin, hq.org_id, "Head Office").name == "Head Office"
    entry = services.audit.list_entries(superadmin, action="company.rename").items[0]
    assert entry.before == {"name": "HQ"} and entry.after == {"name": "Head Office"}


def test_delete_with_contents_needs_force(services, superadmin, acme):
    tenant, _hq, berlin = acme
    add_agent(services.session_factory, berlin.org_id, "web-01")
    with pytest.raises(Conflict, match="holds 1 company, 1 branch and 1 agent;"):
        services.orgs.delete(superadmin, tenant.org_id)
    services.orgs.delete(superadmin, tenant.org_id, force=True)
    assert services.orgs.list_children(superadmin).total == 0
    with pytest.raises(UnknownOrgId):
        services.orgs.get_node(superadmin, berlin.org_id)


def test_viewers_and_company_admins_cannot_overreach(services, superadmin, acme):
    tenant, hq, _berlin = acme
    with services.session_factory() as s:
        from argos_core.models import Company

        company = s.query(Company).filter_by(org_id=hq.org_id).one()
        viewer = Principal("v", "viewer", company.tenant_id, company.id, scope_org_id=hq.org_id)
        admin = Principal("a", "admin", company.tenant_id, company.id, scope_org_id=hq.org_id)
    with pytest.raises(ScopeViolation):
        services.orgs.create_branch(viewer, hq.org_id, "Paris")
    with pytest.raises(ScopeViolation):
        services.orgs.create_tenant(admin, "Other")
    with pytest.raises(UnknownOrgId):
        services.orgs.create_company(admin, tenant.org_id, "Sneaky")
    with pytest.raises(ScopeViolation):
        services.orgs.delete(admin, hq.org_id, force=True)
    assert services.orgs.create_branch(admin, hq.org_id, "Paris").name == "Paris"
    assert [n.org_id for n in services.orgs.list_children(admin).items] == [hq.org_id]


def test_search_finds_nodes_by_name_and_org_id_and_agents_by_hostname(services, superadmin, acme):
    tenant, hq, berlin = acme
    uuid = add_agent(services.session_factory, berlin.org_id, "web-berlin-01", last_seen=utcnow())
    hits = services.orgs.search(superadmin, "berlin")
    assert {(h.kind, h.key) for h in hits} == {("branch", berlin.org_id), ("agent", uuid)}
    agent_hit = next(h for h in hits if h.kind == "agent")
    assert agent_hit.path == [tenant.org_id, hq.org_id, berlin.org_id]
    assert agent_hit.path_names == ["Acme", "HQ", "Berlin"]
    branch_hit = next(h for h in hits if h.kind == "branch")
    assert (branch_hit.path, branch_hit.path_names) == ([tenant.org_id, hq.org_id], ["Acme", "HQ"])
    assert [h.key for h in services.orgs.search(superadmin, hq.org_id.lower())] == [hq.org_id]
    online = services.orgs.search(superadmin, "", status=AgentStatus.ONLINE)
    assert [h.key for h in online] == [uuid]
    assert services.orgs.search(superadmin, "100%_") == []


def test_search_finds_agents_by_part_of_an_ip_address(services, superadmin, acme):
    _tenant, _hq, berlin = acme
    uuid = add_agent(services.session_factory, berlin.org_id, "db-berlin-01")
    with services.session_factory() as session:
        session.execute(
            update(Agent).where(Agent.uuid == uuid).values(ip_addresses=["10.20.30.40", "fe80::1"])
        )
        session.commit()
    assert [h.key for h in services.orgs.search(superadmin, "10.20.30")] == [uuid]
    assert [h.key for h in services.orgs.search(superadmin, "fe80::")] == [uuid]
    assert services.orgs.search(superadmin, "10.20.31") == []
    assert [h.name for h in services.orgs.search(superadmin, "db-berlin")] == ["db-berlin-01"]
