"""the panel: per-region secrets and the person keys of interviews (HMAC-SHA256)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:41:38.479997
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "panel_persons",
        sa.Column("interview_id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("interview_id"),
    )
    with op.batch_alter_table("panel_persons", schema=None) as batch_op:
        batch_op.create_index("ix_panel_persons_key", ["region", "person_key"], unique=False)

    op.create_table(
        "panel_secrets",
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region"),
    )


def downgrade() -> None:
    op.drop_table("panel_secrets")
    with op.batch_alter_table("panel_persons", schema=None) as batch_op:
        batch_op.drop_index("ix_panel_persons_key")

    op.drop_table("panel_persons")
