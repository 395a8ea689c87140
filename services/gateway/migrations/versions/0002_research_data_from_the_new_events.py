"""research data from the new events: facilitators, member status and history, meeting
timing/status versions and recording, RSVPs, memos, action items, CoP activities,
initiatives and their history, surveys, responses (scores only), interviews

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:50:49.400529
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "action_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=True),
        sa.Column("owner_member_id", sa.String(length=36), nullable=True),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("agreed_version", sa.Integer(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=1000), nullable=True),
        sa.Column("closed_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.create_index("ix_action_items_meeting_id", ["meeting_id", "id"], unique=False)

    op.create_table(
        "activities",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("activity_type", sa.String(length=40), nullable=False),
        sa.Column("example", sa.String(length=2000), nullable=False),
        sa.Column("coder_id", sa.String(length=36), nullable=True),
        sa.Column("meeting_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index("ix_activities_meeting_id", ["meeting_id"], unique=False)
        batch_op.create_index(
            "ix_activities_region_starts_at", ["region", "meeting_starts_at"], unique=False
        )
        batch_op.create_index(
            "ix_activities_starts_at_id", ["meeting_starts_at", "id"], unique=False
        )

    op.create_table(
        "activity_members",
        sa.Column("activity_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("activity_id", "member_id"),
    )
    op.create_table(
        "facilitators",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("facilitator_id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "facilitator_id"),
    )
    op.create_table(
        "initiative_members",
        sa.Column("initiative_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("initiative_id", "member_id"),
    )
    op.create_table(
        "initiative_updates",
        sa.Column("initiative_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=2000), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("initiative_id", "version"),
    )
    op.create_table(
        "initiatives",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("origin_meeting_id", sa.String(length=36), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("started_version", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=2000), nullable=True),
        sa.Column("updated_on", sa.Date(), nullable=True),
        sa.Column("updated_version", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.create_index(
            "ix_initiatives_region_group_id", ["region", "group_id"], unique=False
        )

    op.create_table(
        "interviews",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("interviewed_on", sa.Date(), nullable=False),
        sa.Column("intends_to_grow", sa.String(length=8), nullable=False),
        sa.Column("planned_hires", sa.Integer(), nullable=False),
        sa.Column("barriers", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.create_index("ix_interviews_member_id", ["member_id"], unique=False)
        batch_op.create_index("ix_interviews_on_id", ["interviewed_on", "id"], unique=False)

    op.create_table(
        "membership_changes",
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("member_id", "version"),
    )
    op.create_table(
        "memos",
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("summary", sa.String(length=20000), nullable=False),
        sa.Column("facilitator_id", sa.String(length=36), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id"),
    )
    with op.batch_alter_table("memos", schema=None) as batch_op:
        batch_op.create_index(
            "ix_memos_published_at_id", ["published_at", "meeting_id"], unique=False
        )
        batch_op.create_index(
            "ix_memos_region_published_at", ["region", "published_at"], unique=False
        )

    op.create_table(
        "rsvps",
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("coming", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", "member_id"),
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("survey_id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("overall", sa.Integer(), nullable=False),
        sa.Column("usefulness", sa.Integer(), nullable=False),
        sa.Column("recommend", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index("ix_survey_responses_survey_id", ["survey_id"], unique=False)

    op.create_table(
        "surveys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.Column("invited_version", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_version", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_surveys_region_group_id", ["region", "group_id", "id"], unique=False
        )

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("timing_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("recorded", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status", sa.String(length=8), server_default=sa.text("'ACTIVE'"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("paused_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("pause_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("paused_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rejoined_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("rejoined_version", sa.Integer(), nullable=True))

    # Rows projected before this revision: only scheduled/held/cancelled events set a
    # meeting's version, the schedule was its timing, and a member was active or had left.
    op.execute("UPDATE meetings SET status_version = version, timing_version = schedule_version")
    op.execute("UPDATE members SET status = 'LEFT' WHERE NOT active")


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("rejoined_version")
        batch_op.drop_column("rejoined_on")
        batch_op.drop_column("paused_version")
        batch_op.drop_column("pause_reason")
        batch_op.drop_column("paused_on")
        batch_op.drop_column("status")

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("recorded")
        batch_op.drop_column("timing_version")
        batch_op.drop_column("status_version")

    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_surveys_region_group_id")

    op.drop_table("surveys")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_survey_id")

    op.drop_table("survey_responses")
    op.drop_table("rsvps")
    with op.batch_alter_table("memos", schema=None) as batch_op:
        batch_op.drop_index("ix_memos_region_published_at")
        batch_op.drop_index("ix_memos_published_at_id")

    op.drop_table("memos")
    op.drop_table("membership_changes")
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_index("ix_interviews_on_id")
        batch_op.drop_index("ix_interviews_member_id")

    op.drop_table("interviews")
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.drop_index("ix_initiatives_region_group_id")

    op.drop_table("initiatives")
    op.drop_table("initiative_updates")
    op.drop_table("initiative_members")
    op.drop_table("facilitators")
    op.drop_table("activity_members")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_starts_at_id")
        batch_op.drop_index("ix_activities_region_starts_at")
        batch_op.drop_index("ix_activities_meeting_id")

    op.drop_table("activities")
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_index("ix_action_items_meeting_id")

    op.drop_table("action_items")
