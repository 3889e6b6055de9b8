"""``argos-admin telemetry housekeep`` and ``stats`` as an operator runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from argos_core.db import make_engine
from argos_core.housekeeping import HOUSEKEEPING_JOB
from argos_core.leases import Lease
from argos_core.partitions import day_start
from argos_core.rollups import closed_until
from argos_core.telemetry_store import insert_tuples

ADMIN = str(Path(sys.executable).with_name("argos-admin"))
STATS_KEYS = {
    "raw_rows",
    "rollup_rows",
    "oldest_raw_ts",
    "newest_raw_ts",
    "oldest_rollup_ts",
    "partitions",
    "bytes",
}


def admin(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ADMIN, "--database-url", url, *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def url_with_history(fresh_database_url):
    """One agent with five closed and settled hours of one-minute samples (the hour that
    began less than ``SETTLE_S`` ago does not count: housekeeping must not roll it yet)."""
    hour = closed_until(int(time.time()))
    engine = make_engine(fresh_database_url)
    day = "'2026-01-01 00:00:00'"
    with engine.begin() as conn:
        for kind, org in (("tenant", "TTTTT"), ("company", "CCCCC"), ("branch", "BBBBB")):
            conn.exec_driver_sql(f"INSERT INTO org_ids VALUES ('{org}', '{kind}', {day})")
        conn.exec_driver_sql(
            "INSERT INTO tenants (org_id, org_kind, name, created_at, updated_at)"
            f" VALUES ('TTTTT', 'tenant', 'T', {day}, {day})"
        )
        conn.exec_driver_sql(
            "INSERT INTO companies (org_id, org_kind, tenant_id, name, created_at, updated_at)"
            f" VALUES ('CCCCC', 'company', 1, 'C', {day}, {day})"
        )
        conn.exec_driver_sql(
            "INSERT INTO branches (org_id, org_kind, tenant_id, company_id, name, created_at,"
            f" updated_at) VALUES ('BBBBB', 'branch', 1, 1, 'B', {day}, {day})"
        )
        conn.exec_driver_sql(
            "INSERT INTO agents (id, uuid, tenant_id, company_id, branch_id, machine_id,"
            " hostname, os, agent_version, report_interval_s, enrolled_at, updated_at)"
            f" VALUES (1, 'u-1', 1, 1, 1, 'm-1', 'h', '', '', 30, {day}, {day})"
        )
        insert_tuples(
            conn,
            [(1, ts, 5.0, 6.0, 7.0, ts, ts, 0.5, 100) for ts in range(hour - 5 * 3600, hour, 60)],
        )
    engine.dispose()
    yield fresh_database_url, hour


def test_housekeep_rolls_up_and_stats_reports_the_tiers(url_with_history):
    url, hour = url_with_history
    result = admin(url, "--json", "telemetry", "housekeep", "--raw-retention", "14d")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["hours_rolled"] >= 5 and report["rolled_until"] >= hour
    # The five hours end at the last closed hour: a day is closed if they began the day before.
    closed_days = 1 if day_start(hour - 5 * 3600) < day_start(hour) else 0
    assert report["days_rolled"] == closed_days and report["partitions_put_off"] is False
    assert report["branches_rebuilt"] == 0
    # paced by default: it rested between its transactions, and says so
    assert 0 < report["rested_seconds"] < report["seconds"]
    result = admin(url, "--json", "telemetry", "stats")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert set(stats) == STATS_KEYS
    assert stats["rollup_rows"] == 5
    assert stats["oldest_raw_ts"] == hour - 5 * 3600
    assert stats["newest_raw_ts"] == hour - 60
    assert stats["oldest_rollup_ts"] == hour - 5 * 3600
    assert stats["bytes"] > 0
    if url.startswith("mysql"):
        assert stats["partitions"][-1]["name"] == "pfuture" and stats["raw_rows"] > 0
    else:
        assert stats["partitions"] == [] and stats["raw_rows"] == 300
    text = admin(url, "telemetry", "stats")
    assert text.returncode == 0 and "Rollup rows: 5" in text.stdout


def test_housekeep_is_refused_while_another_process_holds_the_lease(fresh_database_url):
    engine = make_engine(fresh_database_url)
    try:
        lease = Lease(engine, HOUSEKEEPING_JOB, "argos-ingest@web-02", timedelta(minutes=5))
        assert lease.claim()
        result = admin(fresh_database_url, "telemetry", "housekeep")
        assert result.returncode != 0
        assert "running elsewhere (argos-ingest@web-02" in result.stderr
        lease.release()
        assert admin(fresh_database_url, "telemetry", "housekeep").returncode == 0
    finally:
        engine.dispose()


def test_bad_retention_is_a_clear_error(fresh_database_url):
    result = admin(fresh_database_url, "telemetry", "housekeep", "--raw-retention", "soon")
    assert result.returncode != 0 and "'soon' is not a duration" in result.stderr
    result = admin(
        fresh_database_url,
        "telemetry",
        "housekeep",
        "--raw-retention",
        "30d",
        "--rollup-retention",
        "7d",
    )
    assert result.returncode != 0 and "at least as long as raw" in result.stderr


def test_bad_sleep_coefficient_is_a_clear_error(fresh_database_url):
    result = admin(fresh_database_url, "telemetry", "housekeep", "--sleep-coef", "-1")
    assert result.returncode != 0 and "--sleep-coef must be a number from 0" in result.stderr
