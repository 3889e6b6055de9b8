"""telemetry.ts as INT UNSIGNED on MySQL/MariaDB (4 bytes instead of 8 in every raw row and
its primary key: about 2 bytes per sample on disk after page compression)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 20:00:00

The ALTER copies the table (partitions kept). Strict mode refuses it if a stored ``ts`` is
negative or beyond 2106, which ingest never accepts. SQLite integers are variable length:
nothing to do there.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if _is_mysql():
        op.execute("ALTER TABLE telemetry MODIFY ts INT UNSIGNED NOT NULL")


def downgrade() -> None:
    if _is_mysql():
        op.execute("ALTER TABLE telemetry MODIFY ts BIGINT NOT NULL")
