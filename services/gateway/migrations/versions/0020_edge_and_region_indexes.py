"""indexes for the research views' partial months and a region's group months

``fact_cop (day, counted)``: a period's partial first and last months read the counted CoP
facts of their days; without it a national or yearly query scanned every CoP fact
(bench/research_views_cpu.py). ``fact_months (region, scope, month)``: a region's page of
group months walked every group's rows in key order to find the region's.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 01:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_fact_cop_day", "fact_cop", ["day", "counted"], unique=False)
    op.create_index(
        "ix_fact_months_region_scope", "fact_months", ["region", "scope", "month"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_fact_months_region_scope", table_name="fact_months")
    op.drop_index("ix_fact_cop_day", table_name="fact_cop")
