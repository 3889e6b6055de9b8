"""A node's agents together, read through the console's backend: the same answers over the
server and directly, inside the signed-in user's scope only."""

from __future__ import annotations

import pytest

from argos_core.errors import NotFound
from tests.factories import add_samples
from tests.gui.conftest import PASSWORD, ROOT, Fleet

HOUR = 1_790_000_000 // 3600 * 3600
CPU = {"berlin-web-01": 20.0, "berlin-web-02": 60.0, "paris-web-01": 90.0}


@pytest.fixture
def busy(fleet: Fleet) -> Fleet:
    for hostname, cpu in CPU.items():
        add_samples(
            fleet.services.session_factory,
            fleet.agents[hostname],
            [{"ts": HOUR + 60 * i, "cpu_percent": cpu} for i in range(3)],
        )
    return fleet


def test_a_company_aggregate_and_its_top_agents(busy: Fleet):
    session = busy.sign_in(ROOT, PASSWORD)
    series = session.backend.node_aggregate(busy.org["alpha"], HOUR, HOUR + 3600)
    assert (series.org_id, series.ts, series.agents_reporting) == (busy.org["alpha"], [HOUR], [3])
    assert series.average["cpu_percent"] == [pytest.approx(170 / 3)]
    assert series.maximum["cpu_percent"] == [90.0]
    top = session.backend.top_agents(busy.org["alpha"], "cpu_percent", HOUR, HOUR + 3600, limit=2)
    assert [(t.hostname, t.average) for t in top] == [
        ("paris-web-01", 90.0),
        ("berlin-web-02", 60.0),
    ]


def test_a_branch_admin_reads_only_their_branch(busy: Fleet):
    busy.services.users.create_user(
        ROOT,
        username="berlin-admin",
        password=PASSWORD,
        role="admin",
        scope_org_id=busy.org["berlin"],
    )
    admin = busy.services.users.authenticate("berlin-admin", PASSWORD)
    session = busy.sign_in(admin, PASSWORD)
    series = session.backend.node_aggregate(busy.org["berlin"], HOUR, HOUR + 3600)
    assert series.agents_reporting == [2]
    for node in (busy.org["alpha"], busy.org["paris"], busy.org["zeta"]):
        with pytest.raises(NotFound):
            session.backend.node_aggregate(node, HOUR, HOUR + 3600)
        with pytest.raises(NotFound):
            session.backend.top_agents(node, "cpu_percent", HOUR, HOUR + 3600)
