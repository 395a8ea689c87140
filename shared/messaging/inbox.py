"""Idempotent consumption: the ids of processed events are recorded in the same
transaction as the change they caused, so a redelivered or duplicated event changes nothing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession


async def already_processed(
    session: AsyncSession, processed: Table, event_ids: Iterable[str]
) -> set[str]:
    ids = list(dict.fromkeys(event_ids))
    seen: set[str] = set()
    # Stay far below SQLite's bound-parameter limit.
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        result = await session.execute(
            select(processed.c.event_id).where(processed.c.event_id.in_(chunk))
        )
        seen.update(result.scalars())
    return seen


async def record_processed(
    session: AsyncSession, processed: Table, event_ids: Iterable[str]
) -> None:
    now = datetime.now(UTC)
    rows = [{"event_id": event_id, "processed_at": now} for event_id in event_ids]
    if rows:
        await session.execute(insert(processed), rows)
