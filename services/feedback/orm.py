"""The feedback service's own tables, plus the replica of the members and persons it
surveys (from the groups service's events). Contact details are never stored here."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import false

from shared.messaging.tables import messaging_tables
from shared.storage.types import UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData()


class ReplicaMemberRow(Base):
    """A member as far as its events arrived; the row is also the lock that orders a
    survey opening and a person registering for the same member."""

    __tablename__ = "replica_members"

    member_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    left_on: Mapped[date | None] = mapped_column(Date)


class ReplicaPersonRow(Base):
    """A member's contact entrepreneur by pseudonymous id (PersonRegistered)."""

    __tablename__ = "replica_persons"

    person_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    language: Mapped[str] = mapped_column(String(2))


class SurveyRow(Base):
    __tablename__ = "surveys"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    meeting_id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    group_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    held_at: Mapped[datetime] = mapped_column(UtcDateTime())
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    reminder_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reminders_queued: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)
    invited: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SurveyAttendeeRow(Base):
    __tablename__ = "survey_attendees"

    survey_id: Mapped[UUID] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    member_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, index=True)


class InvitationRow(Base):
    """One attendee person's place in a survey; ``person_id`` is cleared on erasure."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("survey_id", "person_id"),)

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    survey_id: Mapped[UUID] = mapped_column(ForeignKey("surveys.id"), index=True)
    person_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    member_id: Mapped[UUID] = mapped_column(Uuid)
    language: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SurveyLinkRow(Base):
    """A personal link: only the SHA-256 of its token (each mail sent carries a new one)."""

    __tablename__ = "survey_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    invitation_id: Mapped[UUID] = mapped_column(ForeignKey("invitations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ResponseRow(Base):
    """Scores plus free texts; the free texts never leave the region."""

    __tablename__ = "responses"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    survey_id: Mapped[UUID] = mapped_column(ForeignKey("surveys.id"), index=True)
    invitation_id: Mapped[UUID] = mapped_column(ForeignKey("invitations.id"), unique=True)
    overall: Mapped[int] = mapped_column(Integer)
    usefulness: Mapped[int] = mapped_column(Integer)
    recommend: Mapped[int] = mapped_column(Integer)
    takeaway: Mapped[str] = mapped_column(Text, default="")
    change_wish: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InterviewRow(Base):
    __tablename__ = "interviews"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    person_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    interviewed_on: Mapped[date] = mapped_column(Date)
    intends_to_grow: Mapped[str] = mapped_column(String(8))
    planned_hires: Mapped[int] = mapped_column(Integer)
    barriers: Mapped[str] = mapped_column(String(400))  # comma-separated GROWTH_BARRIERS
    barrier_other: Mapped[str] = mapped_column(String(500), default="")
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # the interview aggregate's event sequence: 1 recorded, +1 per InterviewRekeyed
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # the nation holds the region's key (version-2 event); false: recorded as version 1
    # before keys were made here, its key is still to be sent (InterviewRekeyed)
    keyed_in_region: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())


class PanelSecretRow(Base):
    """The region's one secret for the panel's person keys (HMAC-SHA256 of a person id):
    made on the first interview that names a person, kept with the interviews it keys (a
    backup restores both), never sent in an event nor shown by the API. Losing it changes
    every later key, so the panel would count a person twice."""

    __tablename__ = "panel_secret"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1: one secret
    secret: Mapped[str] = mapped_column(String(64))  # hex of 32 random bytes
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MailRow(Base):
    """The mail outbox: invitations and reminders, with retry state anyone can look at."""

    __tablename__ = "mail_outbox"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    invitation_id: Mapped[UUID] = mapped_column(ForeignKey("invitations.id"), index=True)
    survey_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    person_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # invitation | reminder
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending|retrying|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


TABLES = messaging_tables(Base.metadata)
