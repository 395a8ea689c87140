"""The outbox relay: publishes committed outbox rows to JetStream, in order, at least once.

A row is marked published only after JetStream acknowledged it (in the relay's next pass,
which marks and reads in one transaction). Every message carries
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
from sqlalchemy import Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.storage.turns import priority_turn

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
        linger: float = 0.0,
    ) -> None:
        """``linger``: after a wake-up, wait this long before the pass, so the commits of
        the next moments go in the same pass (one transaction and one round of acks for
        several writes instead of one each)."""
        self._sessions = sessions
        self._outbox = outbox
        self._js = js
        self._poll_interval = poll_interval
        self._ack_timeout = ack_timeout
        self._max_backoff = max_backoff
        self._linger = linger
        self._wakeup = asyncio.Event()
        self._acked: list[int] = []  # acked in the last pass, marked in the next one
        self.stats = RelayStats()
        # A pass's two statements, built once (a statement memoizes its cache key): each pass
        # only binds the ids and the time.
        self._mark = (
            update(outbox)
            .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
            .values(published_at=bindparam("at", type_=outbox.c.published_at.type))
        )
        self._unpublished = (
            select(outbox.c.id, outbox.c.event_id, outbox.c.subject, outbox.c.body)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(batch_size)
        )

    def notify(self) -> None:
        """Tell the relay that a transaction with events committed (it also polls)."""
        self._wakeup.set()

    async def run(self) -> None:
        """Publish until cancelled; back off while NATS is unreachable."""
        backoff = 0.1
        while True:
            self._wakeup.clear()  # before the pass: a commit during it triggers the next one
            try:
                published = await self._publish_pass()
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
            if published == 0 and not self._acked:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that arrives as the wake-up fires, and shutdown would hang on this task.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval):
                        await self._wakeup.wait()
            if self._linger > 0 and (published or self._wakeup.is_set()):
                await asyncio.sleep(self._linger)

    async def publish_pending(self) -> int:
        """Publish up to ``batch_size`` unpublished rows and mark the acked ones published
        before returning; return how many were acked (used at shutdown and in tests)."""
        try:
            return await self._publish_pass()
        finally:
            await self.flush_marks()

    async def _publish_pass(self) -> int:
        """One pass of :meth:`run`: publish up to ``batch_size`` unpublished rows; return how
        many were acked.

        The rows acked in the previous pass are marked published in this pass's transaction,
        before it reads the next rows: one write transaction per pass, not two. A crash in
        between republishes them, which ``Nats-Msg-Id`` and the consumers' inbox absorb.
        """
        with priority_turn():  # on SQLite, ahead of the API writers (shared.storage.turns)
            async with self._sessions() as session, session.begin():
                if self._acked:
                    await self._mark_published(session)
                rows = (await session.execute(self._unpublished)).all()
        self._acked = []
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
        self._acked = [
            row.id
            for row, fut in zip(rows, futures, strict=True)
            if fut in done and fut.exception() is None
        ]
        self.stats.published += len(self._acked)
        if len(self._acked) < len(rows):
            failed = next((fut.exception() for fut in done if fut.exception() is not None), None)
            raise RuntimeError(
                f"{len(rows) - len(self._acked)} of {len(rows)} events not acknowledged"
                + (f" ({failed})" if failed else " (ack timeout)")
            )
        return len(self._acked)

    async def flush_marks(self) -> None:
        """Mark the rows acked in the last pass as published now (on shutdown)."""
        if not self._acked:
            return
        with priority_turn():
            async with self._sessions() as session, session.begin():
                await self._mark_published(session)
        self._acked = []

    async def _mark_published(self, session: AsyncSession) -> None:
        await session.execute(self._mark, {"ids": self._acked, "at": datetime.now(UTC)})

    async def backlog(self) -> tuple[int, datetime | None]:
        """Rows not yet acknowledged by JetStream, and when the oldest was committed."""
        # Rows acknowledged in the last pass are marked published in the next one.
        unpublished = and_(
            self._outbox.c.published_at.is_(None), self._outbox.c.id.not_in(self._acked)
        )
        async with self._sessions() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(self._outbox.c.created_at)).where(unpublished)
                )
            ).one()
        return int(count or 0), oldest

    async def pending_count(self) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(self._outbox)
                .where(self._outbox.c.published_at.is_(None))
            )
        return max(0, int(count or 0) - len(self._acked))
