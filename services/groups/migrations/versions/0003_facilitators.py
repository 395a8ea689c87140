"""facilitators of core groups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:36:00.000000
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
        "facilitators",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("facilitator_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["core_groups.id"]),
        sa.PrimaryKeyConstraint("group_id", "facilitator_id"),
    )
    with op.batch_alter_table("facilitators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_facilitators_email"), ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("facilitators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facilitators_email"))
    op.drop_table("facilitators")
