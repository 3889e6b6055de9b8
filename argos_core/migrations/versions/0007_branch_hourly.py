"""telemetry_branch_hourly (the node tier: hourly rows per branch) and
telemetry_stale_branches, filled from the agents' hourly rows already stored

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 19:40:00

The backfill is one statement per branch: its agents' whole hourly history grouped by hour
(each agent's rows are a primary-key range).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}
METRICS = ("cpu_percent", "mem_percent", "disk_percent", "load_1m", "net_rx_rate", "net_tx_rate")


def _columns() -> list[sa.Column]:
    columns = []
    for m in METRICS:
        columns += [
            sa.Column(f"{m}_min", sa.Float(), nullable=True),
            sa.Column(f"{m}_sum", sa.Double(), nullable=False),
            sa.Column(f"{m}_n", sa.Integer(), nullable=False),
            sa.Column(f"{m}_max", sa.Float(), nullable=True),
        ]
    return columns


def _backfill() -> None:
    names = ["branch_id", "hour", "agents"]
    sources = ["a.branch_id", "h.hour", "COUNT(*)"]
    for m in METRICS:
        names += [f"{m}_min", f"{m}_sum", f"{m}_n", f"{m}_max"]
        sources += [
            f"MIN(h.{m}_min)",
            f"COALESCE(SUM(h.{m}_avg * 1e0), 0)",
            f"COUNT(h.{m}_avg)",
            f"MAX(h.{m}_max)",
        ]
    bind = op.get_bind()
    insert = sa.text(
        f"INSERT INTO telemetry_branch_hourly ({', '.join(names)})"
        f" SELECT {', '.join(sources)} FROM agents a"
        " JOIN telemetry_hourly h ON h.agent_id = a.id"
        " WHERE a.branch_id = :branch GROUP BY a.branch_id, h.hour"
    )
    for branch_id in bind.scalars(sa.text("SELECT id FROM branches ORDER BY id")).all():
        bind.execute(insert, {"branch": branch_id})


def upgrade() -> None:
    op.create_table(
        "telemetry_branch_hourly",
        sa.Column("branch_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("agents", sa.Integer(), nullable=False),
        *_columns(),
        sa.PrimaryKeyConstraint("branch_id", "hour", name=op.f("pk_telemetry_branch_hourly")),
        **MYSQL_TABLE,
    )
    op.create_table(
        "telemetry_stale_branches",
        sa.Column("branch_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=False),
        sa.Column("until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_telemetry_stale_branches")),
        **MYSQL_TABLE,
    )
    _backfill()


def downgrade() -> None:
    op.drop_table("telemetry_stale_branches")
    op.drop_table("telemetry_branch_hourly")
