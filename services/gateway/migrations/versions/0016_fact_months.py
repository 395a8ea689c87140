"""fact_months: the research facts summed per scope and month; the facts are rebuilt once
at the gateway's next start (which fills it)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None

SUMS = (
    "held",
    "cancelled",
    "attendees",
    "expected",
    "groups_meeting",
    "closed",
    "counted",
    "invited",
    "responses",
    "overall_sum",
    "usefulness_sum",
    "recommend_sum",
    "promoters",
    "detractors",
    "activities",
)


def upgrade() -> None:
    op.create_table(
        "fact_months",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in SUMS),
        sa.PrimaryKeyConstraint("scope", "month"),
    )
    op.execute("UPDATE view_state SET needs_rebuild = true WHERE name = 'research'")


def downgrade() -> None:
    op.drop_table("fact_months")
