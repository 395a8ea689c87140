"""The meetings service's own tables (its database holds nothing of other services but
the replica it builds from their events)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    Uuid,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging.tables import messaging_tables
from shared.storage.types import UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData()


class MeetingRow(Base):
    __tablename__ = "meetings"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    group_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    host_member_id: Mapped[UUID] = mapped_column(Uuid)
    theme: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    held_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    recorded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    memo: Mapped[str | None] = mapped_column(Text)
    memo_facilitator_id: Mapped[UUID | None] = mapped_column(Uuid)
    memo_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AttendeeRow(Base):
    __tablename__ = "meeting_attendees"

    meeting_id: Mapped[UUID] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    member_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class RsvpRow(Base):
    """A member's latest answer to a planned meeting's invitation."""

    __tablename__ = "meeting_rsvps"

    meeting_id: Mapped[UUID] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    member_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    coming: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer)


class ActionItemRow(Base):
    __tablename__ = "action_items"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    meeting_id: Mapped[UUID] = mapped_column(ForeignKey("meetings.id"), index=True)
    group_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    owner_member_id: Mapped[UUID] = mapped_column(Uuid)
    description: Mapped[str] = mapped_column(String(1000))
    agreed_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(1000), default="")
    version: Mapped[int] = mapped_column(Integer)


class ActivityRow(Base):
    """A CoP activity of a meeting; ``member_ids`` a JSON list of member id strings."""

    __tablename__ = "activities"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    meeting_id: Mapped[UUID] = mapped_column(ForeignKey("meetings.id"), index=True)
    group_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    activity_type: Mapped[str] = mapped_column(String(48), index=True)
    example: Mapped[str] = mapped_column(String(2000))
    member_ids: Mapped[list[str]] = mapped_column(JSON)
    coder_id: Mapped[UUID | None] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(Integer)


class InitiativeRow(Base):
    __tablename__ = "initiatives"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    group_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    origin_meeting_id: Mapped[UUID | None] = mapped_column(ForeignKey("meetings.id"))
    title: Mapped[str] = mapped_column(String(300))
    started_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(2000), default="")
    member_ids: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)


class InitiativeUpdateRow(Base):
    """Every state an initiative has been in (sequence 1: its start)."""

    __tablename__ = "initiative_updates"

    initiative_id: Mapped[UUID] = mapped_column(ForeignKey("initiatives.id"), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(2000))
    member_ids: Mapped[list[str]] = mapped_column(JSON)
    updated_on: Mapped[date] = mapped_column(Date)


class ReplicaGroupRow(Base):
    """A group as the groups service announced it (GroupCreated)."""

    __tablename__ = "replica_groups"

    group_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    founded_on: Mapped[date] = mapped_column(Date)


class ReplicaMemberRow(Base):
    """A member's membership as far as its events have arrived (see domain.membership)."""

    __tablename__ = "replica_members"

    member_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    group_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    joined_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    joined_sequence: Mapped[int] = mapped_column(Integer, default=0)
    left_sequence: Mapped[int] = mapped_column(Integer, default=0)
    paused_on: Mapped[date | None] = mapped_column(Date)
    paused_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rejoined_on: Mapped[date | None] = mapped_column(Date)
    rejoined_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ReplicaPersonRow(Base):
    """A member's contact person by pseudonymous id only (PersonRegistered); an erased
    person keeps only this tombstone so that late events do not bring it back."""

    __tablename__ = "replica_persons"

    person_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    registered: Mapped[bool] = mapped_column(Boolean, default=False)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)


class ReplicaConsentRow(Base):
    """A person's latest consent statement per purpose (ConsentGiven / ConsentWithdrawn)."""

    __tablename__ = "replica_consents"

    person_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    given: Mapped[bool] = mapped_column(Boolean)
    stated_at: Mapped[datetime] = mapped_column(UtcDateTime())


TABLES = messaging_tables(Base.metadata)
