"""Daily RANGE partitions of ``telemetry`` on MySQL/MariaDB.

Partition ``pYYYYMMDD`` holds the day it is named for (``VALUES LESS THAN`` the next
midnight, UTC); the first partition also holds anything older, and ``pfuture``
(``MAXVALUE``) catches samples beyond the days prepared ahead, so no insert ever fails for
want of a partition. Housekeeping splits days off ``pfuture`` ahead of time (cheap while it
is empty) and drops whole partitions once they are expired: the cost of a drop does not
depend on how many rows the day holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

DAY_S = 86400
FUTURE = "pfuture"
TABLE = "telemetry"
# How long partition DDL waits for the table's metadata lock (seconds).
DDL_LOCK_WAIT_S = 2


@dataclass(frozen=True)
class Partition:
    name: str
    bound: int | None  # exclusive upper bound (Unix seconds); None for MAXVALUE
    rows: int
    bytes: int


def is_mysql(conn: Connection) -> bool:
    return conn.dialect.name in ("mysql", "mariadb")


def day_start(ts: int) -> int:
    return int(ts) // DAY_S * DAY_S


def partition_name(day: int) -> str:
    return "p" + datetime.fromtimestamp(day, UTC).strftime("%Y%m%d")


def partition_clause(days: list[int]) -> str:
    """``PARTITION p… VALUES LESS THAN (…)`` for each day, then ``pfuture``."""
    parts = [f"PARTITION {partition_name(d)} VALUES LESS THAN ({d + DAY_S})" for d in days]
    parts.append(f"PARTITION {FUTURE} VALUES LESS THAN MAXVALUE")
    return ", ".join(parts)


@contextmanager
def short_metadata_waits(conn: Connection, seconds: int = DDL_LOCK_WAIT_S) -> Iterator[None]:
    """Let DDL on the connection wait only ``seconds`` for a table's metadata lock: while
    it waits, every later statement on the table (the writer's inserts) queues behind it,
    for as long as a transaction that read the table stays open (MariaDB's default
    ``lock_wait_timeout`` is a day). It fails with 1205 instead, and a later pass tries
    again."""
    if not is_mysql(conn):
        yield
        return
    conn.exec_driver_sql(f"SET SESSION lock_wait_timeout = {int(seconds)}")
    try:
        yield
    finally:
        conn.exec_driver_sql("SET SESSION lock_wait_timeout = DEFAULT")


def partitions(conn: Connection, table: str = TABLE) -> list[Partition]:
    """The table's partitions in order (empty when it is not partitioned or not MySQL).

    Row counts and sizes come from the server's statistics (estimates for InnoDB)."""
    if not is_mysql(conn):
        return []
    rows = conn.exec_driver_sql(
        "SELECT partition_name, partition_description, table_rows,"
        " data_length + index_length FROM information_schema.partitions"
        " WHERE table_schema = DATABASE() AND table_name = %s AND partition_name IS NOT NULL"
        " ORDER BY partition_ordinal_position",
        (table,),
    ).all()
    return [
        Partition(name, None if desc == "MAXVALUE" else int(desc), int(count or 0), int(size or 0))
        for name, desc, count, size in rows
    ]


def prepare_ahead(conn: Connection, now: int, days_ahead: int = 3) -> list[str]:
    """Split ``pfuture`` so that every day up to ``days_ahead`` after today has its own
    partition. Returns the partitions created. A no-op when they exist (idempotent)."""
    existing = partitions(conn)
    if not existing or existing[-1].name != FUTURE:
        return []
    bounded = [p.bound for p in existing if p.bound is not None]
    first = bounded[-1] if bounded else day_start(now)
    last = day_start(now) + days_ahead * DAY_S
    days = list(range(first, last + 1, DAY_S))
    if not days:
        return []
    conn.exec_driver_sql(
        f"ALTER TABLE {TABLE} REORGANIZE PARTITION {FUTURE} INTO ({partition_clause(days)})"
    )
    return [partition_name(d) for d in days]


def prepare_since(conn: Connection, since: int) -> list[str]:
    """Give every day from ``since`` on its own partition, splitting the first partition
    (it holds everything older than its bound). For loading history into a young table:
    the first partition's rows are copied, so this is cheap only while it is small."""
    existing = [p for p in partitions(conn) if p.bound is not None]
    if not existing:
        return []
    head = existing[0]
    days = list(range(day_start(since), head.bound - DAY_S, DAY_S))
    if not days:
        return []
    clause = ", ".join(
        [f"PARTITION {partition_name(d)} VALUES LESS THAN ({d + DAY_S})" for d in days]
        + [f"PARTITION {partition_name(head.bound - DAY_S)} VALUES LESS THAN ({head.bound})"]
    )
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} REORGANIZE PARTITION {head.name} INTO ({clause})")
    return [partition_name(d) for d in days]


def drop_before(conn: Connection, cutoff: int) -> tuple[list[str], int | None]:
    """Drop the partitions whose every row is older than ``cutoff`` (their bound is at or
    before it), always keeping at least one day partition. Returns the names dropped and the
    new raw horizon (the last dropped bound), or ``None`` when nothing was dropped."""
    bounded = [p for p in partitions(conn) if p.bound is not None]
    expired = [p for p in bounded[:-1] if p.bound <= cutoff]
    if not expired:
        return [], None
    names = ",".join(p.name for p in expired)
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} DROP PARTITION {names}")
    return [p.name for p in expired], expired[-1].bound
