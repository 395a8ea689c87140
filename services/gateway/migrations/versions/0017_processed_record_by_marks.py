"""processed events recorded by their marks (with when a mark moved); on SQLite the small
natural-key tables stored by primary key (WITHOUT ROWID)

An event the marks cover gets no processed_events row any more (shared.messaging.inbox);
processed_marks.applied_at says when an aggregate's mark last moved. WITHOUT ROWID: one
B-tree fewer per row written and per lookup by key (shared.storage.rowid; nothing changes on
PostgreSQL). Measured with bench/project_cost.py (bench/README.md).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.storage.rowid import store_by_primary_key, store_by_rowid

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = (
    "processed_events",
    "processed_marks",
    "attendance",
    "rsvps",
    "facilitators",
    "membership_changes",
    "activity_members",
    "initiative_members",
    "initiative_updates",
    "fact_cop",
    "fact_coding",
)


def upgrade() -> None:
    with op.batch_alter_table("processed_marks") as batch_op:
        batch_op.add_column(sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
    store_by_primary_key(op.get_bind(), TABLES)


def downgrade() -> None:
    store_by_rowid(op.get_bind(), TABLES)
    with op.batch_alter_table("processed_marks") as batch_op:
        batch_op.drop_column("applied_at")
