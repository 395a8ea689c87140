"""The audit trail: every change made through the console (who, what, when, target)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.orm import AuditRow


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: Mapping[str, Any]


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    """Add an entry to the trail (committed with the caller's transaction)."""
    session.add(
        AuditRow(
            at=datetime.now(UTC),
            actor=actor[:200],
            action=action[:120],
            target=target[:300],
            details=dict(details or {}),
        )
    )
    await session.flush()


async def entries(
    session: AsyncSession, *, actor: str = "", offset: int = 0, limit: int = 50
) -> tuple[list[AuditEntry], int]:
    """A page of the trail, newest first, and how many entries match."""
    query = select(AuditRow)
    count = select(func.count()).select_from(AuditRow)
    if actor:
        query = query.where(AuditRow.actor == actor)
        count = count.where(AuditRow.actor == actor)
    rows = await session.scalars(
        query.order_by(AuditRow.at.desc(), AuditRow.id.desc()).offset(offset).limit(limit)
    )
    total = int(await session.scalar(count) or 0)
    return [
        AuditEntry(r.id, r.at, r.actor, r.action, r.target, r.details or {}) for r in rows
    ], total
