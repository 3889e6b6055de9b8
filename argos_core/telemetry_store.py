"""The telemetry write path: idempotent multi-row inserts, ``last_seen`` updates, and the
agent lookup the ingest server authorises requests with.

Used by the ingest server's group-commit writer and by the demo seeder. Callers own the
transaction.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from argos_core.branch_rollups import note_stale
from argos_core.db import fresh
from argos_core.models import (
    Agent,
    Telemetry,
    TelemetryDaily,
    TelemetryHourly,
    TelemetryLateHour,
)
from argos_core.rollups import note_late
from argos_core.sample_fields import SAMPLE_METRICS

COLUMNS = ("agent_id", "ts", *SAMPLE_METRICS)
ROWS_PER_STATEMENT = 1000
IDS_PER_STATEMENT = 1000

_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_statement(conn: Connection) -> str:
    """The driver-level ``INSERT`` that skips rows whose ``(agent_id, ts)`` already exists."""
    mark = _PLACEHOLDERS[conn.dialect.paramstyle]
    verb = "INSERT OR IGNORE" if conn.dialect.name == "sqlite" else "INSERT IGNORE"
    values = ", ".join([mark] * len(COLUMNS))
    return f"{verb} INTO telemetry ({', '.join(COLUMNS)}) VALUES ({values})"


def insert_tuples(conn: Connection, rows: Sequence[tuple]) -> int:
    """Insert rows given as tuples in ``COLUMNS`` order; returns how many were new.

    MySQL gets multi-row ``INSERT IGNORE`` statements. When every value is an int, a float
    or None (always so for validated telemetry) the VALUES list is written as numeric
    literals, about seven times cheaper than PyMySQL escaping each value, and nothing but
    digits, signs, dots, exponents and NULL can reach the SQL. Any other value type falls
    back to the driver's own ``executemany``. SQLite uses ``executemany`` (a C loop).

    Rows for hours that closed a while ago are noted for the rollup job to re-roll.
    """
    if not rows:
        return 0
    note_late(conn, rows, int(time.time()))
    inserted = 0
    for start in range(0, len(rows), ROWS_PER_STATEMENT * 5):
        chunk = rows[start : start + ROWS_PER_STATEMENT * 5]
        values = None if conn.dialect.name == "sqlite" else _numeric_values(chunk)
        if values is None:
            try:
                inserted += conn.exec_driver_sql(insert_statement(conn), list(chunk)).rowcount
            except OverflowError as exc:  # SQLite's driver: an int beyond 64 bits
                raise OutOfRange(str(exc)) from exc
        else:
            inserted += conn.exec_driver_sql(
                f"INSERT IGNORE INTO telemetry ({', '.join(COLUMNS)}) VALUES {values}"
            ).rowcount
    return inserted


class OutOfRange(ValueError):
    """A value the column cannot hold. MySQL's ``INSERT IGNORE`` would store the nearest
    value it can (a warning nobody reads), so such rows are refused before."""


_LITERAL = {int: int.__repr__, float: float.__repr__}
BIGINT_MIN, BIGINT_MAX = -(1 << 63), (1 << 63) - 1
TS_MAX = (1 << 32) - 1  # MySQL INT UNSIGNED
FLOAT_MAX = 3.402823466e38  # MySQL FLOAT (single precision)
_FLOAT_COLUMNS = frozenset({"cpu_percent", "mem_percent", "disk_percent", "load_1m"})


def _numeric_values(rows: Sequence[tuple]) -> str | None:
    """``(1,2.5,NULL),(...)`` for rows of finite numbers and Nones, else None (the driver
    escapes the values). Raises ``OutOfRange`` for a value its column cannot hold."""
    try:
        text = ",".join(
            [
                f"({','.join(['NULL' if v is None else _LITERAL[type(v)](v) for v in row])})"
                for row in rows
            ]
        )
    except KeyError:  # a value of another type (bool, Decimal, str...): let the driver escape
        return None
    if "n" in text.replace("NULL", ""):  # inf / nan never pass
        return None
    _check_ranges(rows)
    return text


def _check_ranges(rows: Sequence[tuple]) -> None:
    """Each column's smallest and largest value against what the column holds: a transpose
    and a min/max per column, in C (about a sixth of the cost of writing the literals)."""
    for column, values in zip(COLUMNS, zip(*rows, strict=True), strict=True):
        try:
            lo, hi = min(values), max(values)
        except TypeError:  # NULLs among the numbers
            lo = hi = None
        if lo is None or hi is None:
            present = [v for v in values if v is not None]
            if not present:
                continue
            lo, hi = min(present), max(present)
        if column == "ts":
            if lo < 0 or hi > TS_MAX:
                raise OutOfRange(f"'ts' holds {hi if hi > TS_MAX else lo}, beyond 0..{TS_MAX}.")
        elif column in _FLOAT_COLUMNS:
            if lo < -FLOAT_MAX or hi > FLOAT_MAX:
                raise OutOfRange(f"'{column}' holds {hi if hi > FLOAT_MAX else lo}, beyond FLOAT.")
        elif lo < BIGINT_MIN or hi > BIGINT_MAX:
            raise OutOfRange(
                f"'{column}' holds {hi if hi > BIGINT_MAX else lo}, beyond a 64-bit integer."
            )


def insert_ignoring_duplicates(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert samples; rows whose ``(agent_id, ts)`` exists are skipped. Returns rows inserted."""
    return insert_tuples(conn, [tuple(r.get(c) for c in COLUMNS) for r in rows])


def delete_history(db: Connection | Session, agent_ids: Iterable[int]) -> None:
    """Delete the agents' raw samples, hourly and daily rollups and late-hour notes, and
    note their branches' node-tier rows stale.

    ``telemetry`` has no foreign key (partitioned InnoDB tables cannot carry one), so every
    path that deletes agents calls this first, in the same transaction. Ids are listed
    literally: each ``agent_id IN (...)`` is a primary-key range per agent on every table.
    """
    wanted = sorted(set(agent_ids))
    note_stale(db, wanted, int(time.time()))
    for start in range(0, len(wanted), IDS_PER_STATEMENT):
        chunk = wanted[start : start + IDS_PER_STATEMENT]
        for table in (Telemetry, TelemetryHourly, TelemetryDaily, TelemetryLateHour):
            db.execute(delete(table).where(table.agent_id.in_(chunk)))


def existing_keys(conn: Connection, keys: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which of the given ``(agent_id, ts)`` pairs are already stored."""
    by_agent: dict[int, list[int]] = defaultdict(list)
    for agent_id, ts in keys:
        by_agent[agent_id].append(ts)
    found: set[tuple[int, int]] = set()
    table = Telemetry.__table__
    for agent_id, stamps in by_agent.items():
        rows = conn.execute(
            select(table.c.ts).where(
                table.c.agent_id == agent_id,
                table.c.ts >= min(stamps),
                table.c.ts <= max(stamps),
            )
        )
        wanted = set(stamps)
        found.update((agent_id, ts) for (ts,) in rows if ts in wanted)
    return found


def touch_last_seen(
    conn: Connection, seen: Mapping[int, datetime], epochs: Mapping[int, int] | None = None
) -> int:
    """Move each agent's ``last_seen`` forward (never backwards, e.g. for late batches;
    never for revoked agents, nor for one whose token epoch is not the one in ``epochs``:
    its host enrolled again since that token was issued).

    Agents seen at the same instant (everyone in one writer flush) with the same epoch share
    one ``UPDATE``. Returns how many agents matched (MySQL connections report found, not
    changed, rows): fewer than given means some are revoked, gone, superseded or already
    seen later.
    """
    if not seen:
        return 0
    epochs = epochs or {}
    groups: dict[tuple[datetime, int | None], list[int]] = defaultdict(list)
    for agent_id, when in seen.items():
        groups[when, epochs.get(agent_id)].append(agent_id)
    if conn.dialect.name in ("mysql", "mariadb") and conn.dialect.paramstyle in _FORMAT_STYLES:
        return _touch_last_seen_mysql(conn, groups)
    matched = 0
    agents = Agent.__table__
    for (when, epoch), ids in sorted(groups.items(), key=_group_order):
        ids.sort()
        for start in range(0, len(ids), IDS_PER_STATEMENT):
            statement = (
                update(agents)
                .where(agents.c.id.in_(ids[start : start + IDS_PER_STATEMENT]))
                .where(agents.c.revoked_at.is_(None))
                .where(agents.c.last_seen.is_(None) | (agents.c.last_seen < when))
                .values(last_seen=when, updated_at=agents.c.updated_at)
            )
            if epoch is not None:
                statement = statement.where(agents.c.token_epoch == epoch)
            matched += conn.execute(statement).rowcount
    return matched


_FORMAT_STYLES = ("format", "pyformat")


def _group_order(item: tuple[tuple[datetime, int | None], list[int]]) -> tuple[datetime, int]:
    (when, epoch), _ids = item
    return when, -1 if epoch is None else epoch


def _touch_last_seen_mysql(
    conn: Connection, groups: Mapping[tuple[datetime, int | None], list[int]]
) -> int:
    """``touch_last_seen``'s ``UPDATE`` as driver-level SQL: the same statement the Core
    expression compiles to, without building and compiling an expression per flush (a
    millisecond of CPU, more than the row inserts themselves). The ids and the epoch are
    written as integer literals; the instant is bound as ``UTCDateTime`` stores it (naive
    UTC)."""
    matched = 0
    table = Agent.__table__.name
    for (when, epoch), ids in sorted(groups.items(), key=_group_order):
        if when.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        naive = when.astimezone(UTC).replace(tzinfo=None)
        same_epoch = "" if epoch is None else f" AND token_epoch = {int(epoch)}"
        ids.sort()
        for start in range(0, len(ids), IDS_PER_STATEMENT):
            listed = ",".join([str(int(i)) for i in ids[start : start + IDS_PER_STATEMENT]])
            matched += conn.exec_driver_sql(
                f"UPDATE {table} SET last_seen = %s, updated_at = updated_at"
                f" WHERE id IN ({listed}) AND revoked_at IS NULL{same_epoch}"
                " AND (last_seen IS NULL OR last_seen < %s)",
                (naive, naive),
            ).rowcount
    return matched


def usable_agent_epochs(conn: Connection, agent_ids: Iterable[int]) -> dict[int, int]:
    """The token epoch of each of ``agent_ids`` that is neither revoked nor gone
    (primary-key lookups)."""
    wanted = sorted(set(agent_ids))
    usable: dict[int, int] = {}
    for start in range(0, len(wanted), IDS_PER_STATEMENT):
        usable.update(
            conn.execute(
                select(Agent.id, Agent.token_epoch).where(
                    Agent.id.in_(wanted[start : start + IDS_PER_STATEMENT]),
                    Agent.revoked_at.is_(None),
                )
            ).all()
        )
    return usable


class AgentCredential(NamedTuple):
    agent_id: int
    revoked: bool
    report_interval_s: int
    token_epoch: int


def agent_credentials(conn: Connection, uuids: Iterable[str]) -> dict[str, AgentCredential]:
    """The agents that exist among ``uuids``, by uuid (an agent enrolled a moment ago
    included, whichever Galera node answers)."""
    wanted = sorted(set(uuids))
    found: dict[str, AgentCredential] = {}
    for start in range(0, len(wanted), IDS_PER_STATEMENT):
        rows = conn.execute(
            fresh(
                select(
                    Agent.uuid,
                    Agent.id,
                    Agent.revoked_at,
                    Agent.report_interval_s,
                    Agent.token_epoch,
                ).where(Agent.uuid.in_(wanted[start : start + IDS_PER_STATEMENT]))
            )
        )
        found.update(
            {
                u: AgentCredential(i, revoked is not None, every, epoch)
                for u, i, revoked, every, epoch in rows
            }
        )
    return found
