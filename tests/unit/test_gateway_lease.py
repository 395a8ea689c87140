"""The projection lease: one holder at a time, taken over once it ends, renewed by its holder,
taken back at once by a gateway restarted in its own place; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.lease import Lease, LeaseKeeper
from services.gateway.orm import metadata
from shared.storage import create_engine, create_schema, session_factory

Sessions = async_sessionmaker[AsyncSession]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def test_one_holder_until_its_lease_ends(sessions: Sessions) -> None:
    clock = Clock()
    a, b = (Lease(sessions, name, ttl=6, clock=clock) for name in ("hub-a:8000", "hub-b:8001"))
    assert await a.acquire()
    assert not await b.acquire()
    clock.now += 5
    assert await a.acquire()  # renewed: six more seconds from now
    clock.now += 5
    assert not await b.acquire()
    clock.now += 1.5  # a did not renew for 6.5 s: its lease has ended
    assert await b.acquire()
    assert not await a.acquire()  # a paused process coming back finds it taken
    assert await b.holder_now() == ("hub-b:8001", 6.0)

    again = Lease(sessions, "hub-b:8001", ttl=6, clock=clock)  # b restarted in its place
    assert await again.acquire()
    await again.release()
    assert await a.acquire()  # released: taken at once


async def test_two_contenders_at_once_get_one_lease(sessions: Sessions) -> None:
    leases = [Lease(sessions, f"hub-{i}:80{i}") for i in range(4)]
    won = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert sum(won) == 1


async def test_the_keeper_projects_while_it_holds_and_stands_by_when_it_loses(
    sessions: Sessions,
) -> None:
    events: list[str] = []

    async def acquired() -> None:
        events.append("project")

    async def lost() -> None:
        events.append("stand by")

    clock = Clock()
    mine = Lease(sessions, "hub-a:8000", ttl=3, clock=clock)
    keeper = LeaseKeeper(mine, acquired, lost)
    keeper.interval = 0.05
    task = asyncio.create_task(keeper.run())
    try:
        for _ in range(100):
            if events:
                break
            await asyncio.sleep(0.02)
        assert events == ["project"]
        # Paused (the task stopped) long enough for another gateway to take the lease.
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        clock.now += 10
        assert await Lease(sessions, "hub-b:8001", ttl=3, clock=clock).acquire()
        task = asyncio.create_task(keeper.run())
        for _ in range(100):
            if len(events) > 1:
                break
            await asyncio.sleep(0.02)
        assert events == ["project", "stand by"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
