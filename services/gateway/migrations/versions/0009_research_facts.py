"""research facts: one row per meeting, survey, and coded meeting x coder x type, dated by
the meeting's day in Europe/Helsinki, kept batch by batch (replacing the per-region view
summaries); activities.recorded_at decides a meeting's first coder; marked for a one-time
rebuild from the read model on the gateway's next start

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

ID = sa.String(length=36)


def upgrade() -> None:
    op.drop_table("view_retention")
    op.drop_table("view_region_summary")
    with op.batch_alter_table("view_region_months", schema=None) as batch_op:
        batch_op.drop_index("ix_view_region_months_month")

    op.drop_table("view_region_months")
    op.drop_table("view_initiative_status")
    with op.batch_alter_table("view_host_rotation", schema=None) as batch_op:
        batch_op.drop_index("ix_view_host_rotation_region_group")

    op.drop_table("view_host_rotation")
    with op.batch_alter_table("view_group_months", schema=None) as batch_op:
        batch_op.drop_index("ix_view_group_months_region_group")

    op.drop_table("view_group_months")
    with op.batch_alter_table("view_group_health", schema=None) as batch_op:
        batch_op.drop_index("ix_view_group_health_region_group")

    op.drop_table("view_group_health")
    with op.batch_alter_table("view_feedback_months", schema=None) as batch_op:
        batch_op.drop_index("ix_view_feedback_months_month")

    op.drop_table("view_feedback_months")
    with op.batch_alter_table("view_cop_cells", schema=None) as batch_op:
        batch_op.drop_index("ix_view_cop_cells_type_year")

    op.drop_table("view_cop_cells")
    op.drop_table("view_coding")

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE activities SET recorded_at = meeting_starts_at")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.alter_column(
            "recorded_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    op.create_table(
        "fact_meetings",
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("day_number", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("host_member_id", ID, nullable=True),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id"),
    )
    with op.batch_alter_table("fact_meetings", schema=None) as batch_op:
        batch_op.create_index("ix_fact_meetings_day", ["day", "group_id"], unique=False)
        batch_op.create_index("ix_fact_meetings_region_day", ["region", "day"], unique=False)
        batch_op.create_index("ix_fact_meetings_group_day", ["group_id", "day"], unique=False)

    op.create_table(
        "fact_surveys",
        sa.Column("survey_id", ID, nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("overall_sum", sa.Integer(), nullable=False),
        sa.Column("usefulness_sum", sa.Integer(), nullable=False),
        sa.Column("recommend_sum", sa.Integer(), nullable=False),
        sa.Column("promoters", sa.Integer(), nullable=False),
        sa.Column("detractors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("survey_id"),
    )
    with op.batch_alter_table("fact_surveys", schema=None) as batch_op:
        batch_op.create_index("ix_fact_surveys_day", ["day"], unique=False)
        batch_op.create_index("ix_fact_surveys_region_day", ["region", "day"], unique=False)
        batch_op.create_index("ix_fact_surveys_group_day", ["group_id", "day"], unique=False)
        batch_op.create_index("ix_fact_surveys_meeting", ["meeting_id"], unique=False)

    op.create_table(
        "fact_cop",
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("coder", sa.String(length=40), nullable=False),
        sa.Column("activity_type", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("activities", sa.Integer(), nullable=False),
        sa.Column("example", sa.String(length=2000), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", "coder", "activity_type"),
    )
    with op.batch_alter_table("fact_cop", schema=None) as batch_op:
        batch_op.create_index("ix_fact_cop_type_day", ["activity_type", "day"], unique=False)
        batch_op.create_index("ix_fact_cop_region_day", ["region", "day"], unique=False)
        batch_op.create_index("ix_fact_cop_group_day", ["group_id", "day"], unique=False)

    op.create_table(
        "fact_coding",
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("coder_a", ID, nullable=False),
        sa.Column("coder_b", ID, nullable=False),
        sa.Column("activity_type", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("both", sa.Integer(), nullable=False),
        sa.Column("a_only", sa.Integer(), nullable=False),
        sa.Column("b_only", sa.Integer(), nullable=False),
        sa.Column("neither", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", "coder_a", "coder_b", "activity_type"),
    )
    with op.batch_alter_table("fact_coding", schema=None) as batch_op:
        batch_op.create_index("ix_fact_coding_pair", ["coder_a", "coder_b"], unique=False)
        batch_op.create_index("ix_fact_coding_region_day", ["region", "day"], unique=False)

    op.execute("UPDATE view_state SET needs_rebuild = true WHERE name = 'research'")


def downgrade() -> None:
    for table in ("fact_coding", "fact_cop", "fact_surveys", "fact_meetings"):
        op.drop_table(table)
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("recorded_at")
    op.create_table(
        "view_coding",
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("coder_a", sa.String(length=36), nullable=False),
        sa.Column("coder_b", sa.String(length=36), nullable=False),
        sa.Column("activity_type", sa.String(length=40), nullable=False),
        sa.Column("both", sa.Integer(), nullable=False),
        sa.Column("a_only", sa.Integer(), nullable=False),
        sa.Column("b_only", sa.Integer(), nullable=False),
        sa.Column("neither", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region", "coder_a", "coder_b", "activity_type"),
    )
    op.create_table(
        "view_cop_cells",
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("activity_type", sa.String(length=40), nullable=False),
        sa.Column("activities", sa.Integer(), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.Column("example", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("region", "year", "activity_type"),
    )
    with op.batch_alter_table("view_cop_cells", schema=None) as batch_op:
        batch_op.create_index(
            "ix_view_cop_cells_type_year", ["activity_type", "year", "region"], unique=False
        )

    op.create_table(
        "view_feedback_months",
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("surveys", sa.Integer(), nullable=False),
        sa.Column("surveys_withheld", sa.Integer(), nullable=False),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("overall_sum", sa.Integer(), nullable=False),
        sa.Column("usefulness_sum", sa.Integer(), nullable=False),
        sa.Column("recommend_sum", sa.Integer(), nullable=False),
        sa.Column("promoters", sa.Integer(), nullable=False),
        sa.Column("detractors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region", "month"),
    )
    with op.batch_alter_table("view_feedback_months", schema=None) as batch_op:
        batch_op.create_index("ix_view_feedback_months_month", ["month"], unique=False)

    op.create_table(
        "view_group_health",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("members_active", sa.Integer(), nullable=False),
        sa.Column("members_ever", sa.Integer(), nullable=False),
        sa.Column("members_left", sa.Integer(), nullable=False),
        sa.Column("meetings_held", sa.Integer(), nullable=False),
        sa.Column("last_meeting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("longest_streak", sa.Integer(), nullable=False),
        sa.Column("mean_current_streak", sa.Float(), nullable=True),
        sa.Column("active_hosted", sa.Integer(), nullable=False),
        sa.Column("feedback_recent", sa.Float(), nullable=True),
        sa.Column("feedback_previous", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("group_id"),
    )
    with op.batch_alter_table("view_group_health", schema=None) as batch_op:
        batch_op.create_index(
            "ix_view_group_health_region_group", ["region", "group_id"], unique=False
        )

    op.create_table(
        "view_group_months",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("meetings_held", sa.Integer(), nullable=False),
        sa.Column("meetings_cancelled", sa.Integer(), nullable=False),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "month"),
    )
    with op.batch_alter_table("view_group_months", schema=None) as batch_op:
        batch_op.create_index(
            "ix_view_group_months_region_group", ["region", "group_id"], unique=False
        )

    op.create_table(
        "view_host_rotation",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("meetings_hosted", sa.Integer(), nullable=False),
        sa.Column("distinct_hosts", sa.Integer(), nullable=False),
        sa.Column("repeat_hostings", sa.Integer(), nullable=False),
        sa.Column("mean_days_between", sa.Float(), nullable=True),
        sa.Column("min_days_between", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("group_id"),
    )
    with op.batch_alter_table("view_host_rotation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_view_host_rotation_region_group", ["region", "group_id"], unique=False
        )

    op.create_table(
        "view_initiative_status",
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("initiatives", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("joinings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region", "status"),
    )
    op.create_table(
        "view_region_months",
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("groups_meeting", sa.Integer(), nullable=False),
        sa.Column("meetings_held", sa.Integer(), nullable=False),
        sa.Column("meetings_cancelled", sa.Integer(), nullable=False),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region", "month"),
    )
    with op.batch_alter_table("view_region_months", schema=None) as batch_op:
        batch_op.create_index("ix_view_region_months_month", ["month"], unique=False)

    op.create_table(
        "view_region_summary",
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.Column("members_active", sa.Integer(), nullable=False),
        sa.Column("meetings_held", sa.Integer(), nullable=False),
        sa.Column("last_meeting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("activities", sa.Integer(), nullable=False),
        sa.Column("initiatives", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region"),
    )
    op.create_table(
        "view_retention",
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("members_start", sa.Integer(), nullable=False),
        sa.Column("joined", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.Column("retained", sa.Integer(), nullable=False),
        sa.Column("members_end", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region", "year"),
    )
    op.execute("UPDATE view_state SET needs_rebuild = true WHERE name = 'research'")
