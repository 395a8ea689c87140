"""Tables of the groups service, in its own metadata, plus ``outbox`` and ``processed_events``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging.tables import messaging_tables
from shared.storage.types import UtcDateTime

_ACTIVE_WITH_BUSINESS_ID = "left_on IS NULL AND business_id IS NOT NULL"


class Base(DeclarativeBase):
    metadata = MetaData()


class GroupRow(Base):
    __tablename__ = "core_groups"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str] = mapped_column(String(120), default="")
    founded_on: Mapped[date]
    version: Mapped[int]


class MemberRow(Base):
    __tablename__ = "members"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    group_id: Mapped[UUID] = mapped_column(ForeignKey("core_groups.id"), index=True)
    company_name: Mapped[str] = mapped_column(String(200))
    # the name folded for search and duplicate checks (services.groups.domain.names.fold)
    name_key: Mapped[str] = mapped_column(String(200), index=True, server_default="")
    business_id: Mapped[str | None] = mapped_column(String(9), index=True)
    industry_code: Mapped[str | None] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(300))
    employees: Mapped[int]
    turnover_eur: Mapped[int | None] = mapped_column(BigInteger)
    balance_sheet_eur: Mapped[int | None] = mapped_column(BigInteger)
    joined_on: Mapped[date]
    left_on: Mapped[date | None]
    leave_reason: Mapped[str] = mapped_column(String(500), default="")
    paused_on: Mapped[date | None]
    version: Mapped[int] = mapped_column()

    __table_args__ = (
        # The database's guard of "one active membership per company and group", which also
        # holds when two requests add the same company at the same moment.
        Index(
            "uq_members_active_business_id",
            "group_id",
            "business_id",
            unique=True,
            sqlite_where=text(_ACTIVE_WITH_BUSINESS_ID),
            postgresql_where=text(_ACTIVE_WITH_BUSINESS_ID),
        ),
    )
    # The repository saves changes with its own guarded UPDATE (WHERE version = the version it
    # loaded, see repository.py); this also guards any ORM flush of a changed row: UPDATE ...
    # WHERE version = <the row's loaded version>, a concurrent change makes the flush fail.
    __mapper_args__: Any = {  # noqa: RUF012 - SQLAlchemy's own class attribute
        "version_id_col": version,
        "version_id_generator": False,
    }


# INTEGER on SQLite: only an INTEGER PRIMARY KEY is the auto-incrementing rowid
_SERIAL = BigInteger().with_variant(Integer(), "sqlite")


class MembershipHistoryRow(Base):
    """Every change of a membership (joined, paused, left, rejoined) with its date."""

    __tablename__ = "membership_history"

    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    member_id: Mapped[UUID] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    on_date: Mapped[date]
    reason: Mapped[str] = mapped_column(String(500), default="")


class FacilitatorRow(Base):
    """A facilitator of a group; name and email stay here, events carry the id only."""

    __tablename__ = "facilitators"

    group_id: Mapped[UUID] = mapped_column(ForeignKey("core_groups.id"), primary_key=True)
    facilitator_id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[str] = mapped_column(String(20))
    assigned_on: Mapped[date]


class PersonRow(Base):
    """A member's contact entrepreneur. Erasure blanks name, email and phone."""

    __tablename__ = "persons"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    member_id: Mapped[UUID] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(2))
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column()
    # name and email folded for search; blank once erased
    search_key: Mapped[str] = mapped_column(String(460), server_default="")


class ErasedNameRow(Base):
    """What is kept of erased persons' names: one-way digests of their words, so that a
    memo naming them later is still masked (services.groups.domain.names)."""

    __tablename__ = "erased_name_digests"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)


class ConsentHistoryRow(Base):
    """Every consent given or withdrawn, per person and purpose, with its time."""

    __tablename__ = "consent_history"

    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    person_id: Mapped[UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class RegionProfileRow(Base):
    """How this region presents itself to the network; announced when it changes."""

    __tablename__ = "region_profile"

    region: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(200), default="")
    software_version: Mapped[str] = mapped_column(String(40), default="")
    version: Mapped[int] = mapped_column()

    # UPDATE ... WHERE version = <loaded>: of two concurrent announcements only one commits
    # (no two RegionAnnounced events with the same sequence).
    __mapper_args__: Any = {  # noqa: RUF012 - SQLAlchemy's own class attribute
        "version_id_col": version,
        "version_id_generator": False,
    }


TABLES = messaging_tables(Base.metadata)
