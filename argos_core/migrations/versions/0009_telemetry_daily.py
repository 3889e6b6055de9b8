"""telemetry_daily: per agent and closed day, what ranking agents sums (per ranked metric
the sample-weighted sum of hourly averages, its weight, the highest maximum)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 20:10:00

Existing data: housekeeping fills the table from the stored hourly rows (from the oldest
one, a day per transaction) on its next passes; until a day is in it, rankings read that
day's hourly rows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MYSQL_TABLE = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    columns = []
    for m in ("cpu_percent", "mem_percent", "disk_percent"):
        columns += [
            sa.Column(f"{m}_wsum", sa.Double(), nullable=False),
            sa.Column(f"{m}_weight", sa.BigInteger(), nullable=False),
            sa.Column(f"{m}_max", sa.Float(), nullable=True),
        ]
    op.create_table(
        "telemetry_daily",
        sa.Column("agent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.BigInteger(), autoincrement=False, nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("agent_id", "day", name=op.f("pk_telemetry_daily")),
        **MYSQL_TABLE,
    )


def downgrade() -> None:
    op.drop_table("telemetry_daily")
