"""Charts read the right tier: raw for short ranges where raw data exists, hourly rollups
beyond, seamless across the rolled-up/raw boundary; node aggregates and top agents, scoped."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from argos_core.bootstrap import bootstrap
from argos_core.errors import NotFound, ValidationError
from argos_core.housekeeping import housekeep
from argos_core.models import Agent, Branch
from argos_core.partitions import prepare_since
from argos_core.rollups import HOUR_S
from argos_core.scope import Principal
from argos_core.telemetry_store import insert_tuples
from tests.factories import add_agent

DAY = 86400
NOW = int(time.time()) // HOUR_S * HOUR_S + 1500
ROOT = Principal("root", "superadmin", source="tests")


@pytest.fixture
def services(fresh_database_url):
    services = bootstrap(fresh_database_url)
    yield services
    services.close()


@pytest.fixture
def fleet(services):
    """Two branches of one company: Berlin with two agents, Paris with one."""
    tenant = services.orgs.create_tenant(ROOT, "Acme")
    company = services.orgs.create_company(ROOT, tenant.org_id, "HQ")
    berlin = services.orgs.create_branch(ROOT, company.org_id, "Berlin")
    paris = services.orgs.create_branch(ROOT, company.org_id, "Paris")
    uuids = {
        "b1": add_agent(services.session_factory, berlin.org_id, "b1"),
        "b2": add_agent(services.session_factory, berlin.org_id, "b2"),
        "p1": add_agent(services.session_factory, paris.org_id, "p1"),
    }
    with services.engine.connect() as conn:
        ids = dict(conn.execute(select(Agent.uuid, Agent.id)).all())
    return {"company": company, "berlin": berlin, "paris": paris, "uuids": uuids, "ids": ids}


def samples(agent_id: int, start: int, end: int, cpu: float, step: int = 300) -> list[tuple]:
    return [
        (agent_id, ts, cpu + (ts // step) % 3, 50.0, 60.0, ts * 10, ts * 2, 1.0, 100)
        for ts in range(start, end, step)
    ]


def write(services, rows, since: int) -> None:
    with services.engine.begin() as conn:
        prepare_since(conn, since)
        insert_tuples(conn, rows)


def test_short_recent_ranges_are_raw_and_long_ones_hourly_with_min_max(services, fleet):
    agent = fleet["uuids"]["b1"]
    write(services, samples(fleet["ids"][agent], NOW - 40 * DAY, NOW, 10.0), NOW - 40 * DAY)
    housekeep(services.engine, now=NOW)
    day = services.telemetry.telemetry_range(ROOT, agent, NOW - DAY, NOW)
    assert day.resolution == "raw" and len(day) == DAY // 300 and not day.maximum
    month = services.telemetry.telemetry_range(ROOT, agent, NOW - 30 * DAY, NOW)
    assert month.resolution == "hourly" and month.bucket_s == HOUR_S
    assert len(month) == 30 * 24 + 1  # the first, partly covered hour and the current one
    assert month.minimum["cpu_percent"][5] == 10.0 and month.maximum["cpu_percent"][5] == 12.0
    assert month.metrics["cpu_percent"][5] == pytest.approx(11.0)
    assert month.metrics["net_rx_rate"][5] == pytest.approx(10.0)
    # raw data older than 14 days is gone: even a short range there comes from rollups
    old = services.telemetry.telemetry_range(ROOT, agent, NOW - 20 * DAY, NOW - 19 * DAY)
    assert old.resolution == "hourly" and len(old) == 25


def test_a_year_is_merged_into_buckets_of_whole_hours(services, fleet):
    agent = fleet["uuids"]["b1"]
    write(services, samples(fleet["ids"][agent], NOW - 3 * DAY, NOW, 10.0), NOW - 3 * DAY)
    housekeep(services.engine, now=NOW)
    year = services.telemetry.telemetry_range(ROOT, agent, NOW - 365 * DAY, NOW, max_points=500)
    assert year.resolution == "hourly" and year.bucket_s == 18 * HOUR_S
    assert 0 < len(year) <= 500
    for low, avg, high in zip(
        year.minimum["cpu_percent"],
        year.metrics["cpu_percent"],
        year.maximum["cpu_percent"],
        strict=True,
    ):
        assert low <= avg <= high


def test_the_hourly_series_is_the_same_before_and_after_hours_are_rolled(services, fleet):
    agent = fleet["uuids"]["b2"]
    write(services, samples(fleet["ids"][agent], NOW - 20 * DAY, NOW, 30.0, 60), NOW - 20 * DAY)
    housekeep(services.engine, now=NOW - 6 * HOUR_S)  # the last six hours are not rolled
    before = services.telemetry.telemetry_range(ROOT, agent, NOW - 18 * DAY, NOW)
    assert before.ts[-1] == NOW // HOUR_S * HOUR_S  # up to the current hour, from raw
    steps = {b - a for a, b in zip(before.ts, before.ts[1:], strict=False)}
    assert steps == {HOUR_S}  # no gap at the boundary
    housekeep(services.engine, now=NOW)
    after = services.telemetry.telemetry_range(ROOT, agent, NOW - 18 * DAY, NOW)
    assert after.ts == before.ts
    for metric, values in before.metrics.items():
        assert after.metrics[metric] == pytest.approx(values, rel=1e-5), metric
        assert after.maximum[metric] == pytest.approx(before.maximum[metric], rel=1e-5)


def test_node_aggregates_average_max_and_agents_reporting(services, fleet):
    ids, uuids = fleet["ids"], fleet["uuids"]
    start = NOW - 2 * DAY
    rows = samples(ids[uuids["b1"]], start, NOW, 10.0) + samples(ids[uuids["b2"]], start, NOW, 30.0)
    rows += samples(ids[uuids["p1"]], NOW - DAY, NOW, 70.0)
    write(services, rows, start)
    housekeep(services.engine, now=NOW)
    berlin = services.telemetry.node_aggregate(ROOT, fleet["berlin"].org_id, start, NOW)
    assert berlin.bucket_s == HOUR_S and set(berlin.agents_reporting) == {2}
    assert berlin.average["cpu_percent"][3] == pytest.approx(21.0)
    assert berlin.maximum["cpu_percent"][3] == 32.0
    company = services.telemetry.node_aggregate(ROOT, fleet["company"].org_id, start, NOW)
    assert company.agents_reporting[0] == 2 and company.agents_reporting[-1] == 3
    assert company.maximum["cpu_percent"][-1] == 72.0
    top = services.telemetry.top_agents(ROOT, fleet["company"].org_id, "cpu_percent", start, NOW)
    assert [a.hostname for a in top] == ["p1", "b2", "b1"]
    assert top[0].maximum == 72.0 and top[0].branch_org_id == fleet["paris"].org_id
    assert [a.hostname for a in top[:1]] == [
        a.hostname
        for a in services.telemetry.top_agents(
            ROOT, fleet["company"].org_id, "cpu_percent", start, NOW, limit=1
        )
    ]


def test_a_client_admin_cannot_aggregate_outside_their_scope(services, fleet):
    ids, uuids = fleet["ids"], fleet["uuids"]
    write(services, samples(ids[uuids["p1"]], NOW - DAY, NOW, 70.0), NOW - DAY)
    with services.engine.connect() as conn:
        berlin = conn.execute(
            select(Branch.id, Branch.tenant_id, Branch.company_id).where(
                Branch.org_id == fleet["berlin"].org_id
            )
        ).one()
    viewer = Principal("berlin-viewer", "viewer", berlin.tenant_id, berlin.company_id, berlin.id)
    mine = services.telemetry.node_aggregate(viewer, fleet["berlin"].org_id, NOW - DAY, NOW)
    assert set(mine.agents_reporting) <= {0, 1, 2}
    for node in (fleet["paris"].org_id, fleet["company"].org_id):
        with pytest.raises(NotFound):
            services.telemetry.node_aggregate(viewer, node, NOW - DAY, NOW)
        with pytest.raises(NotFound):
            services.telemetry.top_agents(viewer, node, "cpu_percent", NOW - DAY, NOW)
    with pytest.raises(ValidationError):
        services.telemetry.top_agents(ROOT, fleet["paris"].org_id, "uptime_s", NOW - DAY, NOW)
