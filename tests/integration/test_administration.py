"""Service side of console administration: users, superadmins, agents."""

import pytest

from argos_core.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    ScopeViolation,
    UnknownOrgId,
    ValidationError,
)
from tests.factories import add_agent, add_samples

PASSWORD = "Correct-horse-9"


@pytest.fixture
def org(services, superadmin):
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    company = services.orgs.create_company(superadmin, tenant.org_id, "HQ")
    berlin = services.orgs.create_branch(superadmin, company.org_id, "Berlin")
    paris = services.orgs.create_branch(superadmin, company.org_id, "Paris")
    other = services.orgs.create_company(superadmin, tenant.org_id, "Plant")
    lyon = services.orgs.create_branch(superadmin, other.org_id, "Lyon")
    services.users.create_user(
        superadmin, username="cadmin", password=PASSWORD, role="admin", scope_org_id=company.org_id
    )
    cadmin = services.users.authenticate("cadmin", PASSWORD)
    return tenant, company, berlin, paris, lyon, cadmin


def test_company_admin_edits_users_inside_the_company_only(services, superadmin, org):
    tenant, _, berlin, paris, lyon, cadmin = org
    services.users.create_user(
        cadmin, username="viewer1", password=PASSWORD, role="viewer", scope_org_id=berlin.org_id
    )
    moved = services.users.update_user(cadmin, "viewer1", role="admin", scope_org_id=paris.org_id)
    assert (moved.role, moved.scope_org_id) == ("admin", paris.org_id)
    with pytest.raises(UnknownOrgId):
        services.users.update_user(cadmin, "viewer1", scope_org_id=lyon.org_id)
    with pytest.raises(UnknownOrgId):
        services.users.update_user(cadmin, "viewer1", scope_org_id=tenant.org_id)
    with pytest.raises(ScopeViolation):
        services.users.update_user(cadmin, "cadmin", role="viewer")
    services.users.create_user(
        superadmin, username="outsider", password=PASSWORD, role="admin", scope_org_id=lyon.org_id
    )
    with pytest.raises(NotFound):
        services.users.update_user(cadmin, "outsider", is_active=False)
    services.users.update_user(cadmin, "viewer1", is_active=False)
    with pytest.raises(AuthenticationFailed):
        services.users.authenticate("viewer1", PASSWORD)
    entry = services.audit.list_entries(cadmin, action="user.update").items[0]
    assert entry.before["is_active"] is True and entry.after["is_active"] is False
    assert entry.actor == "user:cadmin"


def test_viewer_cannot_promote_anyone(services, superadmin, org):
    _, company, berlin, *_ = org
    services.users.create_user(
        superadmin, username="view", password=PASSWORD, role="viewer", scope_org_id=company.org_id
    )
    services.users.create_user(
        superadmin, username="other", password=PASSWORD, role="viewer", scope_org_id=berlin.org_id
    )
    viewer = services.users.authenticate("view", PASSWORD)
    with pytest.raises(ScopeViolation):
        services.users.update_user(viewer, "other", role="admin")
    with pytest.raises(ScopeViolation):
        services.users.reset_password(viewer, "other", "Another-pass-1")


def test_password_reset_and_own_change(services, superadmin, org):
    *_, cadmin = org
    services.users.create_user(
        cadmin,
        username="viewer2",
        password=PASSWORD,
        role="viewer",
        scope_org_id=cadmin.scope_org_id,
    )
    services.users.reset_password(cadmin, "viewer2", "Brand-new-pass-2")
    v2 = services.users.authenticate("viewer2", "Brand-new-pass-2")
    with pytest.raises(ValidationError):
        services.users.change_own_password(v2, "Brand-new-pass-2", "weak")
    with pytest.raises(AuthenticationFailed):
        services.users.change_own_password(v2, "wrong-old", "Brand-new-pass-3")
    services.users.change_own_password(v2, "Brand-new-pass-2", "Brand-new-pass-3")
    assert services.users.authenticate("viewer2", "Brand-new-pass-3").username == "viewer2"
    actions = [e.action for e in services.audit.list_entries(superadmin).items]
    assert "user.reset_password" in actions and "password.change" in actions
    assert all("pass" not in str(e.after) for e in services.audit.list_entries(superadmin).items)


def test_superadmins_manage_superadmins(services, superadmin, org):
    *_, cadmin = org
    services.users.create_superadmin("root-admin", PASSWORD)
    root = services.users.authenticate("root-admin", PASSWORD)
    services.users.add_superadmin(root, "second", PASSWORD)
    assert {a.username for a in services.users.list_superadmins(root)} == {"root-admin", "second"}
    with pytest.raises(ScopeViolation):
        services.users.list_superadmins(cadmin)
    with pytest.raises(ScopeViolation):
        services.users.set_superadmin_active(root, "root-admin", False)
    services.users.set_superadmin_active(root, "second", False)
    with pytest.raises(AuthenticationFailed):
        services.users.authenticate("second", PASSWORD)


def test_agents_move_within_scope_and_delete_with_their_telemetry(services, superadmin, org):
    _, _, berlin, paris, lyon, cadmin = org
    agent = add_agent(services.session_factory, berlin.org_id, "web-01")
    add_samples(
        services.session_factory, agent, [{"ts": 1000 + i, "cpu_percent": 1.0} for i in range(5)]
    )
    moved = services.agents.move_agent(cadmin, agent, paris.org_id)
    assert moved.branch_org_id == paris.org_id
    assert services.orgs.get_node(superadmin, paris.org_id).counts.total == 1
    with pytest.raises(UnknownOrgId):
        services.agents.move_agent(cadmin, agent, lyon.org_id)
    with pytest.raises(ValidationError):
        services.agents.move_agent(cadmin, agent, paris.org_id)
    services.agents.delete_agent(cadmin, agent)
    with pytest.raises(NotFound):
        services.agents.get_agent(superadmin, agent)
    with services.session_factory() as s:
        from sqlalchemy import func, select

        from argos_core.models import Telemetry

        assert s.scalar(select(func.count()).select_from(Telemetry)) == 0


def test_moving_onto_the_same_machine_in_the_target_branch_conflicts(services, superadmin, org):
    _, _, berlin, paris, *_ = org
    a = add_agent(services.session_factory, berlin.org_id, "web-01")
    b = add_agent(services.session_factory, paris.org_id, "web-01")
    with services.session_factory() as s:
        from argos_core.models import Agent

        s.query(Agent).filter_by(uuid=b).one().machine_id = (
            s.query(Agent).filter_by(uuid=a).one().machine_id
        )
        s.commit()
    with pytest.raises(Conflict):
        services.agents.move_agent(superadmin, a, paris.org_id)
