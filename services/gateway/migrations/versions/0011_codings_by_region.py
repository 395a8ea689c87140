"""codings found by codebook, region and group (Table 1 and agreement of one region or group)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 13:14:19.736219
"""

from __future__ import annotations

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("codings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_codings_codebook_region",
            ["codebook_id", "region", "group_id", "coder_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("codings", schema=None) as batch_op:
        batch_op.drop_index("ix_codings_codebook_region")
