"""interviews.keyed_in_region: whether the nation holds the region's panel key of the
interview (recorded as InterviewRecorded version 2) or the gateway's (version 1, recorded
before 0004). Rows already here were recorded as version 1: false, so the service sends
their key once (InterviewRekeyed) and every person has one key in the panel.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("keyed_in_region", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_column("keyed_in_region")
