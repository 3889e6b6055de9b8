"""Daily RANGE partitions of ``telemetry`` on MySQL/MariaDB.

Partition ``pYYYYMMDD`` holds the day it is named for (``VALUES LESS THAN`` the next
midnight, UTC); the first partition also holds anything older, and ``pfuture``
(``MAXVALUE``) catches samples beyond the days prepared ahead, so no insert ever fails for
want of a partition. Housekeeping splits days off ``pfuture`` ahead of time (cheap while it
is empty) and drops whole partitions once they are expired: no row-by-row deletes, and the
table is locked for milliseconds however many rows the day holds (see ``drop_before``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from argos_core.pass_pace import PassPace

DAY_S = 86400
FUTURE = "pfuture"
TABLE = "telemetry"
# The empty table an expired partition is swapped with, and its rows then truncated in.
SWAPPED_OUT = "telemetry_expired"
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
    """Let DDL on the connection wait only ``seconds`` for a table's metadata lock or InnoDB
    table lock: while it waits, every later statement on the table (the writer's inserts)
    queues behind it, for as long as a transaction that read the table stays open (MariaDB's
    default ``lock_wait_timeout`` is a day, ``innodb_lock_wait_timeout`` 50 s). It fails
    with 1205 instead, and a later pass tries again."""
    if not is_mysql(conn):
        yield
        return
    waits = ("lock_wait_timeout", "innodb_lock_wait_timeout")
    conn.exec_driver_sql("SET SESSION " + ", ".join(f"{w} = {int(seconds)}" for w in waits))
    try:
        yield
    finally:
        conn.exec_driver_sql("SET SESSION " + ", ".join(f"{w} = DEFAULT" for w in waits))


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


def drop_before(
    engine: Engine, cutoff: int, pace: PassPace | None = None
) -> tuple[list[str], int | None]:
    """Drop the partitions whose every row is older than ``cutoff`` (their bound is at or
    before it), always keeping at least one day partition. Returns the names dropped and the
    new raw horizon (the last dropped bound), or ``None`` when nothing was dropped.

    ``ALTER TABLE ... DROP PARTITION`` of a full day holds the table's metadata lock, and so
    the writer's inserts, for as long as deleting the day's file takes (about 130 ms for
    400,000 rows here, two days in one ALTER twice that). So each expired partition is first
    traded for an empty table of the same shape (``EXCHANGE PARTITION``, a swap of files:
    milliseconds), its rows then truncated there (locking only that table; ``pace`` after
    each), and the emptied partitions dropped in one ALTER. The empty table is made once per
    call (its cost grows with the number of partitions: 0.4 s for 370) and dropped at the
    end; one left by a pass that stopped half-way is dropped by the next, its rows with it.

    The DDL runs in autocommit mode: with autocommit off, MariaDB 10.11's EXCHANGE waits on
    the table lock its own check of the empty table took, until ``innodb_lock_wait_timeout``.
    """
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        with short_metadata_waits(conn):
            return _swap_out_and_drop(conn, cutoff, pace)


def _swap_out_and_drop(
    conn: Connection, cutoff: int, pace: PassPace | None
) -> tuple[list[str], int | None]:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {SWAPPED_OUT}")
    bounded = [p for p in partitions(conn) if p.bound is not None]
    expired = [p for p in bounded[:-1] if p.bound <= cutoff]
    if not expired:
        return [], None
    conn.exec_driver_sql(f"CREATE TABLE {SWAPPED_OUT} LIKE {TABLE}")
    conn.exec_driver_sql(f"ALTER TABLE {SWAPPED_OUT} REMOVE PARTITIONING")
    for p in expired:
        conn.exec_driver_sql(
            f"ALTER TABLE {TABLE} EXCHANGE PARTITION {p.name} WITH TABLE {SWAPPED_OUT}"
        )
        conn.exec_driver_sql(f"TRUNCATE TABLE {SWAPPED_OUT}")
        if pace is not None:
            pace()
    conn.exec_driver_sql(f"DROP TABLE {SWAPPED_OUT}")
    names = ",".join(p.name for p in expired)
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} DROP PARTITION {names}")
    return [p.name for p in expired], expired[-1].bound
