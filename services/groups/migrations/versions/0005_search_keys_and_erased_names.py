"""folded keys for member search and duplicate checks; digests of erased names

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 06:30:00.000000
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _fold(text: str) -> str:
    # services.groups.domain.names.fold as of this revision (a migration keeps its own copy)
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_key", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.create_index(batch_op.f("ix_members_name_key"), ["name_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_business_id"), ["business_id"], unique=False)
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_key", sa.String(length=460), nullable=False, server_default="")
        )
    op.create_table(
        "erased_name_digests",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    bind = op.get_bind()
    members = sa.table("members", sa.column("id"), sa.column("company_name"), sa.column("name_key"))
    for member_id, name in bind.execute(sa.select(members.c.id, members.c.company_name)).all():
        bind.execute(members.update().where(members.c.id == member_id).values(name_key=_fold(name)))
    persons = sa.table(
        "persons", sa.column("id"), sa.column("name"), sa.column("email"), sa.column("search_key")
    )
    rows = bind.execute(sa.select(persons.c.id, persons.c.name, persons.c.email)).all()
    for person_id, name, email in rows:
        key = _fold(f"{name} {email}") if name or email else ""
        bind.execute(persons.update().where(persons.c.id == person_id).values(search_key=key))


def downgrade() -> None:
    op.drop_table("erased_name_digests")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("search_key")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_business_id"))
        batch_op.drop_index(batch_op.f("ix_members_name_key"))
        batch_op.drop_column("name_key")
