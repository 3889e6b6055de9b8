"""agents.token_epoch, re_enrolled_at, re_enrolled_from: re-enrolling a host invalidates
the tokens issued to it before, and the console shows when and from where it happened

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 17:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import argos_core.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("token_epoch", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("re_enrolled_at", argos_core.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("re_enrolled_from", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("re_enrolled_from")
        batch_op.drop_column("re_enrolled_at")
        batch_op.drop_column("token_epoch")
