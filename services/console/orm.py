"""Tables of the console: staff accounts, their groups, sessions, API tokens, sign-in
throttling and the audit trail. No domain data: that stays in the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

metadata = MetaData()


class Base(DeclarativeBase):
    metadata = metadata


class StaffRow(Base):
    __tablename__ = "staff"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)  # stored lower case
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    role: Mapped[str] = mapped_column(String(20))  # admin | facilitator
    password_hash: Mapped[str] = mapped_column(String(255), default="")  # "": no password
    language: Mapped[str] = mapped_column(String(8), default="")  # "": negotiate
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class StaffGroupRow(Base):
    """A facilitator's access to one core group (the group's id in the groups service)."""

    __tablename__ = "staff_groups"

    staff_id: Mapped[UUID] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    group_id: Mapped[UUID] = mapped_column(primary_key=True)


class SessionRow(Base):
    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie
    staff_id: Mapped[UUID] = mapped_column(ForeignKey("staff.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    client: Mapped[str] = mapped_column(String(100), default="")


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[UUID] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class SignInFailureRow(Base):
    """Failed sign-ins of one account (``user:<name>``) or one client address (``addr:<ip>``)."""

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    __tablename__ = "audit_trail"
    __table_args__ = (Index("ix_audit_trail_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(200))  # staff username, token:<name>, cli:<user>
    action: Mapped[str] = mapped_column(String(120))  # e.g. member.add, staff.disable
    target: Mapped[str] = mapped_column(String(300), default="")  # e.g. member:<uuid>
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
