"""The daily tier top agents read whole days from: the same rankings as from the hourly
tier on random data, re-rolled days for late samples, expired with the hours."""

from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from argos_core.bootstrap import bootstrap
from argos_core.housekeeping import Retention, housekeep
from argos_core.models import Agent, TelemetryDaily, TelemetryHourly, TelemetryMark
from argos_core.partitions import prepare_since
from argos_core.rollups import DAILY_UNTIL, HOUR_S, get_mark
from argos_core.scope import Principal
from argos_core.telemetry_store import insert_tuples
from tests.factories import add_agent

DAY = 86400
NOW = int(time.time()) // HOUR_S * HOUR_S + 1800
ROOT = Principal("root", "superadmin", source="tests")


@pytest.fixture
def services(fresh_database_url):
    services = bootstrap(fresh_database_url)
    yield services
    services.close()


@pytest.fixture
def fleet(services):
    tenant = services.orgs.create_tenant(ROOT, "Acme")
    company = services.orgs.create_company(ROOT, tenant.org_id, "HQ")
    branch = services.orgs.create_branch(ROOT, company.org_id, "Berlin")
    for i in range(6):
        add_agent(services.session_factory, branch.org_id, f"h{i}")
    with services.engine.connect() as conn:
        ids = list(conn.scalars(select(Agent.id).order_by(Agent.id)))
    return company.org_id, ids


def random_rows(agent_ids, start: int, end: int, seed: int) -> list[tuple]:
    """Irregular samples with missing metrics; each agent around its own level."""
    rng = random.Random(seed)
    rows = []
    for k, agent_id in enumerate(agent_ids):
        ts = start + rng.randint(0, 600)
        while ts < end:
            level = 10 * k + rng.uniform(0, 30)
            rows.append(
                (
                    agent_id,
                    ts,
                    None if rng.random() < 0.1 else round(level, 2),
                    round(rng.uniform(0, 100), 2),
                    None if rng.random() < 0.3 else round(rng.uniform(0, 100), 2),
                    ts * 5,
                    ts * 3,
                    round(rng.uniform(0, 8), 3),
                    ts - start,
                )
            )
            ts += rng.choice((30, 60, 300, 900, 3 * HOUR_S))
    return rows


def write(services, rows) -> None:
    with services.engine.begin() as conn:
        prepare_since(conn, min(r[1] for r in rows))
        insert_tuples(conn, rows)


def ranking(services, company: str, metric: str, start: int) -> list[tuple]:
    return [
        (a.hostname, a.average, a.maximum)
        for a in services.telemetry.top_agents(ROOT, company, metric, start, NOW, limit=100)
    ]


def hourly_only(services):
    """Rankings as they are without the daily tier (its mark gone, every hour is read)."""
    with services.engine.begin() as conn:
        daily = get_mark(conn, DAILY_UNTIL)
        conn.execute(delete(TelemetryMark).where(TelemetryMark.name == DAILY_UNTIL))
    return daily


def assert_same_ranking(actual: list[tuple], expected: list[tuple]) -> None:
    assert [a[0] for a in actual] == [e[0] for e in expected]
    for (_, avg, high), (_, e_avg, e_high) in zip(actual, expected, strict=True):
        assert avg == pytest.approx(e_avg, rel=1e-9) and high == e_high


def test_rankings_from_the_daily_tier_equal_those_from_the_hourly_tier(services, fleet):
    company, ids = fleet
    write(services, random_rows(ids, NOW - 6 * DAY, NOW, seed=17))
    report = housekeep(services.engine, now=NOW)
    assert report.days_rolled >= 5
    start = NOW - 4 * DAY - 7 * HOUR_S  # partial days at both ends
    daily = {m: ranking(services, company, m, start) for m in ("cpu_percent", "disk_percent")}
    assert len(daily["cpu_percent"]) == 6
    hourly_only(services)
    for metric, found in daily.items():
        assert_same_ranking(found, ranking(services, company, metric, start))


def test_rankings_read_whole_days_from_the_daily_tier(services, fleet):
    company, ids = fleet
    write(services, random_rows(ids, NOW - 4 * DAY, NOW, seed=4))
    housekeep(services.engine, now=NOW)
    before = {h: avg for h, avg, _ in ranking(services, company, "cpu_percent", NOW - 3 * DAY)}
    with services.engine.begin() as conn:
        conn.execute(
            update(TelemetryDaily)
            .where(TelemetryDaily.agent_id == ids[0])
            .values(cpu_percent_wsum=TelemetryDaily.cpu_percent_wsum * 10)
        )
    after = {h: avg for h, avg, _ in ranking(services, company, "cpu_percent", NOW - 3 * DAY)}
    assert after["h0"] > before["h0"] * 2 and after["h1"] == before["h1"]


def test_a_late_sample_re_rolls_its_agents_closed_day(services, fleet):
    company, ids = fleet
    write(services, random_rows(ids, NOW - 3 * DAY, NOW, seed=8))
    housekeep(services.engine, now=NOW)
    late = NOW - 2 * DAY - 5 * HOUR_S
    write(services, [(ids[1], late + 1, 123.0, 1.0, 1.0, 0, 0, 0.0, 1)])
    report = housekeep(services.engine, now=NOW)
    assert report.late_agent_hours == 1
    with services.engine.connect() as conn:
        day_max = conn.scalar(
            select(TelemetryDaily.cpu_percent_max).where(
                TelemetryDaily.agent_id == ids[1], TelemetryDaily.day == late // DAY * DAY
            )
        )
    assert day_max == 123.0
    daily = ranking(services, company, "cpu_percent", NOW - 3 * DAY)
    hourly_only(services)
    assert_same_ranking(daily, ranking(services, company, "cpu_percent", NOW - 3 * DAY))


def test_daily_rows_expire_with_the_hours_they_sum(services, fleet):
    _, ids = fleet
    write(services, random_rows(ids, NOW - 5 * DAY, NOW, seed=2))
    retention = Retention(raw=timedelta(days=1), rollups=timedelta(days=2))
    housekeep(services.engine, retention, now=NOW)
    cutoff = (NOW - 2 * DAY) // DAY * DAY
    with services.engine.connect() as conn:
        oldest_day = conn.scalar(select(func.min(TelemetryDaily.day)))
        oldest_hour = conn.scalar(select(func.min(TelemetryHourly.hour)))
    assert oldest_day == cutoff and cutoff <= oldest_hour < cutoff + 4 * HOUR_S
