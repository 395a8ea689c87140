"""Outbox, relay and idempotent consumer against a real nats-server and real databases."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import date
from uuid import uuid4

import pytest
from nats.js.api import ConsumerConfig, StreamConfig
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from shared.contracts import DecodedEvent, GroupCreated, decode, encode, make_envelope, subject_for
from shared.messaging.consumer import ConsumerSpec, EventConsumer, projecting
from shared.messaging.deadletter import REASON_HEADER
from shared.messaging.inbox import processed_ids
from shared.messaging.jetstream import ensure_deadletter_stream
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import messaging_tables
from shared.runtime.uow import UnitOfWork
from shared.storage import create_engine, create_schema, session_factory
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats

metadata = MetaData()
TABLES = messaging_tables(metadata)
groups = Table(
    "groups",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200)),
    Column("applied", Integer, default=1),
)


def _event(name: str = "Oulu core group"):
    group_id = uuid4()
    return make_envelope(
        GroupCreated(group_id=group_id, name=name, founded_on=date(2015, 1, 1)),
        region="oulu",
        aggregate_id=group_id,
        sequence=1,
    )


@pytest.fixture
async def db(database_url):
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def js(nats_hub, nats_connect):
    nc = await nats_connect(nats_hub)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="TEST", subjects=["mgn.oulu.>"]))
    return js


async def _count(sessions, table, *where) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def test_relay_publishes_committed_events_with_msg_id_and_marks_them(db, js):
    relay = OutboxRelay(db, TABLES.outbox, lambda: js)
    envelopes = [_event(f"g{i}") for i in range(3)]
    async with UnitOfWork(db, TABLES.outbox, relay.notify) as uow:
        uow.emit(*envelopes)
        await uow.commit()
    async with UnitOfWork(db, TABLES.outbox, relay.notify) as uow:
        uow.emit(_event("rolled back"))  # leaving without commit: nothing staged
    assert await _count(db, TABLES.outbox) == 3

    assert await relay.publish_pending() == 3
    assert await relay.pending_count() == 0
    sub = await js.pull_subscribe("mgn.oulu.>", durable="check", stream="TEST")
    msgs = await sub.fetch(10, timeout=2)
    assert [m.headers["Nats-Msg-Id"] for m in msgs] == [str(e.event_id) for e in envelopes]
    assert [m.subject for m in msgs] == [subject_for(e) for e in envelopes]


async def test_relay_keeps_events_while_nats_is_down_and_catches_up(db, js, nats_hub):
    relay = OutboxRelay(db, TABLES.outbox, lambda: js, ack_timeout=0.5, max_backoff=0.5)
    task = asyncio.create_task(relay.run())
    try:
        await nats_hub.astop()
        async with UnitOfWork(db, TABLES.outbox, relay.notify) as uow:
            uow.emit(_event())
            await uow.commit()  # the write succeeds with the broker down
        await wait_for(lambda: relay.stats.failed_attempts > 0, timeout=10)
        assert await relay.pending_count() == 1
        await nats_hub.astart()
        await wait_for(lambda: _pending_is(relay, 0), timeout=20, message="relay caught up")
        info = await js.stream_info("TEST")
        assert info.state.messages == 1
    finally:
        task.cancel()


async def _pending_is(relay: OutboxRelay, n: int) -> bool:
    return await relay.pending_count() == n


async def test_republishing_a_row_is_dropped_by_the_duplicate_window(db, js):
    relay = OutboxRelay(db, TABLES.outbox, lambda: js)
    async with UnitOfWork(db, TABLES.outbox, relay.notify) as uow:
        uow.emit(_event())
        await uow.commit()
    await relay.publish_pending()
    async with db() as s, s.begin():  # as if the process died between the ack and the mark
        await s.execute(TABLES.outbox.update().values(published_at=None))
    await relay.publish_pending()
    assert (await js.stream_info("TEST")).state.messages == 1


async def test_running_relay_marks_a_pass_in_the_next_pass_transaction(db, js):
    relay = OutboxRelay(db, TABLES.outbox, lambda: js, poll_interval=30)
    published = TABLES.outbox.c.published_at
    task = asyncio.create_task(relay.run())
    try:
        for round_ in range(2):
            async with UnitOfWork(db, TABLES.outbox, relay.notify) as uow:
                uow.emit(_event(f"round {round_}"))
                await uow.commit()
            # Marked without waiting for the 30 s poll: the pass after a publishing pass
            # runs at once and marks in its own transaction.
            await wait_for(
                lambda: _marked_is(db, 0), timeout=5, message="acked row marked published"
            )
        assert await _count(db, TABLES.outbox, published.is_not(None)) == 2
        assert relay.stats.published == 2
        assert (await js.stream_info("TEST")).state.messages == 2
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _marked_is(sessions, unmarked: int) -> bool:
    return await _count(sessions, TABLES.outbox, TABLES.outbox.c.published_at.is_(None)) == unmarked


async def _project(session, events: Sequence[DecodedEvent]) -> None:
    created = [e.event for e in events if isinstance(e.event, GroupCreated)]
    if any(g.name == "explode" for g in created):
        raise RuntimeError("projection bug")
    await session.execute(
        insert(groups), [{"id": str(g.group_id), "name": g.name} for g in created]
    )


async def test_consumer_applies_once_dead_letters_and_keeps_going(db, js):
    await ensure_deadletter_stream(js)
    consumer = EventConsumer(
        js,
        projecting(db, TABLES, _project),
        ConsumerSpec(stream="TEST", durable="test-consumer", max_attempts=2, fetch_timeout=0.3),
    )
    task = asyncio.create_task(consumer.run())
    try:
        good = [_event(f"g{i}") for i in range(5)]
        for e in good:
            await js.publish(subject_for(e), encode(e), headers={"Nats-Msg-Id": str(e.event_id)})
        # The same event again under another Nats-Msg-Id: past the broker's duplicate window.
        await js.publish(subject_for(good[0]), encode(good[0]), headers={"Nats-Msg-Id": "again"})
        await js.publish("mgn.oulu.groups.group.created", b"{not json")
        forged = _event("forged")
        await js.publish("mgn.oulu.groups.member.joined", encode(forged))
        bad = _event("explode")
        await js.publish(subject_for(bad), encode(bad))
        after = _event("after the bad ones")
        await js.publish(subject_for(after), encode(after))

        await wait_for(
            lambda: consumer.stats.dead_lettered == 3, timeout=30, message="three dead letters"
        )
        await wait_for(lambda: _count(db, groups), timeout=5)
        assert await _count(db, groups) == 6
        assert consumer.stats.duplicates == 1
        dl = await js.pull_subscribe("deadletter.>", durable="dl-check", stream="DEADLETTER")
        reasons = sorted(m.headers[REASON_HEADER] for m in await dl.fetch(10, timeout=2))
        assert reasons == ["apply_failed", "malformed", "subject_mismatch"]
    finally:
        task.cancel()


async def test_redelivery_after_a_crash_between_commit_and_ack_changes_nothing(db, js):
    consumer = EventConsumer(
        js,
        projecting(db, TABLES, _project),
        ConsumerSpec(stream="TEST", durable="crashy", ack_wait=1.0, fetch_timeout=0.3),
    )
    e = _event()
    await js.publish(subject_for(e), encode(e), headers={"Nats-Msg-Id": str(e.event_id)})
    sub = await js.pull_subscribe(
        "", durable="crashy", stream="TEST", config=ConsumerConfig(ack_wait=1.0)
    )
    [msg] = await sub.fetch(1, timeout=2)
    await consumer.apply_batch([decode(msg.data)])
    # ...the process dies here: committed, never acknowledged. After ack_wait it comes back.
    task = asyncio.create_task(consumer.run())
    try:
        await wait_for(lambda: consumer.stats.duplicates == 1, timeout=15)
        assert await _count(db, groups) == 1
        async with db() as session:
            assert await processed_ids(session, TABLES, [e]) == {str(e.event_id)}
    finally:
        task.cancel()


async def test_a_lingering_consumer_applies_a_trickle_in_few_transactions(db, js):
    consumer = EventConsumer(
        js,
        projecting(db, TABLES, _project),
        ConsumerSpec(stream="TEST", durable="lingering", fetch_timeout=0.3, linger=0.3),
    )
    task = asyncio.create_task(consumer.run())
    try:
        events = [_event(f"t{i}") for i in range(6)]
        for e in events:  # a trickle: one every 20 ms, all within one linger
            await js.publish(subject_for(e), encode(e), headers={"Nats-Msg-Id": str(e.event_id)})
            await asyncio.sleep(0.02)
        await wait_for(lambda: consumer.stats.applied == 6, timeout=15)
        assert consumer.stats.batches <= 2
        assert await _count(db, groups) == 6
    finally:
        await consumer.stop(5)
        task.cancel()


async def test_an_event_after_a_quiet_spell_is_applied_without_lingering(db, js):
    # A linger far longer than the wait below: an event that follows nothing (the consumer's
    # last fetch found nothing) has no trickle to wait for and is applied at once.
    consumer = EventConsumer(
        js,
        projecting(db, TABLES, _project),
        ConsumerSpec(stream="TEST", durable="quiet", fetch_timeout=0.2, linger=30.0),
    )
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.sleep(0.5)  # more than one fetch_timeout: the consumer is idle
        e = _event("alone")
        await js.publish(subject_for(e), encode(e), headers={"Nats-Msg-Id": str(e.event_id)})
        await wait_for(lambda: consumer.stats.applied == 1, timeout=10)
        assert consumer.stats.batches == 1
    finally:
        await consumer.stop(5)
        task.cancel()
