"""Unit of work: one database transaction holding a state change and its events."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.contracts import Envelope
from shared.messaging.outbox import stage


class UnitOfWork:
    """``async with uow: ...; uow.emit(envelope); await uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, events included.
    After a commit that carried events, ``on_commit`` wakes the outbox relay.
    """

    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._on_commit = on_commit
        self._events: list[Envelope] = []

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        await self.session.begin()
        self._events = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    def emit(self, *envelopes: Envelope) -> None:
        self._events.extend(envelopes)

    async def commit(self) -> None:
        await stage(self.session, self._outbox, self._events)
        await self.session.commit()
        had_events = bool(self._events)
        self._events = []
        if had_events:
            self._on_commit()
