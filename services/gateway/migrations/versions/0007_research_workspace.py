"""the researchers' workspace: versioned codebooks (fi/sv/en), codings, their marks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 12:16:25.400502
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "codebook_codes",
        sa.Column("codebook_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_fi", sa.String(length=200), nullable=False),
        sa.Column("name_sv", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("definition_fi", sa.String(length=4000), nullable=False),
        sa.Column("definition_sv", sa.String(length=4000), nullable=False),
        sa.Column("definition_en", sa.String(length=4000), nullable=False),
        sa.Column("example_fi", sa.String(length=4000), nullable=False),
        sa.Column("example_sv", sa.String(length=4000), nullable=False),
        sa.Column("example_en", sa.String(length=4000), nullable=False),
        sa.PrimaryKeyConstraint("codebook_id", "code"),
    )
    op.create_table(
        "codebooks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title_fi", sa.String(length=300), nullable=False),
        sa.Column("title_sv", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("citation", sa.String(length=2000), server_default=sa.text("''"), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "version", name="uq_codebooks_key_version"),
    )
    op.create_table(
        "coding_marks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("coding_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=True),
        sa.Column("span_end", sa.Integer(), nullable=True),
        sa.Column("memo_version", sa.Integer(), nullable=True),
        sa.Column("quote", sa.String(length=20000), server_default=sa.text("''"), nullable=False),
        sa.Column("example", sa.String(length=2000), server_default=sa.text("''"), nullable=False),
        sa.Column("featured", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coding_marks", schema=None) as batch_op:
        batch_op.create_index("ix_coding_marks_coding", ["coding_id", "code"], unique=False)

    op.create_table(
        "codings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("codebook_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("coder_id", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("nothing_found", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=2000), server_default=sa.text("''"), nullable=False),
        sa.Column("reconciled_by", sa.String(length=40), nullable=True),
        sa.Column("coded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("codebook_id", "meeting_id", "coder_id", name="uq_codings_unit_coder"),
    )
    with op.batch_alter_table("codings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_codings_codebook_coder", ["codebook_id", "coder_id", "meeting_id"], unique=False
        )
        batch_op.create_index("ix_codings_meeting", ["meeting_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("codings", schema=None) as batch_op:
        batch_op.drop_index("ix_codings_meeting")
        batch_op.drop_index("ix_codings_codebook_coder")

    op.drop_table("codings")
    with op.batch_alter_table("coding_marks", schema=None) as batch_op:
        batch_op.drop_index("ix_coding_marks_coding")

    op.drop_table("coding_marks")
    op.drop_table("codebooks")
    op.drop_table("codebook_codes")
