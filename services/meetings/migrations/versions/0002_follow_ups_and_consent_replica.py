"""follow-ups: rsvps, memo, recording, actions, activities, initiatives; replica of
pauses, persons and consents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:36:50.931356
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
        "replica_consents",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("stated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "purpose"),
    )
    op.create_table(
        "replica_persons",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("erased", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
    )
    with op.batch_alter_table("replica_persons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_replica_persons_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "action_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("owner_member_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=1000), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_items_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_action_items_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_action_items_status"), ["status"], unique=False)

    op.create_table(
        "activities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("activity_type", sa.String(length=48), nullable=False),
        sa.Column("example", sa.String(length=2000), nullable=False),
        sa.Column("member_ids", sa.JSON(), nullable=False),
        sa.Column("coder_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_activity_type"), ["activity_type"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_activities_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "initiatives",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("origin_meeting_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=2000), nullable=False),
        sa.Column("member_ids", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["origin_meeting_id"],
            ["meetings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_initiatives_group_id"), ["group_id"], unique=False)

    op.create_table(
        "meeting_rsvps",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("coming", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
        ),
        sa.PrimaryKeyConstraint("meeting_id", "member_id"),
    )
    op.create_table(
        "initiative_updates",
        sa.Column("initiative_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=2000), nullable=False),
        sa.Column("member_ids", sa.JSON(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
        ),
        sa.PrimaryKeyConstraint("initiative_id", "sequence"),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recorded", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("memo", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("memo_facilitator_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("memo_published_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("replica_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("paused_sequence", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("rejoined_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("rejoined_sequence", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("replica_members", schema=None) as batch_op:
        batch_op.drop_column("rejoined_sequence")
        batch_op.drop_column("rejoined_on")
        batch_op.drop_column("paused_sequence")
        batch_op.drop_column("paused_on")

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("memo_published_at")
        batch_op.drop_column("memo_facilitator_id")
        batch_op.drop_column("memo")
        batch_op.drop_column("recorded")

    op.drop_table("initiative_updates")
    op.drop_table("meeting_rsvps")
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiatives_group_id"))

    op.drop_table("initiatives")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_activities_group_id"))
        batch_op.drop_index(batch_op.f("ix_activities_activity_type"))

    op.drop_table("activities")
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_items_status"))
        batch_op.drop_index(batch_op.f("ix_action_items_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_action_items_group_id"))

    op.drop_table("action_items")
    with op.batch_alter_table("replica_persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replica_persons_member_id"))

    op.drop_table("replica_persons")
    op.drop_table("replica_consents")
