"""The MySQL fast path writes telemetry values as SQL literals: only finite numbers and NULL,
and nothing a column would silently clamp."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from argos_core.telemetry_store import OutOfRange, _numeric_values, insert_tuples
from tests.factories import add_agent, agent_row

T0 = 1_790_000_000


def row(ts: int = T0, **changes) -> tuple:
    values = {
        "cpu_percent": 12.5,
        "mem_percent": None,
        "disk_percent": 3.0,
        "net_rx_bytes": 10,
        "net_tx_bytes": 0,
        "load_1m": 0.25,
        "uptime_s": 60,
    } | changes
    return (7, ts, *values.values())


def test_numbers_and_nulls_become_literals():
    assert _numeric_values([row(), row(T0 + 1, cpu_percent=-1e-05)]) == (
        f"(7,{T0},12.5,NULL,3.0,10,0,0.25,60),(7,{T0 + 1},-1e-05,NULL,3.0,10,0,0.25,60)"
    )


@pytest.mark.parametrize(
    "odd",
    [True, Decimal("1.5"), "1", b"1", float("inf"), float("-inf"), float("nan")],
    ids=["bool", "decimal", "str", "bytes", "inf", "-inf", "nan"],
)
def test_anything_but_finite_numbers_goes_to_the_driver(odd):
    assert _numeric_values([row(), row(T0 + 1, cpu_percent=odd)]) is None


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"net_rx_bytes": 1 << 63}, "net_rx_bytes"),
        ({"uptime_s": -(1 << 63) - 1}, "uptime_s"),
        ({"cpu_percent": 1e39}, "cpu_percent"),
        ({"load_1m": -3.5e38}, "load_1m"),
    ],
    ids=["counter-over", "counter-under", "float-over", "float-under"],
)
def test_values_beyond_their_column_are_refused(changes, column):
    with pytest.raises(OutOfRange, match=column):
        _numeric_values([row(), row(T0 + 1, **changes)])


@pytest.mark.parametrize("ts", [-1, 1 << 32], ids=["before-1970", "after-2106"])
def test_a_time_beyond_the_unsigned_ts_column_is_refused(ts):
    with pytest.raises(OutOfRange, match="'ts'"):
        _numeric_values([row(), row(ts)])


def test_values_at_the_edges_pass():
    edges = row(net_rx_bytes=(1 << 63) - 1, uptime_s=-(1 << 63), cpu_percent=3.4e38)
    assert _numeric_values([edges]) is not None
    assert _numeric_values([row(0), row((1 << 32) - 1)]) is not None


@pytest.fixture
def branch(services, superadmin):
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    company = services.orgs.create_company(superadmin, tenant.org_id, "HQ")
    return services.orgs.create_branch(superadmin, company.org_id, "Berlin")


def test_an_out_of_range_counter_is_refused_and_nothing_is_stored(services, branch):
    agent_id = agent_row(services, add_agent(services.session_factory, branch.org_id, "h")).agent_id
    with services.session_factory() as session:
        conn = session.connection()
        with pytest.raises(OutOfRange):
            insert_tuples(conn, [(agent_id, T0, 1.0, 1.0, 1.0, 1 << 64, 0, 0.5, 60)])
        stored = conn.execute(
            text("SELECT count(*) FROM telemetry WHERE agent_id = :a"), {"a": agent_id}
        ).scalar()
        session.rollback()
    assert stored == 0
