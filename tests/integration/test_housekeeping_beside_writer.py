"""A housekeeping pass beside the group-commit writer on MariaDB/MySQL: what a pass's
transaction holds must never make a flush wait. Under REPEATABLE READ the rollup's
``INSERT ... SELECT`` took shared next-key locks on the raw samples it read (up to the gap
after each agent's newest sample, where the writer inserts) and on the agents' rows (whose
``last_seen`` the writer moves), so flushes waited for the pass or deadlocked with it.

Each test keeps a pass's transaction open at its most demanding point and runs a flush as
the writer does (``last_seen`` first, then the rows, late-hour notes included) with the
lock wait cut to one second: a flush that has to wait fails with 1205. Partition DDL
cannot help taking the table's metadata lock: it waits for it only a moment."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select

from argos_core.bootstrap import bootstrap
from argos_core.daily_rollups import DAY_S, day_start
from argos_core.db import make_engine
from argos_core.housekeeping import housekeep, pass_engine
from argos_core.models import Agent, Telemetry, TelemetryHourly, TelemetryLateHour, utcnow
from argos_core.rollups import (
    DAILY_UNTIL,
    HOUR_S,
    ROLLED_UNTIL,
    closed_until,
    reroll_late_hours,
    roll,
    set_mark,
)
from argos_core.scope import Principal
from argos_core.telemetry_store import insert_tuples, touch_last_seen
from tests.factories import add_agent

ROOT = Principal("root", "superadmin", source="tests")
HOUR = 1_767_607_200  # 2026-01-05 10:00 UTC: every row of these tests shares a partition


@pytest.fixture
def mysql_only(db_backend):
    if db_backend != "mysql":
        pytest.skip("row and gap locks are InnoDB's; SQLite has one writer at a time")


@pytest.fixture
def fleet(mysql_only, fresh_database_url):
    """Four agents in two branches; the first three have samples up to the end of ``HOUR``
    and nothing later (the gap after each one's newest sample is where the writer inserts),
    the fourth has none."""
    services = bootstrap(fresh_database_url)
    tenant = services.orgs.create_tenant(ROOT, "Acme")
    company = services.orgs.create_company(ROOT, tenant.org_id, "HQ")
    branches = [services.orgs.create_branch(ROOT, company.org_id, n) for n in ("A", "B")]
    uuids = [add_agent(services.session_factory, branches[i % 2].org_id, f"h{i}") for i in range(4)]
    with services.engine.begin() as conn:
        ids = list(conn.scalars(select(Agent.id).where(Agent.uuid.in_(uuids)).order_by(Agent.id)))
        insert_tuples(conn, [sample(a, ts) for a in ids[:3] for ts in range(HOUR, HOUR + 3600, 60)])
        set_mark(conn, ROLLED_UNTIL, HOUR + HOUR_S)
        set_mark(conn, DAILY_UNTIL, HOUR - HOUR % 86400 + 86400)
    writer = make_engine(fresh_database_url)
    yield services.engine, writer, ids
    writer.dispose()
    services.close()


def sample(agent_id: int, ts: int) -> tuple:
    return (agent_id, ts, 10.0, 20.0, 30.0, ts, ts, 0.5, 100)


def flush(writer, rows: list[tuple]) -> None:
    """One flush as the group-commit writer writes it, refusing to wait over a second."""
    with writer.begin() as conn:
        conn.exec_driver_sql("SET SESSION innodb_lock_wait_timeout = 1")
        touch_last_seen(conn, dict.fromkeys({r[0] for r in rows}, utcnow()))
        insert_tuples(conn, rows)


def test_rolling_an_hour_holds_nothing_a_flush_needs(fleet):
    engine, writer, ids = fleet
    with pass_engine(engine).begin() as conn:
        # The hour, its branches' node rows and its agents' day, all in this transaction.
        roll(conn, HOUR, HOUR + HOUR_S)
        assert conn.scalar(select(func.count()).select_from(TelemetryHourly)) == 3
        flush(writer, [sample(a, HOUR + HOUR_S + 10) for a in ids])  # the next hour's
        flush(writer, [sample(a, HOUR + 1800 + 5) for a in ids])  # the hour rolled
    with engine.connect() as conn:
        notes = conn.execute(select(TelemetryLateHour.agent_id, TelemetryLateHour.hour)).all()
    # Both hours are long closed: the next pass re-rolls them.
    assert sorted(notes) == sorted((a, h) for a in ids for h in (HOUR, HOUR + HOUR_S))


def test_re_rolling_late_hours_holds_only_the_notes_it_takes(fleet):
    engine, writer, ids = fleet
    flush(writer, [sample(a, HOUR + 1800 + 5) for a in ids])  # late: noted for the pass
    flushed = []

    def flush_once_the_notes_are_taken(conn, clause, *args):
        # The pass has deleted the hour's notes in its transaction, not yet re-rolled it:
        # the same agents' late samples of another hour are noted without waiting.
        if not flushed and str(clause).startswith("DELETE FROM telemetry_late_hours"):
            flush(writer, [sample(a, HOUR - HOUR_S + 7) for a in ids])
            flushed.append(True)

    event.listen(engine, "after_execute", flush_once_the_notes_are_taken)
    try:
        assert reroll_late_hours(pass_engine(engine)) == 4
    finally:
        event.remove(engine, "after_execute", flush_once_the_notes_are_taken)
    assert flushed
    with engine.connect() as conn:
        notes = conn.execute(select(TelemetryLateHour.agent_id, TelemetryLateHour.hour)).all()
        rolled = conn.scalar(select(func.sum(TelemetryHourly.samples)))
    assert sorted(notes) == [(a, HOUR - HOUR_S) for a in ids]  # left for the next pass
    assert rolled == 3 * 60 + 4  # the late samples counted in their hour


def test_partition_ddl_gives_way_to_a_transaction_reading_the_table(fleet):
    """DDL waiting for the table's metadata lock holds up every later statement on the
    table, the writer's inserts too: the pass waits only a moment and leaves the partitions
    to the next pass."""
    engine, writer, _ = fleet
    later = int(time.time()) + 10 * DAY_S  # days to prepare ahead; no hours left to roll
    with engine.begin() as conn:
        set_mark(conn, ROLLED_UNTIL, closed_until(later))
        set_mark(conn, DAILY_UNTIL, day_start(closed_until(later)))
    reports = []
    with writer.connect() as reader:
        reader.begin()
        reader.execute(select(func.count()).select_from(Telemetry)).one()
        keeper = threading.Thread(target=lambda: reports.append(housekeep(engine, now=later)))
        keeper.start()
        keeper.join(timeout=30)
        assert not keeper.is_alive(), "the pass waited for the reader"
        reader.rollback()
    assert reports[0].partitions_put_off and not reports[0].partitions_created
    again = housekeep(engine, now=later)
    assert not again.partitions_put_off and again.partitions_created
