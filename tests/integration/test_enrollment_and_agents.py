import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update

from argos_core.bootstrap import bootstrap
from argos_core.errors import AuthenticationFailed, ScopeViolation, ValidationError
from argos_core.models import Agent, utcnow
from argos_core.scope import Principal
from argos_core.services.agent_inventory import AgentInventory
from argos_core.status import AgentStatus
from tests.factories import agent_row

HOST = {
    "hostname": "web-01",
    "machine_id": "machine-1",
    "os": "Debian 12",
    "agent_version": "1.0.0",
    "ip_addresses": ["10.0.0.5"],
    "cpu_count": 4,
}


@pytest.fixture
def branch(services, superadmin):
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    company = services.orgs.create_company(superadmin, tenant.org_id, "HQ")
    return services.orgs.create_branch(superadmin, company.org_id, "Berlin")


def test_enrollment_creates_then_recognises_the_same_host(services, superadmin, branch):
    key = services.enrollment.issue_key(superadmin, branch.org_id, note="rollout")
    first = services.enrollment.enroll(branch.org_id.lower(), key.key, AgentInventory.parse(HOST))
    again = services.enrollment.enroll(
        branch.org_id, key.key, AgentInventory.parse({**HOST, "hostname": "web-01b"})
    )
    assert first.created and not again.created
    assert first.agent_uuid == again.agent_uuid
    detail = services.agents.get_agent(superadmin, first.agent_uuid)
    assert detail.summary.hostname == "web-01b" and detail.enrollment_key_note == "rollout"
    [info] = services.enrollment.list_keys(superadmin, branch.org_id)
    assert info.use_count == 2 and info.state == "active" and info.last_used_at is not None


def test_every_enrollment_refusal_looks_the_same(services, superadmin, branch):
    good = services.enrollment.issue_key(superadmin, branch.org_id)
    expired = services.enrollment.issue_key(
        superadmin, branch.org_id, expires_in=timedelta(seconds=1)
    )
    revoked = services.enrollment.issue_key(superadmin, branch.org_id)
    services.enrollment.revoke_key(superadmin, revoked.key_id)
    with services.session_factory() as s:
        from argos_core.models import EnrollmentKey, utcnow

        s.get(EnrollmentKey, expired.key_id).expires_at = utcnow() - timedelta(seconds=1)
        s.commit()
    other = services.orgs.create_branch(
        superadmin, services.orgs.get_node(superadmin, branch.org_id).parent_org_id, "Paris"
    )
    messages = set()
    for org, key in [
        (branch.org_id, "wrong"),
        (branch.org_id, expired.key),
        (branch.org_id, revoked.key),
        ("ZZZZZZ", good.key),
        ("bad!", good.key),
        (other.org_id, good.key),
        (branch.org_id, ""),
    ]:
        with pytest.raises(AuthenticationFailed) as caught:
            services.enrollment.enroll(org, key, AgentInventory.parse(HOST))
        messages.add(str(caught.value))
    assert len(messages) == 1
    states = {k.key_id: k.state for k in services.enrollment.list_keys(superadmin, branch.org_id)}
    assert states == {good.key_id: "active", expired.key_id: "expired", revoked.key_id: "revoked"}


def test_keys_are_stored_only_as_digests(services, superadmin, branch):
    issued = services.enrollment.issue_key(superadmin, branch.org_id)
    with services.session_factory() as s:
        from argos_core.models import EnrollmentKey

        stored = s.get(EnrollmentKey, issued.key_id).key_hash
    assert issued.key not in stored and len(stored) == 64


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"hostname": "", "machine_id": "m"},
        {"hostname": "h", "machine_id": "m", "cpu_count": -1},
        {"hostname": "h", "machine_id": "m", "ip_addresses": "x"},
        {"hostname": "h" * 256, "machine_id": "m"},
        {"hostname": "h", "machine_id": "m", "boot_time": "yesterday"},
    ],
)
def test_bad_inventory_is_refused(bad):
    with pytest.raises(ValidationError):
        AgentInventory.parse(bad)


def test_revoked_agent_cannot_re_enroll(services, superadmin, branch):
    key = services.enrollment.issue_key(superadmin, branch.org_id)
    agent = services.enrollment.enroll(branch.org_id, key.key, AgentInventory.parse(HOST))
    assert agent_row(services, agent.agent_uuid).revoked is False
    services.agents.revoke_agent(superadmin, agent.agent_uuid)
    assert agent_row(services, agent.agent_uuid).revoked is True
    with pytest.raises(AuthenticationFailed):
        services.enrollment.enroll(branch.org_id, key.key, AgentInventory.parse(HOST))


def test_key_rules_and_viewers(services, superadmin, branch):
    with pytest.raises(ValidationError):
        services.enrollment.issue_key(superadmin, branch.org_id, expires_in=timedelta(0))
    with pytest.raises(ValidationError):
        services.enrollment.issue_key(superadmin, branch.org_id, note="n" * 201)
    viewer = Principal("v", "viewer", 1)
    with pytest.raises(ScopeViolation):
        services.enrollment.issue_key(viewer, branch.org_id)
    assert services.enrollment.list_keys(superadmin, branch.org_id) == []


def enroll_hosts(services, superadmin, branch, hostnames: list[str]) -> None:
    key = services.enrollment.issue_key(superadmin, branch.org_id)
    for i, hostname in enumerate(hostnames):
        inventory = AgentInventory.parse({"hostname": hostname, "machine_id": f"m{i}"})
        services.enrollment.enroll(branch.org_id, key.key, inventory)


def test_a_descending_agents_page_is_the_ascending_one_reversed_ties_included(
    services, superadmin, branch
):
    enroll_hosts(services, superadmin, branch, [f"twin-{i % 2}" for i in range(5)])
    node = branch.parent_org_id
    up, down = (
        services.agents.list_agents(superadmin, node, sort_by="hostname", descending=d).items
        for d in (False, True)
    )
    assert [a.uuid for a in down] == [a.uuid for a in reversed(up)]


def test_list_agents_sorts_filters_and_pages(services, superadmin, branch):
    enroll_hosts(services, superadmin, branch, [f"host-{i}" for i in range(7)])
    page = services.agents.list_agents(
        superadmin, branch.org_id, limit=3, sort_by="hostname", descending=True
    )
    assert page.total == 7 and [a.hostname for a in page.items] == ["host-6", "host-5", "host-4"]
    company = services.orgs.get_node(superadmin, branch.parent_org_id)
    where = {(a.branch_org_id, a.branch_name, a.company_name) for a in page.items}
    assert where == {(branch.org_id, branch.name, company.name)}
    assert services.agents.list_agents(superadmin, branch.org_id, text="host-3").total == 1
    last, beyond = (
        services.agents.list_agents(superadmin, branch.org_id, offset=offset, limit=3)
        for offset in (6, 9)
    )
    assert (last.total, len(last.items), beyond.total, beyond.items) == (7, 1, 7, [])
    with pytest.raises(ValidationError):
        services.agents.list_agents(superadmin, branch.org_id, sort_by="password")


def test_agents_pages_filter_and_sort_by_status_and_match_text_literally(
    services, superadmin, branch
):
    """Pages filtered and sorted by the status computed in SQL, a text with LIKE wildcards
    matched as typed, and a full page's total counted (at the branch and at its company)."""
    names = ["on-1", "on-2", "off-1", "over-1", "never-1", "gone-1", "a_b", "axb", "50%"]
    enroll_hosts(services, superadmin, branch, names)
    now = utcnow()
    seen = {"on-1": now, "on-2": now, "off-1": now - timedelta(minutes=10)}
    seen |= {"over-1": now - timedelta(days=30), "gone-1": now, "a_b": now, "axb": now}
    seen["50%"] = now
    with services.session_factory() as session:
        for hostname, last_seen in seen.items():
            session.execute(
                update(Agent).where(Agent.hostname == hostname).values(last_seen=last_seen)
            )
        session.execute(update(Agent).where(Agent.hostname == "gone-1").values(revoked_at=now))
        session.commit()
    for node in (branch.org_id, branch.parent_org_id):

        def hosts(**kwargs) -> tuple[list[str], int]:
            page = services.agents.list_agents(superadmin, node, **kwargs)  # noqa: B023
            return [a.hostname for a in page.items], page.total

        online = (["50%", "a_b", "axb", "on-1", "on-2"], 5)
        assert hosts(status=AgentStatus.ONLINE) == online
        assert hosts(status=AgentStatus.ONLINE, limit=2) == (online[0][:2], 5)
        assert hosts(status=AgentStatus.ONLINE, offset=4, limit=2) == (["on-2"], 5)
        assert hosts(status=AgentStatus.OFFLINE) == (["off-1"], 1)
        assert hosts(status=AgentStatus.OVERDUE) == (["over-1"], 1)
        assert hosts(status=AgentStatus.NEVER_SEEN) == (["never-1"], 1)
        assert hosts(status=AgentStatus.REVOKED) == (["gone-1"], 1)
        statuses = [
            a.status for a in services.agents.list_agents(superadmin, node, sort_by="status").items
        ]
        assert statuses == sorted(statuses, key=lambda s: s.value)
        assert hosts(text="a_b") == (["a_b"], 1)
        assert hosts(text="50%") == (["50%"], 1)
        assert hosts(text="-1", status=AgentStatus.ONLINE) == (["on-1"], 1)
        assert hosts(text="-1", limit=2) == (["gone-1", "never-1"], 5)


def test_a_page_row_says_what_the_agents_detail_says(services, superadmin, branch):
    """Pages read each row as one JSON array: the values, times to the microsecond in UTC,
    addresses and statuses are those of the agent itself."""
    key = services.enrollment.issue_key(superadmin, branch.org_id)
    inventories = [
        {**HOST, "hostname": 'ünïcode-"quoted"', "ip_addresses": ["10.0.0.5", "fe80::1"]},
        {"hostname": "bare", "machine_id": "m-bare"},
        {"hostname": "gone", "machine_id": "m-gone", "ip_addresses": []},
    ]
    agents = [
        services.enrollment.enroll(branch.org_id, key.key, AgentInventory.parse(inventory))
        for inventory in inventories
    ]
    services.agents.revoke_agent(superadmin, agents[2].agent_uuid)
    seen = (utcnow() - timedelta(minutes=5)).replace(microsecond=123456)
    with services.session_factory() as session:
        session.execute(
            update(Agent).where(Agent.uuid == agents[0].agent_uuid).values(last_seen=seen)
        )
        session.commit()
    page = services.agents.list_agents(superadmin, branch.org_id)
    detail = {a.agent_uuid: services.agents.get_agent(superadmin, a.agent_uuid) for a in agents}
    assert {item.uuid: item for item in page.items} == {
        uuid: d.summary for uuid, d in detail.items()
    }
    assert detail[agents[0].agent_uuid].summary.last_seen == seen
    assert [item.status.value for item in page.items] == ["never_seen", "revoked", "offline"]


def test_concurrent_enrollments_with_one_key_wait_their_turn_instead_of_failing(
    fresh_database_url, superadmin, caplog
):
    """Each enrollment writes first, so SQLite queues them on its write lock (a transaction
    that read first may not upgrade and fails with "database is locked") and MariaDB on the
    key's row: none is retried, all succeed, each use is counted."""
    services = bootstrap(fresh_database_url, pool_size=12)
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    company = services.orgs.create_company(superadmin, tenant.org_id, "HQ")
    branch = services.orgs.create_branch(superadmin, company.org_id, "Berlin")
    key = services.enrollment.issue_key(superadmin, branch.org_id)
    hosts = [AgentInventory.parse({**HOST, "machine_id": f"m-{n}"}) for n in range(24)]
    barrier = threading.Barrier(12)

    def enroll(host: AgentInventory):
        barrier.wait(timeout=30)
        return services.enrollment.enroll(branch.org_id, key.key, host)

    with (
        caplog.at_level(logging.WARNING, logger="argos_core.transactions"),
        ThreadPoolExecutor(12) as pool,
    ):
        results = list(pool.map(enroll, hosts))
    assert all(r.created for r in results) and len({r.agent_uuid for r in results}) == 24
    assert [r.getMessage() for r in caplog.records] == []
    [info] = services.enrollment.list_keys(superadmin, branch.org_id)
    services.close()
    assert info.use_count == 24
