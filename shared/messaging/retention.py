"""Bounded growth of the messaging tables: published outbox rows and covered records of
processed events are deleted once older than their retention.

- ``outbox``: a row is deleted only when it was published (JetStream acknowledged it) more
  than ``outbox_retention`` ago; an unsent row is never deleted, however old. The stream
  keeps the event; the row is kept a while only for operators (what was sent, when).
- ``processed_events``: see :func:`shared.messaging.inbox.prune_processed` (only rows the
  per-aggregate marks cover, so a later delivery is still recognised).

Deletes go in pieces of :data:`PIECE` rows, one short transaction each, so a first prune of
a long history does not hold SQLite's write lock for long.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messaging.inbox import prune_processed
from shared.messaging.tables import MessagingTables

log = logging.getLogger(__name__)

PIECE = 5000


@dataclass(frozen=True)
class Retention:
    outbox: timedelta
    processed: timedelta
    interval: float = 3600.0  # seconds between prunes


@dataclass
class PruneStats:
    outbox: int = 0
    processed: int = 0


async def prune_outbox(session: AsyncSession, outbox: Table, older_than: datetime) -> int:
    """Delete up to :data:`PIECE` rows published before ``older_than``; return how many."""
    ids = (
        select(outbox.c.id)
        .where(outbox.c.published_at.is_not(None), outbox.c.published_at < older_than)
        .order_by(outbox.c.id)
        .limit(PIECE)
    )
    result = await session.execute(delete(outbox).where(outbox.c.id.in_(ids.scalar_subquery())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class Pruner:
    """Prunes a service's outbox and record of processed events (:meth:`run` every
    ``retention.interval`` seconds, or :meth:`prune` once)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        retention: Retention,
    ) -> None:
        self._sessions = sessions
        self._tables = tables
        self.retention = retention
        self.stats = PruneStats()

    async def prune(self, now: datetime | None = None) -> PruneStats:
        """One prune; returns what it deleted (also added to :attr:`stats`)."""
        now = now or datetime.now(UTC)
        done = PruneStats()
        while True:
            async with self._sessions() as session, session.begin():
                n = await prune_outbox(session, self._tables.outbox, now - self.retention.outbox)
            done.outbox += n
            if n < PIECE:
                break
        while True:
            async with self._sessions() as session, session.begin():
                n = await prune_processed(
                    session, self._tables, now - self.retention.processed, limit=PIECE
                )
            done.processed += n
            if n < PIECE:
                break
        self.stats.outbox += done.outbox
        self.stats.processed += done.processed
        if done.outbox or done.processed:
            log.info(
                "pruned %d published outbox rows and %d processed-event rows",
                done.outbox,
                done.processed,
            )
        return done

    async def run(self) -> None:
        """Prune now and then every ``interval`` seconds until cancelled; a failure (the
        database away) is logged and tried again next time."""
        while True:
            try:
                await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("pruning the messaging tables failed: %s", exc)
            await asyncio.sleep(self.retention.interval)
