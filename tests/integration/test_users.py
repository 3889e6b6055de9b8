import pytest

from argos_core.errors import AuthenticationFailed, DuplicateName, ScopeViolation, ValidationError
from argos_core.models import User

PASSWORD = "Correct-horse-9"


@pytest.fixture
def org(services, superadmin):
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    company = services.orgs.create_company(superadmin, tenant.org_id, "HQ")
    branch = services.orgs.create_branch(superadmin, company.org_id, "Berlin")
    return tenant, company, branch


def test_superadmin_and_client_admin_log_in_with_their_scope(services, org):
    _tenant, company, _branch = org
    services.users.create_superadmin("root-admin", PASSWORD)
    root = services.users.authenticate("root-admin", PASSWORD, source="tests")
    assert root.is_superadmin
    info = services.users.create_user(
        root, username="bob", password=PASSWORD, role="viewer", scope_org_id=company.org_id.lower()
    )
    assert (info.scope_kind, info.scope_org_id) == ("company", company.org_id)
    bob = services.users.authenticate(" bob ", PASSWORD)
    assert (bob.role, bob.level, bob.scope_org_id) == ("viewer", "company", company.org_id)
    with services.session_factory() as s:
        stored = s.query(User).filter_by(username="bob").one().password_hash
    assert PASSWORD not in stored and stored.startswith("$argon2")


def test_wrong_password_unknown_user_and_deactivated_user_are_one_message(services, org):
    root = services.users.create_superadmin("root-admin", PASSWORD)
    assert root == "root-admin"
    principal = services.users.authenticate("root-admin", PASSWORD)
    services.users.create_user(
        principal, username="eve", password=PASSWORD, role="admin", scope_org_id=org[0].org_id
    )
    with services.session_factory() as s:
        s.query(User).filter_by(username="eve").one().is_active = False
        s.commit()
    messages = set()
    for user, pw in [("root-admin", "nope"), ("nobody", PASSWORD), ("eve", PASSWORD)]:
        with pytest.raises(AuthenticationFailed) as caught:
            services.users.authenticate(user, pw)
        messages.add(str(caught.value))
    assert messages == {"Wrong username or password."}


def test_repeated_failures_lock_the_account_and_are_audited(services, superadmin):
    services.users.create_superadmin("root-admin", PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            services.users.authenticate("root-admin", "wrong")
    with pytest.raises(AuthenticationFailed) as caught:  # even the right password, for now
        services.users.authenticate("root-admin", PASSWORD)
    assert str(caught.value) == "Wrong username or password."  # no hint that it is locked
    assert services.audit.list_entries(superadmin, action="login.locked").total == 1


def test_client_admin_cannot_escalate(services, superadmin, org):
    tenant, company, branch = org
    services.users.create_user(
        superadmin, username="cadmin", password=PASSWORD, role="admin", scope_org_id=company.org_id
    )
    cadmin = services.users.authenticate("cadmin", PASSWORD)
    other_company = services.orgs.create_company(superadmin, tenant.org_id, "Plant")
    from argos_core.errors import UnknownOrgId

    with pytest.raises(UnknownOrgId):  # the tenant is above their scope: invisible
        services.users.create_user(
            cadmin, username="wider", password=PASSWORD, role="admin", scope_org_id=tenant.org_id
        )
    with pytest.raises(UnknownOrgId):
        services.users.create_user(
            cadmin,
            username="sideways",
            password=PASSWORD,
            role="viewer",
            scope_org_id=other_company.org_id,
        )
    made = services.users.create_user(
        cadmin, username="local", password=PASSWORD, role="viewer", scope_org_id=branch.org_id
    )
    assert made.scope_kind == "branch"
    viewer = services.users.authenticate("local", PASSWORD)
    with pytest.raises(ScopeViolation):
        services.users.create_user(
            viewer, username="x1x", password=PASSWORD, role="viewer", scope_org_id=branch.org_id
        )
    assert {u.username for u in services.users.list_users(cadmin).items} == {"cadmin", "local"}


def test_user_input_rules(services, superadmin, org):
    with pytest.raises(ValidationError):
        services.users.create_user(
            superadmin,
            username="ok-name",
            password="short",
            role="viewer",
            scope_org_id=org[0].org_id,
        )
    with pytest.raises(ValidationError):
        services.users.create_user(
            superadmin,
            username="ok-name",
            password=PASSWORD,
            role="owner",
            scope_org_id=org[0].org_id,
        )
    services.users.create_superadmin("taken", PASSWORD)
    with pytest.raises(DuplicateName):
        services.users.create_user(
            superadmin,
            username="TAKEN",
            password=PASSWORD,
            role="viewer",
            scope_org_id=org[0].org_id,
        )
