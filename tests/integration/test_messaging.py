"""Outbox, relay and idempotent consumer against a real nats-server and real databases."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import date
from uuid import uuid4

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from shared.contracts import DecodedEvent, GroupCreated, decode, encode, make_envelope, subject_for
from shared.messaging.consumer import ConsumerSpec, EventConsumer, projecting
from shared.messaging.deadletter import REASON_HEADER
from shared.messaging.inbox import processed_ids
from shared.messaging.jetstream import ensure_deadletter_stream
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import messaging_tables
from shared.messaging.takeover import take_over
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


@pytest.mark.parametrize("ack_all", [False, True], ids=["ack-each", "ack-all"])
async def test_consumer_applies_once_dead_letters_and_keeps_going(db, js, ack_all):
    await ensure_deadletter_stream(js)
    consumer = EventConsumer(
        js,
        projecting(db, TABLES, _project),
        ConsumerSpec(
            stream="TEST",
            durable="test-consumer",
            max_attempts=2,
            fetch_timeout=0.3,
            ack_wait=2.0,
            ack_all=ack_all,
        ),
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
        # Every message ends acknowledged: with one AckAll per batch, those behind the
        # nak'ed one come again after the ack wait (as duplicates) and are acknowledged then.
        last = (await js.stream_info("TEST")).state.last_seq

        async def all_acknowledged() -> bool:
            info = await js.consumer_info("TEST", "test-consumer")
            return info.num_ack_pending == 0 and info.ack_floor.stream_seq == last

        await wait_for(all_acknowledged, timeout=20, message="every message acknowledged")
        assert await _count(db, groups) == 6
        assert consumer.stats.dead_lettered == 3
    finally:
        task.cancel()


async def _publish(js, events) -> None:
    for e in events:
        await js.publish(subject_for(e), encode(e), headers={"Nats-Msg-Id": str(e.event_id)})


async def test_an_ack_all_durable_takes_over_from_an_explicit_one_losing_and_doubling_nothing(
    db, js
):
    apply = projecting(db, TABLES, _project)
    events = [_event(f"e{i}") for i in range(10)]
    await _publish(js, events)
    # The old durable (an ack per message) applied the first six and acknowledged 1-3, 5, 6:
    # its ack floor is 3; 4 was applied and its ack lost (a crash).
    old = await js.pull_subscribe("", durable="old", stream="TEST")
    msgs = await old.fetch(6, timeout=2)
    assert await apply([decode(m.data) for m in msgs]) == 6
    for i in (0, 1, 2, 4, 5):
        await msgs[i].ack()

    async def floor(durable: str, seq: int, pending: int = 0) -> bool:
        info = await js.consumer_info("TEST", durable)
        return info.ack_floor.stream_seq == seq and info.num_ack_pending == pending

    await wait_for(lambda: floor("old", 3, pending=1), timeout=5, message="old floor at 3")
    await old.unsubscribe()

    spec = ConsumerSpec(
        stream="TEST", durable="new", fetch_timeout=0.3, ack_all=True, replaces="old"
    )
    consumer = EventConsumer(js, apply, spec)
    task = asyncio.create_task(consumer.run())
    try:
        # Delivered from 4 on (not from 1): 4, 5, 6 again as duplicates, 7-10 applied.
        await wait_for(lambda: consumer.stats.applied == 4, timeout=15)
        await wait_for(lambda: floor("new", 10), timeout=10, message="new durable acked all")
        assert consumer.stats.duplicates == 3
        assert await _count(db, groups) == 10
        with pytest.raises(NotFoundError):
            await js.consumer_info("TEST", "old")
        info = await js.consumer_info("TEST", "new")
        assert info.config.ack_policy == AckPolicy.ALL
        assert info.delivered.stream_seq == 10
    finally:
        assert await consumer.stop(5)
        task.cancel()
    # A restart continues where the new durable stands: nothing is taken over again.
    more = [_event("after the restart")]
    await _publish(js, more)
    again = EventConsumer(js, apply, spec)
    task = asyncio.create_task(again.run())
    try:
        await wait_for(lambda: again.stats.applied == 1, timeout=15)
        await wait_for(lambda: floor("new", 11), timeout=10)
        assert again.stats.duplicates == 0
        assert await _count(db, groups) == 11
    finally:
        assert await again.stop(5)
        task.cancel()


async def test_a_take_over_interrupted_before_deleting_the_old_durable_finishes_at_restart(js):
    await _publish(js, [_event(f"e{i}") for i in range(3)])
    await js.add_consumer("TEST", ConsumerConfig(durable_name="old", ack_policy=AckPolicy.EXPLICIT))
    # A crash after creating the new durable (at the old one's floor) and before the delete:
    created = ConsumerConfig(
        durable_name="new",
        ack_policy=AckPolicy.ALL,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=2,
    )
    await js.add_consumer("TEST", created)
    assert await take_over(js, "TEST", ConsumerConfig(durable_name="new"), "old") is None
    with pytest.raises(NotFoundError):
        await js.consumer_info("TEST", "old")
    info = await js.consumer_info("TEST", "new")
    assert (info.config.deliver_policy, info.config.opt_start_seq) == (
        DeliverPolicy.BY_START_SEQUENCE,
        2,
    )
    # Nothing to take over any more: nothing happens.
    assert await take_over(js, "TEST", ConsumerConfig(durable_name="new"), "old") is None
    with pytest.raises(ValueError, match="new durable name"):
        await take_over(js, "TEST", ConsumerConfig(durable_name="old"), "old")


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
