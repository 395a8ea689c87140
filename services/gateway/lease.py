"""Exactly one gateway projects: a lease in the read model.

Several gateway processes may serve the national API on one PostgreSQL read model (a hub
that survives losing a machine); only the holder of the lease ``national-projection``
consumes NATIONAL, prunes and runs the registrar's joins and resyncs. The others answer
reads and stand by.

- The lease is one row of ``projection_leases``: its holder and when it ends (epoch
  seconds). :meth:`Lease.acquire` takes it when it is free, has ended, or is already ours,
  and renews it (one guarded ``UPDATE``: of two contenders one wins, the other's ``WHERE``
  no longer matches; on SQLite the write lock orders them).
- :class:`LeaseKeeper` tries every ``ttl / 3`` seconds. The holder renews; a standby takes
  over once the holder has not renewed for ``ttl`` seconds (6 s by default: a killed
  projector is replaced within ``ttl + ttl / 3`` = 8 s). A holder that cannot renew (the
  database is unreachable) stops projecting before its lease can have ended, so two never
  project at once; and were one to stall past its lease, the projection would still apply
  each event once (processed-event records).
- The holder's name is the gateway's host and HTTP port: a gateway restarted in its own
  place takes its own lease back at once instead of waiting for it to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.orm import projection_leases

log = logging.getLogger(__name__)

PROJECTION = "national-projection"
DEFAULT_TTL = 6.0


class Lease:
    """One named lease in the read model, held as ``holder``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        holder: str,
        *,
        name: str = PROJECTION,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.holder = holder
        self.name = name
        self.ttl = ttl
        self.clock = clock

    async def acquire(self) -> bool:
        """Take or renew the lease; True if we hold it for the next ``ttl`` seconds."""
        t = projection_leases.c
        now = self.clock()
        async with self.sessions() as session, session.begin():
            taken = await session.execute(
                update(projection_leases)
                .where(t.name == self.name)
                .where((t.holder == self.holder) | (t.expires_at < now))
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return True
            exists = await session.scalar(select(t.holder).where(t.name == self.name))
            if exists is not None:
                return False
        try:
            async with self.sessions() as session, session.begin():
                await session.execute(
                    insert(projection_leases).values(
                        name=self.name, holder=self.holder, expires_at=now + self.ttl,
                        acquired_at=now,
                    )
                )  # fmt: skip
        except IntegrityError:  # another process made the row first: it holds the lease
            return False
        return True

    async def release(self) -> None:
        """End our lease now (a clean stop): a standby takes over at its next try."""
        t = projection_leases.c
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(projection_leases)
                .where(t.name == self.name, t.holder == self.holder)
                .values(expires_at=0.0)
            )

    async def holder_now(self) -> tuple[str, float] | None:
        """The current holder and the seconds its lease has left (negative: ended)."""
        t = projection_leases.c
        async with self.sessions() as session:
            row = (
                await session.execute(select(t.holder, t.expires_at).where(t.name == self.name))
            ).first()
        return None if row is None else (str(row.holder), float(row.expires_at) - self.clock())


Hook = Callable[[], Awaitable[None]]


class LeaseKeeper:
    """Keeps trying the lease; calls ``on_acquired`` when we get it and ``on_lost`` when we
    lose it (or cannot renew it in time). See the module docstring."""

    def __init__(self, lease: Lease, on_acquired: Hook, on_lost: Hook) -> None:
        self.lease = lease
        self.on_acquired = on_acquired
        self.on_lost = on_lost
        self.interval = lease.ttl / 3
        self.held = False
        self.takeovers = 0
        self._valid_until = 0.0  # monotonic: our lease has surely not ended before this

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                got = await self.lease.acquire()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("projection lease: cannot reach the read model: %r", exc)
                # Ours until the last renewal's lease ends; stop a margin before that.
                got = self.held and time.monotonic() < self._valid_until - self.interval
            else:
                if got:
                    self._valid_until = started + self.lease.ttl
            try:
                if got and not self.held:
                    self.held = True
                    self.takeovers += 1
                    log.info("projection lease taken by %s: projecting", self.lease.holder)
                    await self.on_acquired()
                elif self.held and not got:
                    self.held = False
                    log.warning("projection lease lost by %s: standing by", self.lease.holder)
                    await self.on_lost()
            except asyncio.CancelledError:
                raise
            except Exception:  # the keeper must go on: the next round tries again
                log.exception("projection lease: switching %s failed", self.lease.holder)
            await asyncio.sleep(self.interval)

    async def release(self) -> None:
        """After the caller stopped projecting: give the lease up for a standby."""
        if self.held:
            self.held = False
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self.lease.release()
