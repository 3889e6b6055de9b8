"""What the telemetry tiers hold: rows, time spans, partitions and bytes on disk.

The ``as_json`` keys are PROTOCOL.md's (``argos-admin telemetry stats --json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, func, select, text

from argos_core import partitions, rollups
from argos_core.models import Telemetry, TelemetryHourly

TABLES = (
    "telemetry",
    "telemetry_hourly",
    "telemetry_branch_hourly",
    "telemetry_daily",
    "telemetry_late_hours",
)


@dataclass(frozen=True)
class TelemetryStats:
    raw_rows: int
    rollup_rows: int
    oldest_raw_ts: int | None
    newest_raw_ts: int | None
    oldest_rollup_ts: int | None
    newest_rollup_ts: int | None
    rolled_until: int | None
    raw_horizon: int | None
    partitions: list[partitions.Partition] = field(default_factory=list)
    bytes: int = 0
    raw_rows_estimated: bool = False

    def as_json(self) -> dict:
        return {
            "raw_rows": self.raw_rows,
            "rollup_rows": self.rollup_rows,
            "oldest_raw_ts": self.oldest_raw_ts,
            "newest_raw_ts": self.newest_raw_ts,
            "oldest_rollup_ts": self.oldest_rollup_ts,
            "partitions": [
                {"name": p.name, "until_ts": p.bound, "rows": p.rows} for p in self.partitions
            ],
            "bytes": self.bytes,
        }


def telemetry_stats(engine: Engine) -> TelemetryStats:
    """Counts are exact on SQLite; on MySQL the raw row count is the partitions' estimate
    (an exact ``COUNT(*)`` reads every row of every day)."""
    with engine.connect() as conn:
        parts = partitions.partitions(conn)
        if parts:
            conn.exec_driver_sql("ANALYZE TABLE telemetry")
            parts = partitions.partitions(conn)
            raw_rows = sum(p.rows for p in parts)
        else:
            raw_rows = conn.scalar(select(func.count()).select_from(Telemetry))
        oldest_raw, newest_raw = _span(conn, "telemetry", "ts")
        oldest_rollup, newest_rollup = _span(conn, "telemetry_hourly", "hour")
        return TelemetryStats(
            raw_rows=int(raw_rows or 0),
            rollup_rows=int(conn.scalar(select(func.count()).select_from(TelemetryHourly)) or 0),
            oldest_raw_ts=oldest_raw,
            newest_raw_ts=newest_raw,
            oldest_rollup_ts=oldest_rollup,
            newest_rollup_ts=newest_rollup,
            rolled_until=rollups.get_mark(conn, rollups.ROLLED_UNTIL),
            raw_horizon=rollups.get_mark(conn, rollups.RAW_HORIZON),
            partitions=parts,
            bytes=disk_bytes(conn),
            raw_rows_estimated=bool(parts),
        )


def _span(conn: Connection, table: str, column: str) -> tuple[int | None, int | None]:
    """Oldest and newest time of any agent, one index dive per agent (the time column does
    not lead the primary key, so a plain ``MIN`` would read the whole table)."""
    row = conn.execute(
        text(
            f"SELECT MIN((SELECT MIN(t.{column}) FROM {table} t WHERE t.agent_id = a.id)),"
            f" MAX((SELECT MAX(t.{column}) FROM {table} t WHERE t.agent_id = a.id))"
            " FROM agents a"
        )
    ).one()
    return (
        None if row[0] is None else int(row[0]),
        None if row[1] is None else int(row[1]),
    )


def disk_bytes(conn: Connection, tables: tuple[str, ...] = TABLES) -> int:
    """Bytes the telemetry tables take on disk: InnoDB tablespace files as allocated (page
    compression punches holes, so this is less than the file sizes), SQLite pages."""
    if partitions.is_mysql(conn):
        patterns = " OR ".join(["name = %s OR name LIKE %s"] * len(tables))
        params: list[str] = []
        schema = conn.exec_driver_sql("SELECT DATABASE()").scalar()
        for table in tables:
            params += [f"{schema}/{table}", f"{schema}/{table}#P#%"]
        return int(
            conn.exec_driver_sql(
                "SELECT COALESCE(SUM(allocated_size), 0)"
                f" FROM information_schema.innodb_sys_tablespaces WHERE {patterns}",
                tuple(params),
            ).scalar()
        )
    names = list(tables) + [f"sqlite_autoindex_{t}_1" for t in tables]
    listed = ", ".join(f"'{n}'" for n in names)
    return int(
        conn.exec_driver_sql(
            f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({listed})"
        ).scalar()
    )
