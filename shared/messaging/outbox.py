"""Staging events in the same transaction as the state change they describe."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import Insert, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import Envelope, encode, subject_for


@cache
def _insert_into(outbox: Table) -> Insert:
    """One INSERT statement per outbox table, built once (its cache key is memoized)."""
    return insert(outbox)


async def stage(session: AsyncSession, outbox: Table, envelopes: Iterable[Envelope]) -> int:
    """Insert ``envelopes`` into the outbox inside the caller's open transaction.

    Nothing is published here: the relay publishes rows after the transaction commits,
    so an event exists if and only if its state change does.
    """
    now = datetime.now(UTC)
    rows = [
        {
            "event_id": str(envelope.event_id),
            "subject": subject_for(envelope),
            "body": encode(envelope),
            "created_at": now,
        }
        for envelope in envelopes
    ]
    if rows:
        await session.execute(_insert_into(outbox), rows)
    return len(rows)
