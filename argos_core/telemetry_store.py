"""The telemetry write path: idempotent multi-row inserts and ``last_seen`` updates.

Used by the ingest server's group-commit writer and by the demo seeder. Callers own the
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from argos_core.models import Agent, Telemetry

COLUMNS = (
    "agent_id",
    "ts",
    "cpu_percent",
    "mem_percent",
    "disk_percent",
    "net_rx_bytes",
    "net_tx_bytes",
    "load_1m",
    "uptime_s",
)
ROWS_PER_STATEMENT = 1000


def insert_ignoring_duplicates(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert samples; rows whose ``(agent_id, ts)`` exists are skipped. Returns rows inserted."""
    if not rows:
        return 0
    full = [{c: r.get(c) for c in COLUMNS} for r in rows]
    if conn.dialect.name == "sqlite":
        stmt = sqlite_insert(Telemetry).on_conflict_do_nothing(index_elements=["agent_id", "ts"])
    else:
        stmt = insert(Telemetry).prefix_with("IGNORE")
    inserted = 0
    for start in range(0, len(full), ROWS_PER_STATEMENT):
        chunk = full[start : start + ROWS_PER_STATEMENT]
        inserted += conn.execute(stmt.values(chunk)).rowcount
    return inserted


def touch_last_seen(conn: Connection, seen: Mapping[int, datetime]) -> None:
    """Move each agent's ``last_seen`` forward (never backwards, e.g. for late batches)."""
    if not seen:
        return
    stmt = (
        update(Agent.__table__)
        .where(Agent.__table__.c.id == bindparam("agent"))
        .where(
            (Agent.__table__.c.last_seen.is_(None))
            | (Agent.__table__.c.last_seen < bindparam("seen"))
        )
        .values(last_seen=bindparam("seen"))
    )
    conn.execute(stmt, [{"agent": a, "seen": s} for a, s in sorted(seen.items())])
