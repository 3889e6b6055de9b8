"""telemetry tiers: daily partitions, hourly rollups, late hours, marks, job leases

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 13:45:00

On MySQL/MariaDB the existing ``telemetry`` table loses its foreign key (partitioned InnoDB
tables cannot have one), is page-compressed and RANGE-partitioned by day on ``ts``: one
partition per day from the oldest sample (at most 31 days back; older rows share the first
partition) to three days ahead, and ``pfuture`` for anything later. This copies the table
once. SQLite only drops the foreign key.
"""

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import argos_core.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DAY_S = 86400
BACK_DAYS = 31
AHEAD_DAYS = 3
MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}
ROLLUP_COLUMNS = [
    f"{metric}_{stat}"
    for metric in (
        "cpu_percent",
        "mem_percent",
        "disk_percent",
        "load_1m",
        "net_rx_rate",
        "net_tx_rate",
    )
    for stat in ("min", "avg", "max")
]


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def _partition_clause(first_day: int, last_day: int) -> str:
    parts = [
        f"PARTITION p{datetime.fromtimestamp(d, UTC):%Y%m%d} VALUES LESS THAN ({d + DAY_S})"
        for d in range(first_day, last_day + 1, DAY_S)
    ]
    parts.append("PARTITION pfuture VALUES LESS THAN MAXVALUE")
    return ", ".join(parts)


def upgrade() -> None:
    op.create_table(
        "telemetry_hourly",
        sa.Column("agent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Float(), nullable=True) for name in ROLLUP_COLUMNS],
        sa.PrimaryKeyConstraint("agent_id", "hour", name=op.f("pk_telemetry_hourly")),
        mysql_page_compressed="1",
        **MYSQL_TABLE,
    )
    op.create_table(
        "telemetry_late_hours",
        sa.Column("agent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "hour", name=op.f("pk_telemetry_late_hours")),
        **MYSQL_TABLE,
    )
    op.create_table(
        "telemetry_marks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_telemetry_marks")),
        **MYSQL_TABLE,
    )
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("until", argos_core.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_jobs")),
        **MYSQL_TABLE,
    )
    with op.batch_alter_table("telemetry") as batch:
        batch.drop_constraint("fk_telemetry_agent_id_agents", type_="foreignkey")
    if _is_mysql():
        today = int(time.time()) // DAY_S * DAY_S
        oldest = op.get_bind().scalar(sa.text("SELECT MIN(ts) FROM telemetry"))
        first = today
        if oldest is not None:
            first = min(today, max(today - BACK_DAYS * DAY_S, int(oldest) // DAY_S * DAY_S))
        op.execute(
            "ALTER TABLE telemetry PAGE_COMPRESSED=1 PARTITION BY RANGE (ts) ("
            + _partition_clause(first, today + AHEAD_DAYS * DAY_S)
            + ")"
        )


def downgrade() -> None:
    if _is_mysql():
        op.execute("ALTER TABLE telemetry REMOVE PARTITIONING")
        op.execute("ALTER TABLE telemetry PAGE_COMPRESSED=0")
    with op.batch_alter_table("telemetry") as batch:
        batch.create_foreign_key(
            "fk_telemetry_agent_id_agents", "agents", ["agent_id"], ["id"], ondelete="CASCADE"
        )
    op.drop_table("jobs")
    op.drop_table("telemetry_marks")
    op.drop_table("telemetry_late_hours")
    op.drop_table("telemetry_hourly")
