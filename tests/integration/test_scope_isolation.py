"""Property: whatever the hierarchy and whoever asks, no read method leaks a row outside
the caller's subtree, and nothing inside it is hidden."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argos_core.errors import NotFound, UnknownOrgId
from argos_core.models import (
    Agent,
    AuditLog,
    Branch,
    Company,
    EnrollmentKey,
    Telemetry,
    Tenant,
    User,
    utcnow,
)
from argos_core.scope import Principal
from argos_core.services.org_service import allocate_org_id
from tests.factories import FAKE_HASH

shapes = st.lists(  # tenants -> companies -> branches -> agent count
    st.lists(st.lists(st.integers(0, 2), min_size=1, max_size=2), min_size=1, max_size=2),
    min_size=1,
    max_size=3,
)


@dataclass
class World:
    # org id / uuid -> ancestry path of org ids, root first, including itself (agents: branch)
    nodes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    agents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    users: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keys: dict[int, tuple[str, ...]] = field(default_factory=dict)


def build(session, shape) -> World:
    world = World()
    now = utcnow()

    def node(row, kind, path):
        row.org_id = allocate_org_id(session, kind)
        session.add(row)
        session.flush()
        world.nodes[row.org_id] = (*path, row.org_id)
        world.kinds[row.org_id] = kind
        world.ids[row.org_id] = row.id
        username = f"u-{row.org_id.lower()}"
        ancestry = {
            "tenant_id": row.tenant_id if kind != "tenant" else row.id,
            "company_id": None,
            "branch_id": None,
        }
        if kind == "company":
            ancestry["company_id"] = row.id
        if kind == "branch":
            ancestry.update(company_id=row.company_id, branch_id=row.id)
        session.add(User(username=username, password_hash=FAKE_HASH, role="viewer", **ancestry))
        session.add(
            AuditLog(
                actor="t", action=f"{kind}.create", target_kind=kind, target=row.org_id, **ancestry
            )
        )
        world.users[username] = world.nodes[row.org_id]
        return row

    for t_index, companies in enumerate(shape):
        tenant = node(Tenant(name=f"T{t_index}"), "tenant", ())
        for c_index, branches in enumerate(companies):
            company = node(
                Company(name=f"C{c_index}", tenant_id=tenant.id),
                "company",
                world.nodes[tenant.org_id],
            )
            for b_index, agent_count in enumerate(branches):
                branch = node(
                    Branch(name=f"B{b_index}", tenant_id=tenant.id, company_id=company.id),
                    "branch",
                    world.nodes[company.org_id],
                )
                key = EnrollmentKey(branch_id=branch.id, key_hash=uuid.uuid4().hex * 2)
                session.add(key)
                session.flush()
                world.keys[key.id] = world.nodes[branch.org_id]
                for a in range(agent_count):
                    agent = Agent(
                        uuid=str(uuid.uuid4()),
                        tenant_id=tenant.id,
                        company_id=company.id,
                        branch_id=branch.id,
                        machine_id=f"m{a}",
                        hostname=f"host-{branch.org_id}-{a}",
                        last_seen=now,
                    )
                    session.add(agent)
                    session.flush()
                    session.add(Telemetry(agent_id=agent.id, ts=1_000, cpu_percent=1.0))
                    world.agents[agent.uuid] = world.nodes[branch.org_id]
    session.flush()
    return world


def principal_for(world: World, choice: int, role: str) -> tuple[Principal, str | None]:
    org_ids = sorted(world.nodes)
    if choice % (len(org_ids) + 1) == len(org_ids):
        return Principal("root", "superadmin"), None
    scope = org_ids[choice % len(org_ids)]
    path = world.nodes[scope]
    ids = [world.ids[o] for o in path]
    return Principal("p", role, *ids, *([None] * (3 - len(ids))), scope_org_id=scope), scope


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shape=shapes, choice=st.integers(0, 1000), role=st.sampled_from(["admin", "viewer"]))
def test_every_read_method_stays_inside_the_callers_subtree(services, shape, choice, role):
    connection = services.session_factory.kw["bind"]
    savepoint = connection.begin_nested()
    try:
        with services.session_factory() as session:
            world = build(session, shape)
            session.commit()
        principal, scope = principal_for(world, choice, role)
        check_world(services, world, principal, scope)
    finally:
        savepoint.rollback()


def check_world(services, world: World, principal: Principal, scope: str | None) -> None:
    def visible(path: tuple[str, ...]) -> bool:
        return scope is None or scope in path

    # roots and children
    roots = services.orgs.list_children(principal).items
    expected_roots = (
        [o for o, k in world.kinds.items() if k == "tenant"] if scope is None else [scope]
    )
    assert sorted(n.org_id for n in roots) == sorted(expected_roots)
    for org_id, path in world.nodes.items():
        if visible(path):
            node = services.orgs.get_node(principal, org_id)
            expected_agents = [u for u, p in world.agents.items() if org_id in p]
            assert node.counts.total == len(expected_agents)
            children = services.orgs.list_children(principal, org_id, limit=500).items
            assert {c.org_id for c in children} == {
                o for o, p in world.nodes.items() if len(p) == len(path) + 1 and p[:-1] == path
            }
            agents = services.agents.list_agents(principal, org_id, limit=1000)
            assert {a.uuid for a in agents.items} == set(expected_agents)
            if world.kinds[org_id] == "branch":
                keys = services.enrollment.list_keys(principal, org_id)
                assert {k.key_id for k in keys} == {
                    i for i, p in world.keys.items() if p[-1] == org_id
                }
        else:
            for call in (
                lambda o=org_id: services.orgs.get_node(principal, o),
                lambda o=org_id: services.orgs.list_children(principal, o),
                lambda o=org_id: services.agents.list_agents(principal, o),
                lambda o=org_id: services.enrollment.list_keys(principal, o),
            ):
                with pytest.raises(UnknownOrgId):
                    call()
    # agents and their telemetry
    for agent_uuid, path in world.agents.items():
        if visible(path):
            assert services.agents.get_agent(principal, agent_uuid).summary.uuid == agent_uuid
            series = services.telemetry.telemetry_range(principal, agent_uuid, 0, 2_000)
            assert series.ts == [1_000]
        else:
            with pytest.raises(NotFound):
                services.agents.get_agent(principal, agent_uuid)
            with pytest.raises(NotFound):
                services.telemetry.telemetry_range(principal, agent_uuid, 0, 2_000)
    # search: everything matching "host" or a node name, nothing outside
    for text in ("host", "T0", "C0", "B0", *world.nodes):
        for hit in services.orgs.search(principal, text, limit=500):
            path = world.agents.get(hit.key) or world.nodes[hit.key]
            assert visible(path), (hit, scope)
    found_hosts = {h.key for h in services.orgs.search(principal, "host", limit=500)}
    assert found_hosts == {u for u, p in world.agents.items() if visible(p)}
    # users and audit
    users = {u.username for u in services.users.list_users(principal, limit=1000).items}
    assert users == {u for u, p in world.users.items() if visible(p)}
    audited = {e.target for e in services.audit.list_entries(principal, limit=1000).items}
    assert audited == {o for o, p in world.nodes.items() if visible(p)}
