"""The outbox relay: publishes committed outbox rows to JetStream, in order, at least once.

A row is marked published only after JetStream acknowledged it. Every message carries
``Nats-Msg-Id = event_id``, so a row published twice (a crash between the ack and the
mark, or a retry after a lost ack) is dropped by the stream's duplicate window and, past
it, by the consumers' record of processed event ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.js import JetStreamContext
from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)


@dataclass
class RelayStats:
    published: int = 0
    failed_attempts: int = 0
    last_error: str = ""


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        js: Callable[[], JetStreamContext],
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        ack_timeout: float = 5.0,
        max_backoff: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._js = js
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._ack_timeout = ack_timeout
        self._max_backoff = max_backoff
        self._wakeup = asyncio.Event()
        self.stats = RelayStats()

    def notify(self) -> None:
        """Tell the relay that a transaction with events committed (it also polls)."""
        self._wakeup.set()

    async def run(self) -> None:
        """Publish until cancelled; back off while NATS is unreachable."""
        backoff = 0.1
        while True:
            self._wakeup.clear()  # before the pass: a commit during it triggers the next one
            try:
                published = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS down, timeouts, database busy: retry later
                self.stats.failed_attempts += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("outbox relay: %s; retrying in %.1fs", self.stats.last_error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = 0.1
            if published < self._batch_size:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that arrives as the wake-up fires, and shutdown would hang on this task.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval):
                        await self._wakeup.wait()

    async def publish_pending(self) -> int:
        """One pass: publish up to ``batch_size`` unpublished rows; return how many were acked."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(
                        self._outbox.c.id,
                        self._outbox.c.event_id,
                        self._outbox.c.subject,
                        self._outbox.c.body,
                    )
                    .where(self._outbox.c.published_at.is_(None))
                    .order_by(self._outbox.c.id)
                    .limit(self._batch_size)
                )
            ).all()
        if not rows:
            return 0
        js = self._js()
        # publish_async writes in order on one connection, so the stream keeps outbox order.
        futures = [
            await js.publish_async(row.subject, row.body, headers={"Nats-Msg-Id": row.event_id})
            for row in rows
        ]
        done, pending = await asyncio.wait(futures, timeout=self._ack_timeout)
        for future in pending:
            future.cancel()
        acked = [
            row.id
            for row, fut in zip(rows, futures, strict=True)
            if fut in done and fut.exception() is None
        ]
        if acked:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(self._outbox)
                    .where(self._outbox.c.id.in_(acked))
                    .values(published_at=datetime.now(UTC))
                )
        self.stats.published += len(acked)
        if len(acked) < len(rows):
            failed = next((fut.exception() for fut in done if fut.exception() is not None), None)
            raise RuntimeError(
                f"{len(rows) - len(acked)} of {len(rows)} events not acknowledged"
                + (f" ({failed})" if failed else " (ack timeout)")
            )
        return len(acked)

    async def pending_count(self) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(self._outbox)
                .where(self._outbox.c.published_at.is_(None))
            )
        return int(count or 0)
