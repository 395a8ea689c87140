"""The record of processed events stays bounded and the outbox is pruned, on SQLite and
PostgreSQL (no NATS: the tables alone)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import MetaData, func, select, update

from shared.contracts import Envelope, GroupCreated, make_envelope
from shared.messaging.inbox import admit, processed_ids
from shared.messaging.outbox import stage
from shared.messaging.retention import Pruner, Retention
from shared.messaging.tables import messaging_tables
from shared.storage import create_engine, create_schema, session_factory

metadata = MetaData()
TABLES = messaging_tables(metadata)
WEEK = timedelta(days=7)


def _events(aggregate: UUID, sequences: range) -> list[Envelope]:
    return [
        make_envelope(
            GroupCreated(group_id=aggregate, name=f"g{n}", founded_on=date(2015, 1, 1)),
            region="oulu",
            aggregate_id=aggregate,
            sequence=n,
        )
        for n in sequences
    ]


@pytest.fixture
async def db(database_url):
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    yield session_factory(engine)
    await engine.dispose()


async def _admit(db, envelopes: list[Envelope]) -> list[int]:
    async with db() as session, session.begin():
        return await admit(session, TABLES, envelopes)


async def _count(db, table) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def _age_everything(db, days: float) -> None:
    """Pretend every row was processed/published ``days`` ago."""
    then = datetime.now(UTC) - timedelta(days=days)
    async with db() as session, session.begin():
        await session.execute(update(TABLES.processed).values(processed_at=then))
        await session.execute(
            update(TABLES.outbox)
            .where(TABLES.outbox.c.published_at.is_not(None))
            .values(published_at=then)
        )


async def test_duplicates_out_of_order_and_gaps_are_recognised_before_and_after_a_prune(db):
    a, b = uuid4(), uuid4()
    stream_a, stream_b = _events(a, range(1, 41)), _events(b, range(1, 11))
    # a: 1..20 in order, then 25..40 (a gap: 21..24 still to come); b: shuffled, duplicated.
    shuffled_b = stream_b + stream_b[:4]
    random.Random(7).shuffle(shuffled_b)
    batch = stream_a[:20] + stream_a[24:] + shuffled_b
    fresh = await _admit(db, batch)
    assert len(fresh) == 20 + 16 + 10
    assert await _admit(db, batch) == []  # every one a duplicate now
    marks = await _marks(db)
    assert marks[str(a)] == (20, 16)
    assert marks[str(b)] == (10, 0)

    # Only the events above a's gap have rows of their own; the marks cover the rest (b's
    # shuffled events too: the batch holds all of 1..10).
    assert await _count(db, TABLES.processed) == 16
    pruner = Pruner(db, TABLES, Retention(outbox=WEEK, processed=WEEK))
    await _age_everything(db, days=8)
    assert (await pruner.prune()).processed == 0  # the rows above the gap are kept
    # What the marks cover is a duplicate; what was above the gap too (its row).
    assert await _admit(db, stream_a[:20] + stream_a[24:] + stream_b) == []
    # The gap fills: the mark moves past the rows above it, which the next prune may take.
    assert len(await _admit(db, stream_a[20:24])) == 4
    assert (await _marks(db))[str(a)] == (40, 0)
    assert await _count(db, TABLES.processed) == 16  # 21..24 got none: the mark covers them
    await _age_everything(db, days=8)
    assert (await pruner.prune()).processed == 16
    assert await _count(db, TABLES.processed) == 0
    async with db() as session:
        assert await processed_ids(session, TABLES, batch) == {str(e.event_id) for e in batch}
        assert await processed_ids(session, TABLES, _events(a, range(41, 42))) == set()


async def test_rows_from_before_the_marks_still_count_and_are_kept(db):
    [legacy] = _events(uuid4(), range(3, 4))
    async with db() as session, session.begin():
        await session.execute(
            TABLES.processed.insert().values(
                event_id=str(legacy.event_id), processed_at=datetime.now(UTC) - 2 * WEEK
            )
        )
    assert await _admit(db, [legacy]) == []
    await Pruner(db, TABLES, Retention(outbox=WEEK, processed=WEEK)).prune()
    assert await _count(db, TABLES.processed) == 1


async def test_the_record_does_not_grow_with_the_events_of_an_aggregate(db):
    """10,000 events of 50 aggregates in batches of 500: 50 marks and no event rows, where
    the old record kept 10,000 rows (and, until pruned, a row per event)."""
    aggregates = [uuid4() for _ in range(50)]
    streams = {a: _events(a, range(1, 201)) for a in aggregates}
    events = [streams[a][n] for n in range(200) for a in aggregates]  # interleaved, in order
    for start in range(0, len(events), 500):
        assert len(await _admit(db, events[start : start + 500])) == 500
        assert await _count(db, TABLES.processed) == 0
    assert await _count(db, TABLES.marks) == 50
    assert await _admit(db, events[::97]) == []


async def test_the_outbox_keeps_unsent_rows_and_recent_ones_and_prunes_old_published(db):
    a = uuid4()
    events = _events(a, range(1, 7))
    async with db() as session, session.begin():
        await stage(session, TABLES.outbox, events)
    now = datetime.now(UTC)
    outbox = TABLES.outbox
    ages = {1: 30, 2: 8, 3: 6, 4: None, 5: 9, 6: None}  # days since published; None: unsent
    async with db() as session, session.begin():
        for n, days in ages.items():
            sent = None if days is None else now - timedelta(days=days)
            await session.execute(
                update(outbox)
                .where(outbox.c.event_id == str(events[n - 1].event_id))
                .values(published_at=sent, created_at=now - timedelta(days=40))
            )
    done = await Pruner(db, TABLES, Retention(outbox=WEEK, processed=WEEK)).prune(now)
    assert done.outbox == 3
    async with db() as session:
        left = set((await session.execute(select(outbox.c.event_id))).scalars())
    assert left == {str(events[n - 1].event_id) for n in (3, 4, 6)}


async def _marks(db) -> dict[str, tuple[int, int]]:
    async with db() as session:
        rows = await session.execute(select(TABLES.marks))
        return {row.aggregate_id: (row.upto, row.ahead) for row in rows}
