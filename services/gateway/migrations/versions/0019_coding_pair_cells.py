"""coding agreement's pairs as a covering index: a page of pairs reads only its pairs' rows

``codingAgreement`` sums ``fact_coding`` per (coder pair, type) and pages by pair: with
every summed column in an index ordered by (coder_a, coder_b, activity_type), the grouping
streams in the page's order and stops after the page (and a period is filtered in the
index), instead of summing every pair of the nation before the first row
(bench/research_views.py). It replaces ``ix_fact_coding_pair`` (its prefix).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 00:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | None = None
depends_on: str | None = None

CELLS = ["coder_a", "coder_b", "activity_type", "day", "both", "a_only", "b_only", "neither"]


def upgrade() -> None:
    op.create_index("ix_fact_coding_pair_cells", "fact_coding", CELLS, unique=False)
    op.drop_index("ix_fact_coding_pair", table_name="fact_coding")


def downgrade() -> None:
    op.create_index("ix_fact_coding_pair", "fact_coding", ["coder_a", "coder_b"], unique=False)
    op.drop_index("ix_fact_coding_pair_cells", table_name="fact_coding")
