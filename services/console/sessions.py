"""Server-side sessions: the cookie holds a random id; the database only its SHA-256, the
account, the session's CSRF token and its times. A session ends at sign-out, when the
account is disabled, after ``session_hours`` or ``session_idle_minutes`` unused."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.orm import SessionRow, StaffRow

SESSION_COOKIE = "mgn_session"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    id_hash: str
    staff_id: UUID
    csrf_token: str


@dataclass(frozen=True)
class SessionPolicy:
    lifetime: timedelta
    idle: timedelta


class SessionStore:
    def __init__(self, session: AsyncSession, policy: SessionPolicy) -> None:
        self.session = session
        self.policy = policy

    async def create(self, staff_id: UUID, client: str = "") -> tuple[str, SessionInfo]:
        """A new session: the cookie value (shown once) and what is stored."""
        cookie = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        row = SessionRow(
            id_hash=digest(cookie),
            staff_id=staff_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.policy.lifetime,
            client=client[:100],
        )
        self.session.add(row)
        await self.session.flush()
        return cookie, SessionInfo(row.id_hash, staff_id, row.csrf_token)

    async def find(self, cookie: str | None) -> tuple[SessionInfo, StaffRow] | None:
        """The live session of a cookie (account enabled, not expired, not revoked) and its
        account's row, read in the same query (``StaffStore.of_row``: one round trip to
        the database less on every page)."""
        if not cookie:
            return None
        found = (
            await self.session.execute(
                select(SessionRow, StaffRow)
                .join(StaffRow, StaffRow.id == SessionRow.staff_id)
                .where(SessionRow.id_hash == digest(cookie))
            )
        ).first()
        if found is None:
            return None
        row, staff = found
        now = datetime.now(UTC)
        if (
            row.revoked_at is not None
            or staff.disabled_at is not None
            or _aware(row.expires_at) <= now
            or _aware(row.last_seen_at) + self.policy.idle <= now
        ):
            return None
        if now - _aware(row.last_seen_at) >= TOUCH_EVERY:
            row.last_seen_at = now
        return SessionInfo(row.id_hash, row.staff_id, row.csrf_token), staff

    async def revoke(self, id_hash: str) -> None:
        await self.session.execute(
            update(SessionRow)
            .where(SessionRow.id_hash == id_hash, SessionRow.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
