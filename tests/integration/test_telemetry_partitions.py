"""Daily partitions of the raw tier on MariaDB/MySQL: the migration of a populated table,
partitions prepared ahead, expired ones dropped whole. (Partitioning is MySQL-only DDL; on
SQLite the same retention is batched deletes, tested in test_telemetry_housekeeping.)"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, inspect, text

from argos_core.db import make_engine
from argos_core.migrate import head_revision, upgrade
from argos_core.partitions import (
    DAY_S,
    FUTURE,
    SWAPPED_OUT,
    drop_before,
    partition_name,
    partitions,
    prepare_ahead,
    prepare_since,
)
from tests.databases import scratch_database

TODAY = int(time.time()) // DAY_S * DAY_S


@pytest.fixture
def mysql_only(db_backend):
    if db_backend != "mysql":
        pytest.skip("partitioning is MySQL/MariaDB DDL; SQLite retention is tested elsewhere")


@pytest.fixture
def mysql_engine(mysql_only, fresh_database_url):
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def _seed_0001(conn) -> int:
    now = "2026-01-01 00:00:00"
    conn.execute(text("INSERT INTO org_ids VALUES ('TTTTT', 'tenant', :n)"), {"n": now})
    conn.execute(text("INSERT INTO org_ids VALUES ('CCCCC', 'company', :n)"), {"n": now})
    conn.execute(text("INSERT INTO org_ids VALUES ('BBBBB', 'branch', :n)"), {"n": now})
    conn.execute(
        text(
            "INSERT INTO tenants (org_id, org_kind, name, created_at, updated_at)"
            " VALUES ('TTTTT', 'tenant', 'T', :n, :n)"
        ),
        {"n": now},
    )
    conn.execute(
        text(
            "INSERT INTO companies (org_id, org_kind, tenant_id, name, created_at, updated_at)"
            " VALUES ('CCCCC', 'company', 1, 'C', :n, :n)"
        ),
        {"n": now},
    )
    conn.execute(
        text(
            "INSERT INTO branches (org_id, org_kind, tenant_id, company_id, name, created_at,"
            " updated_at) VALUES ('BBBBB', 'branch', 1, 1, 'B', :n, :n)"
        ),
        {"n": now},
    )
    conn.execute(
        text(
            "INSERT INTO agents (uuid, tenant_id, company_id, branch_id, machine_id, hostname,"
            " os, agent_version, report_interval_s, enrolled_at, updated_at)"
            " VALUES ('u-1', 1, 1, 1, 'm-1', 'h', '', '', 30, :n, :n)"
        ),
        {"n": now},
    )
    stamps = [TODAY - 40 * DAY_S + 7, TODAY - 5 * DAY_S + 11, TODAY - 3600, TODAY + 60]
    conn.execute(
        text("INSERT INTO telemetry (agent_id, ts, cpu_percent) VALUES (1, :ts, 1.5)"),
        [{"ts": ts} for ts in stamps],
    )
    return len(stamps)


def test_migration_partitions_a_populated_table(mysql_only, tmp_path):
    with scratch_database("mysql", tmp_path, migrate=False) as url:
        engine = make_engine(url)
        try:
            upgrade(engine, "0001")
            with engine.begin() as conn:
                stored = _seed_0001(conn)
            assert upgrade(engine) == head_revision()
            with engine.connect() as conn:
                parts = partitions(conn)
                names = [p.name for p in parts]
                assert names[0] == partition_name(TODAY - 31 * DAY_S)  # older rows share it
                assert names[-2:] == [partition_name(TODAY + 3 * DAY_S), FUTURE]
                assert len(names) == 31 + 1 + 3 + 1
                assert conn.scalar(text("SELECT COUNT(*) FROM telemetry")) == stored
                options = conn.scalar(
                    text(
                        "SELECT create_options FROM information_schema.tables"
                        " WHERE table_schema = DATABASE() AND table_name = 'telemetry'"
                    )
                )
                assert "partitioned" in options and "page_compressed" in options.lower()
                foreign = conn.scalar(
                    text(
                        "SELECT COUNT(*) FROM information_schema.referential_constraints"
                        " WHERE constraint_schema = DATABASE() AND table_name = 'telemetry'"
                    )
                )
                assert foreign == 0
        finally:
            engine.dispose()


def test_migration_makes_ts_four_bytes_in_a_populated_partitioned_table(mysql_only, tmp_path):
    with scratch_database("mysql", tmp_path, migrate=False) as url:
        engine = make_engine(url)
        try:
            upgrade(engine, "0001")
            with engine.begin() as conn:
                _seed_0001(conn)
            upgrade(engine, "0007")
            with engine.connect() as conn:
                before = conn.execute(text("SELECT * FROM telemetry ORDER BY agent_id, ts")).all()
            assert upgrade(engine) == head_revision()
            with engine.connect() as conn:
                column = conn.scalar(
                    text(
                        "SELECT column_type FROM information_schema.columns WHERE"
                        " table_schema = DATABASE() AND table_name = 'telemetry'"
                        " AND column_name = 'ts'"
                    )
                )
                after = conn.execute(text("SELECT * FROM telemetry ORDER BY agent_id, ts")).all()
                still_partitioned = partitions(conn)
            assert column == "int(10) unsigned"
            assert after == before and len(after) == 4
            assert len(still_partitioned) == 31 + 1 + 3 + 1
        finally:
            engine.dispose()


def test_partitions_are_prepared_ahead_idempotently(mysql_engine):
    with mysql_engine.begin() as conn:
        assert prepare_ahead(conn, TODAY + 10, days_ahead=3) == []  # the migration did it
        created = prepare_ahead(conn, TODAY + 2 * DAY_S, days_ahead=5)
        assert created == [partition_name(TODAY + d * DAY_S) for d in (4, 5, 6, 7)]
        assert prepare_ahead(conn, TODAY + 2 * DAY_S, days_ahead=5) == []
        names = [p.name for p in partitions(conn)]
        assert names[-3:] == [
            partition_name(TODAY + 6 * DAY_S),
            partition_name(TODAY + 7 * DAY_S),
            FUTURE,
        ]


def test_a_sample_beyond_the_prepared_days_is_kept_in_pfuture(mysql_engine):
    with mysql_engine.begin() as conn:
        far = TODAY + 30 * DAY_S
        conn.execute(
            text("INSERT INTO telemetry (agent_id, ts, cpu_percent) VALUES (1, :t, 1)"), {"t": far}
        )
        prepare_ahead(conn, TODAY + 29 * DAY_S, days_ahead=3)  # splits pfuture holding the row
        assert (
            conn.scalar(
                text("SELECT COUNT(*) FROM telemetry PARTITION (" + partition_name(far) + ")")
            )
            == 1
        )


def _days_of_samples(engine, days: int) -> None:
    with engine.begin() as conn:
        prepare_since(conn, TODAY - days * DAY_S)
        rows = [{"ts": TODAY - d * DAY_S + 100} for d in range(days, -1, -1)]
        conn.execute(
            text("INSERT INTO telemetry (agent_id, ts, cpu_percent) VALUES (7, :ts, 2)"), rows
        )


def test_expired_partitions_are_dropped_whole_and_the_rest_kept(mysql_engine):
    _days_of_samples(mysql_engine, 20)
    cutoff = TODAY - 14 * DAY_S + 3600  # mid-day: that day's partition is not expired yet
    dropped, horizon = drop_before(mysql_engine, cutoff)
    assert dropped == [partition_name(TODAY - d * DAY_S) for d in range(20, 14, -1)]
    assert horizon == TODAY - 14 * DAY_S
    with mysql_engine.connect() as conn:
        assert conn.scalar(text("SELECT MIN(ts) FROM telemetry")) == TODAY - 14 * DAY_S + 100
        assert conn.scalar(text("SELECT COUNT(*) FROM telemetry")) == 15
        assert not inspect(conn).has_table(SWAPPED_OUT)
    assert drop_before(mysql_engine, cutoff) == ([], None)


def test_an_expired_days_rows_leave_by_a_swap_and_only_empty_partitions_are_dropped(
    mysql_engine,
):
    """Dropping a full partition locks the table for as long as deleting its rows takes;
    the rows leave in a table of their own instead, and the partitions dropped are empty."""
    _days_of_samples(mysql_engine, 3)
    expired = [partition_name(TODAY - d * DAY_S) for d in (3, 2)]
    seen: dict[str, int] = {}

    def rows_left(conn, cursor, statement, *args):
        if "DROP PARTITION" in statement or "EXCHANGE PARTITION" in statement:
            with mysql_engine.connect() as other:
                names = ",".join(expired)
                seen[statement.split()[3]] = other.scalar(
                    text(f"SELECT COUNT(*) FROM telemetry PARTITION ({names})")
                )

    event.listen(mysql_engine, "before_cursor_execute", rows_left)
    try:
        dropped, _ = drop_before(mysql_engine, TODAY - DAY_S)
    finally:
        event.remove(mysql_engine, "before_cursor_execute", rows_left)
    assert dropped == expired
    assert seen == {"EXCHANGE": 1, "DROP": 0}  # the second day's swap, then the empty drop


class PassStopped(Exception):
    pass


def test_a_pass_stopped_after_a_swap_is_finished_by_the_next(mysql_engine):
    _days_of_samples(mysql_engine, 3)
    first = partition_name(TODAY - 3 * DAY_S)

    def stop_after_the_swap(conn, cursor, statement, *args):
        if statement.startswith("ALTER TABLE telemetry EXCHANGE"):
            raise PassStopped  # e.g. the lease was lost, or the process killed

    event.listen(mysql_engine, "after_cursor_execute", stop_after_the_swap)
    try:
        with pytest.raises(PassStopped):
            drop_before(mysql_engine, TODAY - DAY_S)
    finally:
        event.remove(mysql_engine, "after_cursor_execute", stop_after_the_swap)
    with mysql_engine.connect() as conn:
        assert conn.scalar(text(f"SELECT COUNT(*) FROM {SWAPPED_OUT}")) == 1  # the first day
    dropped, horizon = drop_before(mysql_engine, TODAY - DAY_S)
    assert dropped == [first, partition_name(TODAY - 2 * DAY_S)]
    assert horizon == TODAY - DAY_S
    with mysql_engine.connect() as conn:
        assert not inspect(conn).has_table(SWAPPED_OUT)
        assert conn.scalar(text("SELECT MIN(ts) FROM telemetry")) == TODAY - DAY_S + 100


def test_the_last_day_partition_is_never_dropped(mysql_engine):
    with mysql_engine.connect() as conn:
        day_parts = [p for p in partitions(conn) if p.bound is not None]
    dropped, _ = drop_before(mysql_engine, TODAY + 365 * DAY_S)
    assert len(dropped) == len(day_parts) - 1
    with mysql_engine.connect() as conn:
        assert [p.name for p in partitions(conn)][-2:] == [day_parts[-1].name, FUTURE]
