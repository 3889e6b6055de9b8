"""Telemetry housekeeping: roll up closed hours, re-roll late ones, rebuild stale branches
of the node tier, roll closed days into the daily tier, prepare partitions ahead, drop
expired raw data and rollups. Idempotent; safe to stop at any point.

Raw data is never dropped before its hours are rolled up. On MySQL expired raw days are
whole partitions dropped (cost independent of their size); on SQLite, and for rollups,
rows are deleted a few agents at a time (primary-key ranges, short transactions).

The pass runs beside the writer and must never make it wait. On MySQL/MariaDB its
transactions run READ COMMITTED: the raw samples and agents that ``INSERT ... SELECT``
statements read are then consistent reads that lock nothing (under REPEATABLE READ InnoDB
takes shared next-key locks on them, and the writer's inserts into the gaps after each
agent's newest sample and its ``last_seen`` updates waited for the pass, or deadlocked
with it). What the pass locks (its own tiers, the marks, the late-hour notes it takes) the
writer only touches in noting late hours, and those notes are taken an hour at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from argos_core import branch_rollups, partitions, rollups
from argos_core.errors import ValidationError
from argos_core.models import (
    Agent,
    Branch,
    Telemetry,
    TelemetryBranchHourly,
    TelemetryDaily,
    TelemetryHourly,
)
from argos_core.pass_pace import PassPace
from argos_core.transactions import is_conflict

HOUSEKEEPING_JOB = "telemetry.housekeep"
DEFAULT_RAW_RETENTION = timedelta(days=14)
DEFAULT_ROLLUP_RETENTION = timedelta(days=730)
PARTITION_DAYS_AHEAD = 3
# The server's pass rests as long as each transaction took: see ``PassPace``.
DEFAULT_SLEEP_COEF = 1.0
MAX_SLEEP_COEF = 100.0
AGENTS_PER_DELETE = 50


@dataclass(frozen=True)
class Retention:
    raw: timedelta = DEFAULT_RAW_RETENTION
    rollups: timedelta = DEFAULT_ROLLUP_RETENTION

    def __post_init__(self) -> None:
        if self.raw < timedelta(days=1):
            raise ValidationError("Raw telemetry must be kept at least one day.")
        if self.rollups < self.raw:
            raise ValidationError("Rollups must be kept at least as long as raw telemetry.")


@dataclass
class HousekeepingReport:
    hours_rolled: int = 0
    late_agent_hours: int = 0
    branches_rebuilt: int = 0
    days_rolled: int = 0
    partitions_created: list[str] = field(default_factory=list)
    partitions_dropped: list[str] = field(default_factory=list)
    # Partition DDL gave up waiting for the table (a long transaction read it): next pass.
    partitions_put_off: bool = False
    raw_rows_deleted: int = 0
    rollup_rows_deleted: int = 0
    rolled_until: int | None = None
    raw_horizon: int | None = None
    seconds: float = 0.0
    rested_seconds: float = 0.0  # of ``seconds``, resting between transactions (the pace)


def housekeep(
    engine: Engine,
    retention: Retention | None = None,
    *,
    now: int | None = None,
    pace: PassPace | None = None,
) -> HousekeepingReport:
    """One housekeeping pass. ``pace`` is called after each of its transactions: it rests
    the pass and keeps its lease (it raises to stop the pass when the lease is lost)."""
    retention = retention or Retention()
    engine = pass_engine(engine)
    pace = pace or PassPace()
    began = time.perf_counter()
    now = int(time.time() if now is None else now)
    report = HousekeepingReport()
    report.hours_rolled = rollups.roll_closed_hours(engine, now, pace)
    report.late_agent_hours = rollups.reroll_late_hours(engine, pace)
    report.branches_rebuilt = branch_rollups.rebuild_stale(engine, pace)
    report.days_rolled = rollups.roll_closed_days(engine, pace)
    with engine.connect() as conn:
        rolled = rollups.get_mark(conn, rollups.ROLLED_UNTIL)
    raw_cutoff = partitions.day_start(now - int(retention.raw.total_seconds()))
    try:
        with engine.begin() as conn, partitions.short_metadata_waits(conn):
            report.partitions_created = partitions.prepare_ahead(conn, now, PARTITION_DAYS_AHEAD)
        if rolled is not None:
            # Only whole rolled days may go: their rollups must exist first.
            raw_cutoff = min(raw_cutoff, partitions.day_start(rolled))
            _drop_raw(engine, raw_cutoff, report, pace)
    except OperationalError as exc:
        if not is_conflict(exc):
            raise
        report.partitions_put_off = True
    # Whole days, so the daily tier and the hours it sums up expire together.
    rollup_cutoff = partitions.day_start(now - int(retention.rollups.total_seconds()))
    report.rollup_rows_deleted = _delete_by_agents(
        engine, TelemetryHourly.__table__, "hour", rollup_cutoff, pace
    )
    _delete_by_agents(engine, TelemetryDaily.__table__, "day", rollup_cutoff, pace)
    with engine.connect() as conn:
        branch_ids = list(conn.scalars(select(Branch.id).order_by(Branch.id)))
    _delete_by_keys(
        engine, TelemetryBranchHourly.__table__, "branch_id", branch_ids, rollup_cutoff, pace
    )
    with engine.connect() as conn:
        report.rolled_until = rollups.get_mark(conn, rollups.ROLLED_UNTIL)
        report.raw_horizon = rollups.get_mark(conn, rollups.RAW_HORIZON)
    report.seconds = time.perf_counter() - began
    report.rested_seconds = pace.rested_s
    return report


def pass_engine(engine: Engine) -> Engine:
    """``engine`` with the pass's isolation: READ COMMITTED on MySQL/MariaDB (SQLite has
    one writer at a time and no row locks to avoid)."""
    if engine.dialect.name in ("mysql", "mariadb"):
        return engine.execution_options(isolation_level="READ COMMITTED")
    return engine


def _drop_raw(engine: Engine, cutoff: int, report: HousekeepingReport, pace) -> None:
    with engine.connect() as conn:
        horizon = rollups.get_mark(conn, rollups.RAW_HORIZON) or 0
        partitioned = bool(partitions.partitions(conn))
    if cutoff <= horizon:
        return
    if partitioned:
        report.partitions_dropped, dropped_to = partitions.drop_before(engine, cutoff, pace)
        if dropped_to is None:
            return
        cutoff = dropped_to
    else:
        report.raw_rows_deleted = _delete_by_agents(engine, Telemetry.__table__, "ts", cutoff, pace)
    with engine.begin() as conn:
        rollups.set_mark(conn, rollups.RAW_HORIZON, cutoff)


def _delete_by_agents(engine: Engine, table, column: str, cutoff: int, pace) -> int:
    """``DELETE ... WHERE agent_id IN (a few) AND column < cutoff``, agent by agent range,
    one short transaction per batch so writers never wait long."""
    with engine.connect() as conn:
        agent_ids = list(conn.scalars(select(Agent.id).order_by(Agent.id)))
    return _delete_by_keys(engine, table, "agent_id", agent_ids, cutoff, pace, column)


def _delete_by_keys(
    engine: Engine, table, key: str, ids: list[int], cutoff: int, pace, column="hour"
) -> int:
    """``DELETE ... WHERE key IN (a few ids) AND column < cutoff`` in short transactions."""
    deleted = 0
    for start in range(0, len(ids), AGENTS_PER_DELETE):
        chunk = ids[start : start + AGENTS_PER_DELETE]
        with engine.begin() as conn:
            deleted += conn.execute(
                table.delete().where(table.c[key].in_(chunk), table.c[column] < cutoff)
            ).rowcount
        pace()
    return deleted
