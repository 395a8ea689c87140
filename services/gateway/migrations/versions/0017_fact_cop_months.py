"""fact_cop_months: the counted CoP facts summed per scope, type and month (with each
group's previous month of the type, for distinct groups); the facts are rebuilt once at the
gateway's next start (which fills it)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "fact_cop_months",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("activity_type", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("since", sa.String(length=7), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("activities", sa.Integer(), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "activity_type", "month", "since"),
    )
    op.execute("UPDATE view_state SET needs_rebuild = true WHERE name = 'research'")


def downgrade() -> None:
    op.drop_table("fact_cop_months")
