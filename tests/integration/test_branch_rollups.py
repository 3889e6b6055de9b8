"""The node tier (hourly rows per branch) against the agents' hourly rows it stands for:
random data, late samples, agents moved or deleted, and the migration that fills it."""

from __future__ import annotations

import random
import time
from collections import defaultdict

import pytest
from sqlalchemy import select, text

from argos_core.bootstrap import bootstrap
from argos_core.db import make_engine
from argos_core.housekeeping import housekeep
from argos_core.migrate import head_revision, upgrade
from argos_core.models import (
    ROLLUP_METRICS,
    Agent,
    Branch,
    TelemetryBranchHourly,
    TelemetryStaleBranch,
)
from argos_core.partitions import prepare_since
from argos_core.rollups import HOUR_S, ROLLED_UNTIL, get_mark
from argos_core.scope import Principal
from argos_core.telemetry_store import insert_tuples
from tests.databases import scratch_database
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
    """One company: Berlin with four agents, Paris with three, Rome with none."""
    tenant = services.orgs.create_tenant(ROOT, "Acme")
    company = services.orgs.create_company(ROOT, tenant.org_id, "HQ")
    branches = {
        name: services.orgs.create_branch(ROOT, company.org_id, name)
        for name in ("Berlin", "Paris", "Rome")
    }
    uuids = {}
    for name, count in (("Berlin", 4), ("Paris", 3)):
        for i in range(count):
            host = f"{name.lower()}-{i}"
            uuids[host] = add_agent(services.session_factory, branches[name].org_id, host)
    with services.engine.connect() as conn:
        ids = dict(conn.execute(select(Agent.uuid, Agent.id)).all())
    return {"company": company, "branches": branches, "uuids": uuids, "ids": ids}


def random_rows(agent_ids, start: int, end: int, seed: int) -> list[tuple]:
    """Irregular samples with missing metrics, agents silent for hours, counter resets."""
    rng = random.Random(seed)
    rows = []
    for agent_id in agent_ids:
        ts, rx = start + rng.randint(0, 600), rng.randint(0, 10**6)
        while ts < end:
            if rng.random() < 0.01:
                ts += rng.randint(2, 6) * HOUR_S
                continue
            rx = rng.randint(0, 1000) if rng.random() < 0.02 else rx + rng.randint(0, 10**5)
            rows.append(
                (
                    agent_id,
                    ts,
                    None if rng.random() < 0.1 else round(rng.uniform(0, 100), 2),
                    round(rng.uniform(0, 100), 2),
                    None if agent_id % 3 == 0 else round(rng.uniform(0, 100), 2),
                    rx,
                    ts * 3,
                    round(rng.uniform(0, 8), 3),
                    ts - start,
                )
            )
            ts += rng.choice((30, 60, 300, 900))
    return rows


def write(services, rows) -> None:
    with services.engine.begin() as conn:
        prepare_since(conn, min(r[1] for r in rows))
        insert_tuples(conn, rows)


def agents_by_branch(services) -> dict[int, list[int]]:
    with services.engine.connect() as conn:
        members = defaultdict(list)
        for agent_id, branch_id in conn.execute(select(Agent.id, Agent.branch_id)):
            members[branch_id].append(agent_id)
    return members


def agent_rows(services, agent_ids) -> list:
    """The agents' hourly rows, averages read as the double precision the per-agent path
    sums them in (a MariaDB FLOAT is sent as six digits: 56.5402 for 56.54020977...)."""
    if not agent_ids:
        return []
    columns = ["agent_id", "hour"] + [
        f"{m}_min, {m}_avg * 1e0 AS {m}_avg, {m}_max" for m in ROLLUP_METRICS
    ]
    listed = ",".join(str(int(a)) for a in agent_ids)
    with services.engine.connect() as conn:
        return conn.execute(
            text(f"SELECT {', '.join(columns)} FROM telemetry_hourly WHERE agent_id IN ({listed})")
        ).all()


def expected_hours(services, agent_ids) -> dict[int, list]:
    """Per hour, from the agents' hourly rows: agents reporting, then per metric the lowest
    minimum, the average of the agents' averages and the highest maximum."""
    by_hour = defaultdict(list)
    for row in agent_rows(services, agent_ids):
        by_hour[row.hour].append(row._mapping)
    result = {}
    for hour, cells in by_hour.items():
        stats: list = [len(cells)]
        for m in ROLLUP_METRICS:
            lows = [c[f"{m}_min"] for c in cells if c[f"{m}_min"] is not None]
            avgs = [c[f"{m}_avg"] for c in cells if c[f"{m}_avg"] is not None]
            highs = [c[f"{m}_max"] for c in cells if c[f"{m}_max"] is not None]
            stats += [
                min(lows) if lows else None,
                sum(avgs) / len(avgs) if avgs else None,
                max(highs) if highs else None,
            ]
        result[hour] = stats
    return result


def stored_branch_hours(services, branch_ids) -> dict[int, list]:
    """The node tier's rows of the branches summed per hour, in ``expected_hours`` form."""
    table = TelemetryBranchHourly.__table__
    with services.engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.branch_id.in_(branch_ids))).all()
    by_hour = defaultdict(list)
    for row in rows:
        by_hour[row.hour].append(row._mapping)
    result = {}
    for hour, cells in by_hour.items():
        stats: list = [sum(c["agents"] for c in cells)]
        for m in ROLLUP_METRICS:
            lows = [c[f"{m}_min"] for c in cells if c[f"{m}_min"] is not None]
            highs = [c[f"{m}_max"] for c in cells if c[f"{m}_max"] is not None]
            n = sum(c[f"{m}_n"] for c in cells)
            stats += [
                min(lows) if lows else None,
                sum(c[f"{m}_sum"] for c in cells) / n if n else None,
                max(highs) if highs else None,
            ]
        result[hour] = stats
    return result


def assert_same_hours(actual: dict, expected: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for hour, stats in expected.items():
        assert [same(a, e) for a, e in zip(actual[hour], stats, strict=True)] == [True] * len(
            stats
        ), (hour, actual[hour], stats)


def same(actual, expected) -> bool:
    """Equal up to the rounding of a sum taken in another order (None only for None)."""
    if expected is None or actual is None:
        return actual is expected
    return actual == pytest.approx(expected, rel=1e-9)


def assert_branch_rows_match(services, branch_id: int, agents: list[int]) -> None:
    assert_same_hours(stored_branch_hours(services, [branch_id]), expected_hours(services, agents))


def assert_series_matches(series, expected: dict) -> None:
    """A node series in hourly buckets against ``expected_hours`` (rolled hours only)."""
    assert series.bucket_s == HOUR_S
    got = dict(zip(series.ts, range(len(series.ts)), strict=True))
    assert set(expected) <= set(got)
    for hour, stats in expected.items():
        i = got[hour]
        assert series.agents_reporting[i] == stats[0], hour
        for k, m in enumerate(ROLLUP_METRICS):
            assert same(series.average[m][i], stats[2 + 3 * k]), (hour, m)
            assert same(series.maximum[m][i], stats[3 + 3 * k]), (hour, m)


def rolled_range(services) -> tuple[int, int]:
    with services.engine.connect() as conn:
        rolled = get_mark(conn, ROLLED_UNTIL)
    return NOW - 3 * DAY, rolled


def test_the_node_tier_equals_the_agents_rows_on_random_data(services, fleet):
    ids = sorted(fleet["ids"].values())
    write(services, random_rows(ids, NOW - 3 * DAY, NOW, seed=11))
    housekeep(services.engine, now=NOW)
    members = agents_by_branch(services)
    for branch_id, agents in members.items():
        assert_same_hours(
            stored_branch_hours(services, [branch_id]), expected_hours(services, agents)
        )
    start, rolled = rolled_range(services)
    expected = {h: s for h, s in expected_hours(services, ids).items() if start <= h < rolled}
    company = services.telemetry.node_aggregate(ROOT, fleet["company"].org_id, start, rolled)
    assert_series_matches(company, expected)
    assert len(expected) > 60 and {s[0] for s in expected.values()} > {7}  # some agents silent


def test_longer_buckets_keep_the_average_and_show_the_busiest_hour(services, fleet):
    ids = sorted(fleet["ids"].values())
    write(services, random_rows(ids, NOW - 3 * DAY, NOW, seed=5))
    housekeep(services.engine, now=NOW)
    start, rolled = rolled_range(services)
    rows = [r for r in agent_rows(services, ids) if r.hour < rolled]
    series = services.telemetry.node_aggregate(
        ROOT, fleet["company"].org_id, start, rolled, max_points=10
    )
    assert series.bucket_s == 8 * HOUR_S
    for i, key in enumerate(series.ts):
        inside = [r for r in rows if key <= r.hour < key + series.bucket_s]
        per_hour = defaultdict(int)
        for r in inside:
            per_hour[r.hour] += 1
        assert series.agents_reporting[i] == max(per_hour.values())
        # every agent-hour weighs the same in a longer bucket
        cpu = [r.cpu_percent_avg for r in inside if r.cpu_percent_avg is not None]
        assert series.average["cpu_percent"][i] == pytest.approx(sum(cpu) / len(cpu), rel=1e-9)
        assert series.maximum["load_1m"][i] == max(r.load_1m_max for r in inside)
    assert len(set(series.agents_reporting)) > 1


def test_late_samples_re_roll_their_branch_hour(services, fleet):
    ids = fleet["ids"]
    berlin = [ids[fleet["uuids"][f"berlin-{i}"]] for i in range(4)]
    write(services, random_rows(berlin, NOW - DAY, NOW, seed=3))
    housekeep(services.engine, now=NOW)
    hour = NOW // HOUR_S * HOUR_S - 5 * HOUR_S
    before = stored_branch_hours(services, list(agents_by_branch(services)))
    write(services, [(berlin[0], hour + 1, 123.0, 1.0, 1.0, 0, 0, 0.0, 1)])
    housekeep(services.engine, now=NOW)
    stored = stored_branch_hours(services, list(agents_by_branch(services)))
    assert before[hour][3] < 123.0 and stored[hour][3] == 123.0  # cpu maximum
    assert stored[hour][2] != pytest.approx(before[hour][2])  # cpu average
    assert_same_hours(stored, expected_hours(services, berlin))


def test_moving_or_deleting_an_agent_keeps_aggregates_exact_before_and_after_rebuild(
    services, fleet
):
    ids, uuids, branches = fleet["ids"], fleet["uuids"], fleet["branches"]
    write(services, random_rows(sorted(ids.values()), NOW - 2 * DAY, NOW, seed=9))
    housekeep(services.engine, now=NOW)
    start, rolled = rolled_range(services)
    services.agents.move_agent(ROOT, uuids["berlin-1"], branches["Rome"].org_id)
    services.agents.delete_agent(ROOT, uuids["paris-2"])

    def check() -> None:
        for branch in branches.values():
            with services.engine.connect() as conn:
                branch_id = conn.scalar(select(Branch.id).where(Branch.org_id == branch.org_id))
            agents = agents_by_branch(services).get(branch_id, [])
            expected = {
                h: s for h, s in expected_hours(services, agents).items() if start <= h < rolled
            }
            series = services.telemetry.node_aggregate(ROOT, branch.org_id, start, rolled)
            assert_series_matches(series, expected)
            assert sum(series.agents_reporting) == sum(s[0] for s in expected.values())

    check()  # the branches are read from the agents' rows meanwhile
    with services.engine.connect() as conn:
        assert len(conn.execute(select(TelemetryStaleBranch.branch_id)).all()) == 3
    report = housekeep(services.engine, now=NOW)
    assert report.branches_rebuilt == 3
    with services.engine.connect() as conn:
        assert conn.execute(select(TelemetryStaleBranch.branch_id)).all() == []
    for branch_id, agents in agents_by_branch(services).items():
        assert_same_hours(
            stored_branch_hours(services, [branch_id]), expected_hours(services, agents)
        )
    check()


def test_migration_fills_the_node_tier_from_stored_agent_rollups(db_backend, tmp_path):
    with scratch_database(db_backend, tmp_path, migrate=False) as url:
        engine = make_engine(url)
        try:
            upgrade(engine, "0006")
            services = bootstrap(url)
            try:
                tenant = services.orgs.create_tenant(ROOT, "Acme")
                company = services.orgs.create_company(ROOT, tenant.org_id, "HQ")
                org_ids = [
                    services.orgs.create_branch(ROOT, company.org_id, n).org_id for n in ("A", "B")
                ]
                for i in range(5):
                    add_agent(services.session_factory, org_ids[i % 2], f"h{i}")
            finally:
                services.close()
            rng = random.Random(21)
            columns = ["agent_id", "hour", "samples"] + [
                f"{m}_{s}" for m in ROLLUP_METRICS for s in ("min", "avg", "max")
            ]
            with engine.begin() as conn:
                agent_ids = list(conn.scalars(text("SELECT id FROM agents ORDER BY id")))
                rows = []
                for agent_id in agent_ids:
                    for hour in range(NOW - 50 * HOUR_S, NOW, HOUR_S):
                        hour -= hour % HOUR_S
                        if rng.random() < 0.2:
                            continue
                        stats = []
                        for _ in ROLLUP_METRICS:
                            low = rng.uniform(0, 50)
                            stats += [low, low + rng.uniform(0, 20), low + 40]
                        if rng.random() < 0.3:
                            stats[3:6] = [None, None, None]
                        rows.append(dict(zip(columns, [agent_id, hour, 60, *stats], strict=True)))
                conn.execute(
                    text(
                        f"INSERT INTO telemetry_hourly ({', '.join(columns)})"
                        f" VALUES ({', '.join(':' + c for c in columns)})"
                    ),
                    rows,
                )
            assert upgrade(engine) == head_revision()
            services = bootstrap(url)
            try:
                members = agents_by_branch(services)
                assert len(members) == 2
                for branch_id, agents in members.items():
                    assert_branch_rows_match(services, branch_id, agents)
            finally:
                services.close()
        finally:
            engine.dispose()
