"""initial: core groups, members, the region's profile, outbox and processed events

Revision ID: 0001
Revises:
Create Date: 2026-11-23 19:26:35.709413
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "core_groups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("municipality", sa.String(length=120), nullable=False),
        sa.Column("founded_on", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("business_id", sa.String(length=9), nullable=True),
        sa.Column("industry_code", sa.String(length=10), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=False),
        sa.Column("turnover_eur", sa.BigInteger(), nullable=True),
        sa.Column("balance_sheet_eur", sa.BigInteger(), nullable=True),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("leave_reason", sa.String(length=500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["core_groups.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_members_group_id", "members", ["group_id"])
    # one active membership per company and group
    op.create_index(
        "uq_members_active_business_id",
        "members",
        ["group_id", "business_id"],
        unique=True,
        sqlite_where=sa.text("left_on IS NULL AND business_id IS NOT NULL"),
        postgresql_where=sa.text("left_on IS NULL AND business_id IS NOT NULL"),
    )
    op.create_table(
        "region_profile",
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("software_version", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region"),
    )
    op.create_table(
        "outbox",
        # INTEGER on SQLite: only an INTEGER PRIMARY KEY is the auto-incrementing rowid
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("region_profile")
    op.drop_table("members")
    op.drop_table("core_groups")
