"""processed events recorded by their marks: when a mark moved (processed_marks.applied_at)

An event the marks cover gets no processed_events row any more (shared.messaging.inbox);
processed_marks.applied_at says when an aggregate's mark last moved.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_marks") as batch_op:
        batch_op.add_column(sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_marks") as batch_op:
        batch_op.drop_column("applied_at")
