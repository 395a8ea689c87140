"""indexes for a region's panel interviews and initiatives by start day

``panelInterviews(region:)`` pages a region's interviews by (day, id): with
``interviews (region, interviewed_on, id)`` a page is an index range of its region instead
of a walk of the national order past every other region's interviews.
``initiativeStatuses`` over a period reads the initiatives started in it:
``initiatives (started_on, status)`` makes that an index range, not a scan of every
initiative (bench/research_views.py).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 01:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(
        "ix_interviews_region_on_id",
        "interviews",
        ["region", "interviewed_on", "id"],
        unique=False,
    )
    op.create_index(
        "ix_initiatives_started_on", "initiatives", ["started_on", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_initiatives_started_on", table_name="initiatives")
    op.drop_index("ix_interviews_region_on_id", table_name="interviews")
