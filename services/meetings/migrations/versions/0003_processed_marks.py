"""processed events: per-aggregate marks (processed_marks), aggregate and sequence on
processed_events, so the record of processed events can be pruned

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 12:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "processed_marks",
        sa.Column("aggregate_id", sa.String(length=36), nullable=False),
        sa.Column("upto", sa.BigInteger(), nullable=False),
        sa.Column("ahead", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("aggregate_id"),
    )
    with op.batch_alter_table("processed_events") as batch_op:
        batch_op.add_column(sa.Column("aggregate_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_processed_events_aggregate", ["aggregate_id", "sequence"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("processed_events") as batch_op:
        batch_op.drop_index("ix_processed_events_aggregate")
        batch_op.drop_column("sequence")
        batch_op.drop_column("aggregate_id")
    op.drop_table("processed_marks")
