"""Fair SQLite write turns (shared/storage/turns.py) on real SQLite files."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.exc import OperationalError

from shared.storage import create_engine, create_schema, session_factory
from shared.storage.turns import WriteTurns, priority_turn, write_turns

metadata = MetaData()
log = Table(
    "turn_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("who", String(20), nullable=False),
)


@pytest.fixture
async def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    await create_schema(engine, metadata)
    yield engine
    await engine.dispose()


async def _order(engine) -> list[str]:
    async with session_factory(engine)() as session:
        return list((await session.execute(select(log.c.who).order_by(log.c.id))).scalars())


async def test_writers_are_served_in_arrival_order_and_the_relay_first(engine):
    sessions = session_factory(engine)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with sessions() as session, session.begin():
            await session.execute(insert(log).values(who="first"))
            holding.set()
            await release.wait()

    async def writer(name: str, *, priority: bool = False) -> None:
        if priority:
            with priority_turn():
                async with sessions() as session, session.begin():
                    await session.execute(insert(log).values(who=name))
        else:
            async with sessions() as session, session.begin():
                await session.execute(insert(log).values(who=name))

    async def queued(count: int) -> None:
        """Until ``count`` writers wait for their turn (arrival is when one starts waiting,
        not when its task is created: a fixed sleep lost the order on a loaded machine)."""
        turns = write_turns(engine)
        assert turns is not None
        for _ in range(6000):  # 30 s at most
            if turns.waiting >= count:
                break
            await asyncio.sleep(0.005)
        assert turns.waiting == count

    holder = asyncio.create_task(first())
    await holding.wait()
    tasks = []
    for waiting, name in enumerate(("a", "b", "c"), start=1):
        tasks.append(asyncio.create_task(writer(name)))
        await queued(waiting)
    tasks.append(asyncio.create_task(writer("relay", priority=True)))
    await queued(4)
    release.set()
    await asyncio.gather(holder, *tasks)
    assert await _order(engine) == ["first", "relay", "a", "b", "c"]


async def test_a_failed_transaction_gives_its_turn_back(engine):
    sessions = session_factory(engine)

    async def fail() -> None:
        async with sessions() as session, session.begin():
            await session.execute(insert(log).values(who="rolled back"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail()
    async with sessions() as session, session.begin():
        await session.execute(insert(log).values(who="next"))
    assert await _order(engine) == ["next"]
    turns = write_turns(engine)
    assert turns is not None
    assert turns.holder is None


async def test_a_cancelled_waiter_leaves_the_queue(engine):
    sessions = session_factory(engine)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("SELECT 1"))
            holding.set()
            await release.wait()

    async def wait_turn() -> None:
        async with sessions() as session, session.begin():
            await session.execute(insert(log).values(who="cancelled"))

    holder = asyncio.create_task(hold())
    await holding.wait()
    waiter = asyncio.create_task(wait_turn())
    await asyncio.sleep(0.05)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    turns = write_turns(engine)
    assert turns is not None
    assert turns.waiting == 0
    release.set()
    await holder
    async with sessions() as session, session.begin():
        await session.execute(insert(log).values(who="after"))
    assert await _order(engine) == ["after"]


async def test_no_turn_within_the_timeout_is_a_clear_database_error(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'slow.db'}")
    turns = write_turns(engine)
    assert turns is not None
    turns.timeout = 0.1
    sessions = session_factory(engine)
    try:
        async with sessions() as holder, holder.begin():
            await holder.execute(text("SELECT 1"))
            with pytest.raises(OperationalError, match=r"no write turn within 0\.1s"):
                async with sessions() as other, other.begin():
                    await other.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


def test_postgres_and_read_only_engines_take_no_turns(tmp_path):
    assert write_turns(create_engine("postgresql://u@127.0.0.1:5432/x")) is None
    read_only = create_engine(f"sqlite:///{tmp_path / 'r.db'}", sqlite_immediate=False)
    assert write_turns(read_only) is None


async def test_release_by_a_non_holder_changes_nothing():
    turns = WriteTurns(timeout=1)
    await turns.acquire("a")
    turns.release("b")
    assert turns.holder == "a"
    turns.release("a")
    assert turns.holder is None
