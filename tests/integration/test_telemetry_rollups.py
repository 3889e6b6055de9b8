"""Hourly rollups against raw samples: min/avg/max/count and counter rates for random data,
idempotence, restarts mid-way, catch-up after downtime and late samples; retention on both
databases."""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import func, select

from argos_core.bootstrap import bootstrap
from argos_core.housekeeping import Retention, housekeep
from argos_core.models import Agent, Telemetry, TelemetryHourly, TelemetryLateHour
from argos_core.partitions import DAY_S, prepare_since
from argos_core.rollups import (
    HOUR_S,
    LOOKBACK_S,
    RAW_HORIZON,
    ROLLED_UNTIL,
    ROLLUP_COLUMNS,
    get_mark,
    roll_closed_hours,
)
from argos_core.scope import Principal
from argos_core.telemetry_store import insert_tuples
from tests.factories import add_agent

NOW = int(time.time()) // HOUR_S * HOUR_S + 1800  # half past the current hour
ROOT = Principal("root", "superadmin", source="tests")


@pytest.fixture
def services(fresh_database_url):
    services = bootstrap(fresh_database_url)
    yield services
    services.close()


@pytest.fixture
def agents(services) -> list[int]:
    tenant = services.orgs.create_tenant(ROOT, "Acme")
    company = services.orgs.create_company(ROOT, tenant.org_id, "HQ")
    branch = services.orgs.create_branch(ROOT, company.org_id, "Berlin")
    uuids = [add_agent(services.session_factory, branch.org_id, f"h{i}") for i in range(3)]
    with services.engine.connect() as conn:
        return list(conn.scalars(select(Agent.id).where(Agent.uuid.in_(uuids)).order_by(Agent.id)))


def random_rows(agent_ids, start: int, end: int, seed: int = 7) -> list[tuple]:
    """Irregular samples with missing metrics and counter resets."""
    rng = random.Random(seed)
    rows = []
    for agent_id in agent_ids:
        ts, rx, tx = start + rng.randint(0, 50), rng.randint(0, 10**6), 0
        while ts < end:
            rx = rng.randint(0, 1000) if rng.random() < 0.02 else rx + rng.randint(0, 10**5)
            tx += rng.randint(0, 5000)
            rows.append(
                (
                    agent_id,
                    ts,
                    None if rng.random() < 0.1 else round(rng.uniform(0, 100), 2),
                    round(rng.uniform(0, 100), 2),
                    None if rng.random() < 0.3 else round(rng.uniform(0, 100), 2),
                    rx,
                    tx if rng.random() > 0.05 else None,
                    round(rng.uniform(0, 8), 3),
                    ts - start,
                )
            )
            ts += rng.choice((15, 30, 60, 61, 300, 1200))
    return rows


def expected_rollups(rows: list[tuple]) -> dict[tuple[int, int], list]:
    """The rollup rows computed in Python from raw rows."""
    by_agent: dict[int, list[tuple]] = {}
    for row in sorted(rows):
        by_agent.setdefault(row[0], []).append(row)
    out: dict[tuple[int, int], dict] = {}
    for agent_id, samples in by_agent.items():
        for i, row in enumerate(samples):
            hour = row[1] // HOUR_S * HOUR_S
            cell = out.setdefault((agent_id, hour), {"n": 0, "vals": {}})
            cell["n"] += 1
            prev = samples[i - 1] if i and row[1] - samples[i - 1][1] <= LOOKBACK_S else None
            values = {
                "cpu_percent": row[2],
                "mem_percent": row[3],
                "disk_percent": row[4],
                "load_1m": row[7],
                "net_rx_rate": _rate(prev, row, 5),
                "net_tx_rate": _rate(prev, row, 6),
            }
            for metric, value in values.items():
                if value is not None:
                    cell["vals"].setdefault(metric, []).append(value)
    result = {}
    for key, cell in out.items():
        stats = [cell["n"]]
        for name in ROLLUP_COLUMNS[3::3]:
            metric = name.removesuffix("_min")
            vals = cell["vals"].get(metric)
            stats += [min(vals), sum(vals) / len(vals), max(vals)] if vals else [None] * 3
        result[key] = stats
    return result


def _rate(prev, row, index):
    if prev is None or prev[index] is None or row[index] is None or row[index] < prev[index]:
        return None
    return (row[index] - prev[index]) / (row[1] - prev[1])


def stored_rollups(services) -> dict[tuple[int, int], list]:
    with services.engine.connect() as conn:
        rows = conn.execute(select(*[TelemetryHourly.__table__.c[c] for c in ROLLUP_COLUMNS])).all()
    return {(r[0], r[1]): list(r[2:]) for r in rows}


def assert_rollups_match(services, rows):
    assert_same_rollups(stored_rollups(services), expected_rollups(rows))


def assert_same_rollups(stored, expected):
    assert stored.keys() == expected.keys()
    for key, want in expected.items():
        got = stored[key]
        assert got[0] == want[0], key
        for g, w in zip(got[1:], want[1:], strict=True):
            assert (g is None) == (w is None), key
            if w is not None:  # FLOAT columns keep about seven significant digits
                assert g == pytest.approx(w, rel=1e-5, abs=1e-4), key


def write(services, rows):
    with services.engine.begin() as conn:
        insert_tuples(conn, rows)


def test_rollups_match_raw_min_avg_max_count_and_rates(services, agents):
    rows = random_rows(agents, NOW - 6 * HOUR_S, NOW)
    write(services, rows)
    report = housekeep(services.engine, now=NOW)
    assert report.hours_rolled == 6 and report.rolled_until == NOW // HOUR_S * HOUR_S
    assert_rollups_match(services, [r for r in rows if r[1] < report.rolled_until])


def test_rolling_again_or_after_a_restart_gives_the_same_rows(services, agents):
    rows = random_rows(agents, NOW - 3 * DAY_S, NOW, seed=11)
    write(services, rows)
    calls = []

    def crash_after_first_day():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        roll_closed_hours(services.engine, NOW, crash_after_first_day)
    with services.engine.connect() as conn:
        assert get_mark(conn, ROLLED_UNTIL) < NOW - 2 * DAY_S  # stopped after the first day
    housekeep(services.engine, now=NOW)
    first = stored_rollups(services)
    with services.engine.begin() as conn:  # forget the progress: everything is rolled again
        conn.execute(TelemetryHourly.__table__.delete().where(TelemetryHourly.hour > 0))
        conn.exec_driver_sql("DELETE FROM telemetry_marks")
    housekeep(services.engine, now=NOW)
    assert_same_rollups(stored_rollups(services), first)  # summed in another order
    rolled = NOW // HOUR_S * HOUR_S
    assert_rollups_match(services, [r for r in rows if r[1] < rolled])


def test_catching_up_after_downtime_rolls_every_missed_hour(services, agents):
    before = random_rows(agents, NOW - 2 * HOUR_S, NOW - HOUR_S, seed=3)
    write(services, before)
    first = housekeep(services.engine, now=NOW - HOUR_S + 600)
    assert first.rolled_until == NOW // HOUR_S * HOUR_S - HOUR_S
    rows = random_rows(agents, NOW - HOUR_S, NOW + 2 * DAY_S, seed=4)
    write(services, rows)
    report = housekeep(services.engine, now=NOW + 2 * DAY_S)
    assert report.hours_rolled == 49  # the previous hour, today's, and two days
    assert report.rolled_until == (NOW + 2 * DAY_S) // HOUR_S * HOUR_S
    assert_rollups_match(services, [r for r in before + rows if r[1] < report.rolled_until])


def test_late_samples_re_roll_their_hours(services, agents):
    on_time = random_rows(agents, NOW - 4 * HOUR_S, NOW, seed=5)
    write(services, on_time)
    housekeep(services.engine, now=NOW)
    hour = NOW // HOUR_S * HOUR_S - 3 * HOUR_S
    late = [(agents[0], hour + 1, 99.5, None, None, None, None, None, None)]
    late.append((agents[1], hour + 7, 0.25, 1.0, 2.0, None, None, 9.0, None))
    write(services, late)
    with services.engine.connect() as conn:
        noted = conn.execute(select(TelemetryLateHour.agent_id, TelemetryLateHour.hour)).all()
    assert sorted(noted) == [(agents[0], hour), (agents[1], hour)]
    report = housekeep(services.engine, now=NOW)
    assert report.late_agent_hours == 2 and report.hours_rolled == 0
    rolled = NOW // HOUR_S * HOUR_S
    assert_rollups_match(services, [r for r in on_time + late if r[1] < rolled])
    with services.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(TelemetryLateHour)) == 0


def test_retention_drops_old_raw_data_after_rolling_it_and_old_rollups(services, agents):
    start = NOW - 20 * DAY_S
    with services.engine.begin() as conn:
        prepare_since(conn, start)
    rows = [(agents[0], ts, 10.0, 20.0, 30.0, ts, ts, 1.0, ts) for ts in range(start, NOW, 1800)]
    write(services, rows)
    ancient = NOW - 800 * DAY_S
    with services.engine.begin() as conn:
        conn.execute(
            TelemetryHourly.__table__.insert().values(
                agent_id=agents[0], hour=ancient // HOUR_S * HOUR_S, samples=1
            )
        )
    report = housekeep(services.engine, now=NOW)
    horizon = (NOW - 14 * DAY_S) // DAY_S * DAY_S
    assert report.raw_horizon == horizon
    assert report.rollup_rows_deleted == 1
    with services.engine.connect() as conn:
        oldest_raw = conn.scalar(select(func.min(Telemetry.ts)))
        oldest_rollup = conn.scalar(select(func.min(TelemetryHourly.hour)))
        assert get_mark(conn, RAW_HORIZON) == horizon
    assert horizon <= oldest_raw < horizon + 1800
    assert oldest_rollup == start // HOUR_S * HOUR_S  # every dropped day was rolled first
    again = housekeep(services.engine, now=NOW)
    assert (again.raw_rows_deleted, again.partitions_dropped, again.rollup_rows_deleted) == (
        0,
        [],
        0,
    )


def test_retention_is_configurable_and_checked(services, agents):
    from datetime import timedelta

    from argos_core.errors import ValidationError

    with pytest.raises(ValidationError):
        Retention(raw=timedelta(days=30), rollups=timedelta(days=7))
    start = NOW - 5 * DAY_S
    with services.engine.begin() as conn:
        prepare_since(conn, start)
    write(
        services, [(agents[1], ts, 1.0, 1.0, 1.0, 0, 0, 0.1, 0) for ts in range(start, NOW, 3600)]
    )
    report = housekeep(services.engine, Retention(raw=timedelta(days=2)), now=NOW)
    assert report.raw_horizon == (NOW - 2 * DAY_S) // DAY_S * DAY_S


def test_the_server_keeps_what_argos_ingest_was_told_to_keep(services, agents):
    """``argos-ingest --raw-retention``: the server's own periodic pass uses it."""
    from argos_core.tokens import TokenSigner
    from ingest_server.app import IngestRuntime
    from ingest_server.main import build_parser, config_from

    start = NOW - 5 * DAY_S
    with services.engine.begin() as conn:
        prepare_since(conn, start)
    write(
        services, [(agents[1], ts, 1.0, 1.0, 1.0, 0, 0, 0.1, 0) for ts in range(start, NOW, 3600)]
    )
    args = build_parser().parse_args(["--raw-retention", "3d", "--housekeeping-sleep-coef", "0"])
    runtime = IngestRuntime(services, TokenSigner("x" * 32), config_from(args))
    report = runtime.housekeeping.run_once()
    now = int(time.time())
    assert report.raw_horizon == (now - 3 * DAY_S) // DAY_S * DAY_S  # not the default 14 days
    assert report.rested_seconds == 0
