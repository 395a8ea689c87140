"""``mgn hub rebuild``'s engine: NATIONAL (a real hub nats-server; NATIONAL sources a test
stream ``FEED``) replayed into a fresh read model gives the read model and facts that
projecting the same events directly gives, with the gateway's own tokens copied over, a
progress report that ends at the total, and no consumer left behind; and, on a stream with
events out of order, duplicates and a gap, every table the live consumer builds from the
same stream (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from nats.js.api import StreamConfig, StreamSource
from sqlalchemy import Table, select

from deploy.natsserver import NatsServer
from services.gateway.auth.tokens import create_token
from services.gateway.consumer import national_consumer
from services.gateway.orm import (
    FACT_TABLES,
    TABLES,
    access_tokens,
    meetings,
    members,
    metadata,
    projection_leases,
    stream_position,
    view_state,
)
from services.gateway.rebuild import KEPT, Progress, bar, prepare, rebuild_into
from services.gateway.replay import read_directly
from services.gateway.settings import GatewaySettings
from services.gateway.views.facts import STATE
from shared.contracts import encode, subject_for
from shared.messaging.jetstream import NATIONAL_STREAM
from shared.storage import create_engine, session_factory
from tests.fixtures.db import DatabaseMaker
from tests.fixtures.nats import NatsConnect
from tests.unit.test_gateway_research_views import apply, facts, network, rounded

# compared column by column below (they hold the time they were written)
TIMED = {TABLES.processed, TABLES.marks, view_state, stream_position, projection_leases}


async def rows(sessions: Any, table: Table, columns: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    query = select(*(table.c[c] for c in columns)) if columns else select(table)
    async with sessions() as session:
        found = (await session.execute(query)).all()
    return sorted(tuple(rounded(v) for v in r) for r in found)


async def test_rebuild_replays_national_into_a_fresh_read_model(
    nats_hub: NatsServer, nats_connect: NatsConnect, make_database_url: DatabaseMaker
) -> None:
    js = (await nats_connect(nats_hub)).jetstream()
    await js.add_stream(StreamConfig(name="FEED", subjects=["mgn.>"]))
    await js.add_stream(StreamConfig(name=NATIONAL_STREAM, sources=[StreamSource(name="FEED")]))
    events = network(seed=5).events
    for decoded in events:
        env = decoded.envelope
        msg_id = {"Nats-Msg-Id": str(env.event_id)}
        await js.publish(subject_for(env), encode(env), headers=msg_id)

    serving_url, direct_url, target_url = [
        await make_database_url(n) for n in ("serving", "direct", "rebuilt")
    ]
    serving = create_engine(serving_url)
    direct = create_engine(direct_url)
    target = create_engine(target_url)
    try:
        await prepare(serving, None)
        token = await create_token(session_factory(serving), "researcher", label="kept")
        await prepare(direct, None)
        await apply(session_factory(direct), [events])
        for _ in range(100):  # NATIONAL has sourced them all
            if (await js.stream_info(NATIONAL_STREAM)).state.messages == len(events):
                break
            await asyncio.sleep(0.05)

        seen: list[Progress] = []
        done = await rebuild_into(
            js, target_url, serving_url, batch_size=100, report=seen.append, every=0.05
        )

        assert done.events == len(events)
        assert done.stream_seq == len(events)
        assert done.kept_rows == 1
        assert seen
        assert seen[-1].done == seen[-1].total == len(events)
        assert "100%" in bar(seen[-1])
        rebuilt = session_factory(target)
        for table in (meetings, members, *FACT_TABLES):
            assert await rows(rebuilt, table) == await rows(session_factory(direct), table)
        assert (await facts(rebuilt))["fact_cop"], "the network has CoP facts"
        (copied,) = await rows(rebuilt, access_tokens)
        assert copied[0] == token.info.id
        assert [c.config.durable_name for c in await js.consumers_info(NATIONAL_STREAM)] == []
    finally:
        for engine in (serving, direct, target):
            await engine.dispose()


async def test_rebuild_equals_the_live_consumer_on_duplicates_gaps_and_disorder(
    nats_hub: NatsServer, nats_connect: NatsConnect, make_database_url: DatabaseMaker
) -> None:
    """NATIONAL holds the events shuffled (an aggregate's later events before its earlier
    ones), a tenth of them twice (re-sent past the duplicate window: other message ids) and
    not one aggregate's first event (a gap that never fills). The live consumer (small
    batches, the record in the database) and the rebuild (one large batch, the record in
    memory) give the same rows in every table of the read model, the same marks and the
    same events recorded above the marks."""
    js = (await nats_connect(nats_hub)).jetstream()
    await js.add_stream(StreamConfig(name="FEED", subjects=["mgn.>"]))
    await js.add_stream(StreamConfig(name=NATIONAL_STREAM, sources=[StreamSource(name="FEED")]))
    rng = random.Random(3)
    events = network(seed=9).events
    later = next(e for e in events if e.envelope.sequence == 2)
    missing = next(
        e
        for e in events
        if e.envelope.aggregate_id == later.envelope.aggregate_id and e.envelope.sequence == 1
    )
    stream = [e for e in events if e is not missing]
    rng.shuffle(stream)
    stream += rng.sample(stream, len(stream) // 10)
    for n, decoded in enumerate(stream):
        env = decoded.envelope
        msg_id = {"Nats-Msg-Id": f"{env.event_id}-{n}"}
        await js.publish(subject_for(env), encode(env), headers=msg_id)
    for _ in range(200):
        if (await js.stream_info(NATIONAL_STREAM)).state.messages == len(stream):
            break
        await asyncio.sleep(0.05)
    assert (await js.stream_info(NATIONAL_STREAM)).state.messages == len(stream)

    live_url, rebuilt_url = [await make_database_url(n) for n in ("live", "rebuilt")]
    live_engine = create_engine(live_url)
    rebuilt_engine = create_engine(rebuilt_url)
    try:
        await prepare(live_engine, None)
        settings = GatewaySettings(database_url=live_url, batch_size=40)
        consumer = national_consumer(js, session_factory(live_engine), settings)
        task = asyncio.create_task(consumer.run())
        for _ in range(600):
            if consumer.stats.applied + consumer.stats.duplicates == len(stream):
                break
            await asyncio.sleep(0.05)
        assert await consumer.stop()
        await task
        assert consumer.stats.applied == len(events) - 1

        done = await rebuild_into(js, rebuilt_url, live_url, batch_size=5_000)

        assert (done.events, done.duplicates) == (len(events) - 1, len(stream) - len(events) + 1)
        live, rebuilt = session_factory(live_engine), session_factory(rebuilt_engine)
        compared = 0
        for table in metadata.sorted_tables:
            if table in TIMED:
                continue
            assert await rows(rebuilt, table) == await rows(live, table), table.name
            compared += bool(await rows(live, table)) and table not in KEPT
        assert compared >= 15, "most of the read model's tables have rows"
        assert (await facts(rebuilt))["fact_cop"], "the network has CoP facts"
        mark = ("aggregate_id", "upto", "ahead")  # not when each moved
        marks = await rows(live, TABLES.marks, mark)
        assert any(upto == 0 and ahead > 0 for _, upto, ahead in marks), "the gap"
        assert await rows(rebuilt, TABLES.marks, mark) == marks
        assert await above_marks(rebuilt) == await above_marks(live) != []
        position = ("stream", "last_seq")
        assert await rows(rebuilt, stream_position, position) == await rows(
            live, stream_position, position
        )
        async with rebuilt() as session:
            state = await session.execute(select(view_state).where(view_state.c.name == STATE))
            assert state.one().needs_rebuild is False
        assert [c.config.durable_name for c in await js.consumers_info(NATIONAL_STREAM)] == [
            "gateway-read-model"
        ]
    finally:
        await live_engine.dispose()
        await rebuilt_engine.dispose()


async def above_marks(sessions: Any) -> list[tuple[Any, ...]]:
    """The events recorded above their aggregate's mark (those the marks do not cover)."""
    p, m = TABLES.processed.c, TABLES.marks.c
    async with sessions() as session:
        found = await session.execute(
            select(p.event_id, p.aggregate_id, p.sequence)
            .join(TABLES.marks, m.aggregate_id == p.aggregate_id)
            .where(p.sequence > m.upto)
        )
        return sorted(tuple(r) for r in found)


async def test_sequences_the_consumer_skipped_are_read_from_the_stream(
    nats_hub: NatsServer, nats_connect: NatsConnect
) -> None:
    """The reader's safety net for messages nats-py dropped (a slow consumer): the skipped
    sequences still in NATIONAL are read directly, in batches; deleted ones are not there."""
    js = (await nats_connect(nats_hub)).jetstream()
    await js.add_stream(StreamConfig(name="FEED", subjects=["mgn.>"]))
    await js.add_stream(StreamConfig(name=NATIONAL_STREAM, sources=[StreamSource(name="FEED")]))
    events = network(seed=5).events[:5]
    for decoded in events:
        env = decoded.envelope
        await js.publish(subject_for(env), encode(env), headers={"Nats-Msg-Id": env.msg_id})
    for _ in range(100):
        if (await js.stream_info(NATIONAL_STREAM)).state.messages == len(events):
            break
        await asyncio.sleep(0.05)
    assert await js.delete_msg(NATIONAL_STREAM, 3)

    batches = [b async for b in read_directly(js, [(2, 4), (5, 5)], 5, 2)]

    assert [[seq for seq, _, _ in messages] for messages, _ in batches] == [[2, 4], [5]]
    assert {upto for _, upto in batches} == {5}
    read = {seq: (subject, data) for messages, _ in batches for seq, subject, data in messages}
    for seq in (2, 4, 5):
        env = events[seq - 1].envelope
        assert read[seq] == (subject_for(env), encode(env))
