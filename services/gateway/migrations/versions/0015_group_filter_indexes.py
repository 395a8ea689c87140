"""indexes for the research views' group filter: activities and memos pages, coding agreement

A group's activities or memos (a page in the listing's order) and a group's coding
agreement read an index range instead of walking the whole listing (bench/research_views.py).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 19:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(
        "ix_activities_group_starts_at",
        "activities",
        ["group_id", "meeting_starts_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_memos_group_published_at",
        "memos",
        ["group_id", "published_at", "meeting_id"],
        unique=False,
    )
    op.create_index("ix_fact_coding_group_day", "fact_coding", ["group_id", "day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_fact_coding_group_day", table_name="fact_coding")
    op.drop_index("ix_memos_group_published_at", table_name="memos")
    op.drop_index("ix_activities_group_starts_at", table_name="activities")
