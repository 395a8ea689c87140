"""workspace_facts: Table 1 and agreement from facts kept per meeting (fact_marks,
fact_coded, fact_mark_totals, fact_agree_days, fact_agree_coders); the facts are rebuilt
once at the gateway's next start

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.String(length=36)


def upgrade() -> None:
    op.create_table(
        "fact_marks",
        sa.Column("codebook_id", ID, nullable=False),
        sa.Column("coder", sa.String(length=40), nullable=False),
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marks", sa.Integer(), nullable=False),
        sa.Column("featured", sa.Integer(), nullable=False),
        sa.Column("example", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("codebook_id", "coder", "meeting_id", "code"),
    )
    unit = ["codebook_id", "coder"]
    op.create_index("ix_fact_marks_day", "fact_marks", [*unit, "day", "code", "group_id", "marks"])
    op.create_index("ix_fact_marks_region_day", "fact_marks", [*unit, "region", "day"])
    op.create_index("ix_fact_marks_group_day", "fact_marks", [*unit, "group_id", "day"])
    op.create_index(
        "ix_fact_marks_examples",
        "fact_marks",
        [*unit, "code", "featured", "starts_at", "meeting_id"],
    )
    op.create_index(
        "ix_fact_marks_region_examples",
        "fact_marks",
        [*unit, "region", "code", "featured", "starts_at", "meeting_id"],
    )
    op.create_index("ix_fact_marks_meeting", "fact_marks", ["meeting_id"])
    op.create_table(
        "fact_coded",
        sa.Column("codebook_id", ID, nullable=False),
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("coder", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("codebook_id", "meeting_id", "coder"),
    )
    op.create_index("ix_fact_coded_meeting", "fact_coded", ["meeting_id"])
    op.create_table(
        "fact_mark_totals",
        sa.Column("codebook_id", ID, nullable=False),
        sa.Column("coder", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("marks", sa.Integer(), nullable=False),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("codebook_id", "coder", "scope", "code"),
    )
    op.create_table(
        "fact_agree_days",
        sa.Column("codebook_id", ID, nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("m", sa.Integer(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("first", sa.Integer(), nullable=False),
        sa.Column("second", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("codebook_id", "scope", "day", "code", "m", "k"),
    )
    op.create_table(
        "fact_agree_coders",
        sa.Column("codebook_id", ID, nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("coder", sa.String(length=40), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("codebook_id", "scope", "day", "coder"),
    )
    op.execute("UPDATE view_state SET needs_rebuild = true WHERE name = 'research'")


def downgrade() -> None:
    for table in (
        "fact_agree_coders",
        "fact_agree_days",
        "fact_mark_totals",
        "fact_coded",
        "fact_marks",
    ):
        op.drop_table(table)
