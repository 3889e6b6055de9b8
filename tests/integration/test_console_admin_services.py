"""Services the console's administration dialogs need: pick lists and the sorted audit log."""

import pytest

from argos_core.errors import ValidationError

PASSWORD = "Correct-horse-9"


@pytest.fixture
def org(services, superadmin):
    acme = services.orgs.create_tenant(superadmin, "Acme")
    hq = services.orgs.create_company(superadmin, acme.org_id, "HQ")
    berlin = services.orgs.create_branch(superadmin, hq.org_id, "Berlin")
    plant = services.orgs.create_company(superadmin, acme.org_id, "Plant")
    lyon = services.orgs.create_branch(superadmin, plant.org_id, "Lyon")
    zeta = services.orgs.create_tenant(superadmin, "Zeta")
    services.users.create_user(
        superadmin, username="hqadmin", password=PASSWORD, role="admin", scope_org_id=hq.org_id
    )
    return acme, hq, berlin, plant, lyon, zeta


def test_superadmin_picks_from_every_node_with_its_path(services, superadmin, org):
    _acme, _hq, berlin, _plant, _lyon, zeta = org
    choices = services.orgs.list_choices(superadmin)
    labels = {c.org_id: c.label for c in choices}
    assert set(labels) == {n.org_id for n in org}
    assert labels[berlin.org_id] == f"Acme / HQ / Berlin ({berlin.org_id})"
    assert labels[zeta.org_id] == f"Zeta ({zeta.org_id})"
    branches = services.orgs.list_choices(superadmin, kinds=("branch",))
    assert [c.name for c in branches] == ["Berlin", "Lyon"]


def test_company_admin_picks_only_inside_the_company(services, org):
    _acme, hq, berlin, _plant, _lyon, _zeta = org
    hqadmin = services.users.authenticate("hqadmin", PASSWORD)
    choices = services.orgs.list_choices(hqadmin)
    assert [(c.kind, c.org_id, c.path) for c in choices] == [
        ("company", hq.org_id, ""),
        ("branch", berlin.org_id, "HQ"),
    ]
    assert services.orgs.list_choices(hqadmin, text="Lyon") == []


def test_choices_filter_by_name_or_org_id(services, superadmin, org):
    _acme, _hq, berlin, _plant, lyon, _zeta = org
    assert [c.org_id for c in services.orgs.list_choices(superadmin, text="ber")] == [berlin.org_id]
    assert [c.org_id for c in services.orgs.list_choices(superadmin, text=lyon.org_id)] == [
        lyon.org_id
    ]


def test_audit_log_sorts_by_a_column_and_lists_its_actions_in_scope(services, superadmin, org):
    _acme, hq, berlin, _plant, lyon, _zeta = org
    services.orgs.rename(superadmin, lyon.org_id, "Lyon Sud")
    by_action = services.audit.list_entries(superadmin, sort_by="action", descending=False)
    actions = [e.action for e in by_action.items]
    assert actions == sorted(actions)
    newest = services.audit.list_entries(superadmin).items[0]
    assert newest.action == "branch.rename"
    assert "branch.rename" in services.audit.list_actions(superadmin)

    hqadmin = services.users.authenticate("hqadmin", PASSWORD)
    assert services.audit.list_actions(hqadmin) == [
        "branch.create",
        "company.create",
        "login.success",  # their own sign-in, just now
        "user.create",
    ]
    targets = {e.target for e in services.audit.list_entries(hqadmin, sort_by="target").items}
    assert {hq.org_id, berlin.org_id} <= targets
    assert lyon.org_id not in targets


def test_audit_log_refuses_an_unknown_sort_column(services, superadmin):
    with pytest.raises(ValidationError):
        services.audit.list_entries(superadmin, sort_by="password")


def test_audit_log_keeps_entries_of_a_period(services, superadmin, org, session_factory):
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy import update

    from argos_core.models import AuditLog

    lyon = org[4]
    services.orgs.rename(superadmin, lyon.org_id, "Lyon Nord")
    services.orgs.rename(superadmin, lyon.org_id, "Lyon Est")
    entries = services.audit.list_entries(superadmin, action="branch.rename").items
    assert len(entries) == 2
    # Date the older rename three days back.
    old_at = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    with session_factory() as session:
        session.execute(
            update(AuditLog)
            .where(
                AuditLog.action == "branch.rename",
                AuditLog.after["name"].as_string() == "Lyon Nord",
            )
            .values(at=old_at)
        )
        session.commit()

    def renamed_to(**period) -> list[str]:
        page = services.audit.list_entries(superadmin, action="branch.rename", **period)
        return [e.after["name"] for e in page.items]

    assert renamed_to(since=old_at + timedelta(seconds=1)) == ["Lyon Est"]
    assert renamed_to(until=old_at + timedelta(seconds=1)) == ["Lyon Nord"]
    assert renamed_to(since=old_at, until=old_at + timedelta(days=1)) == ["Lyon Nord"]
    assert renamed_to(until=old_at) == []  # the end is exclusive
    berlin_time = timezone(timedelta(hours=1))
    assert renamed_to(since=datetime(2026, 1, 10, 13, 0, tzinfo=berlin_time)) == [
        "Lyon Est",
        "Lyon Nord",
    ]
    with pytest.raises(ValidationError):
        services.audit.list_entries(superadmin, since=datetime(2026, 1, 10))
    with pytest.raises(ValidationError):
        services.audit.list_entries(superadmin, since=old_at, until=old_at)
