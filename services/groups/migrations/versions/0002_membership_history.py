"""membership lifecycle: members.paused_on and membership_history (backfilled)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:35:05.122684
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_on", sa.Date(), nullable=True))

    op.create_table(
        "membership_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("membership_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_history_member_id"), ["member_id"], unique=False
        )

    # The history of memberships recorded before it was kept: their joining and leaving.
    op.execute(
        "INSERT INTO membership_history (member_id, kind, on_date, reason) "
        "SELECT id, 'joined', joined_on, '' FROM members ORDER BY joined_on, id"
    )
    op.execute(
        "INSERT INTO membership_history (member_id, kind, on_date, reason) "
        "SELECT id, 'left', left_on, leave_reason FROM members WHERE left_on IS NOT NULL "
        "ORDER BY left_on, id"
    )


def downgrade() -> None:
    with op.batch_alter_table("membership_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_history_member_id"))
    op.drop_table("membership_history")
    # paused members become active members again (the pause is not representable)
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("paused_on")
