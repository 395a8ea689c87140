"""The live feed's parts (no NATS): fan-out filters, the bounded queues that drop a slow
subscriber without blocking, announcing only committed batches, limits on subscriptions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.gateway.graphql import GatewayContext, build_schema
from services.gateway.live import Broadcaster, SubscriberDropped, live_projector
from services.gateway.orm import metadata
from services.gateway.projections import project
from services.gateway.settings import GatewaySettings
from shared.contracts import DecodedEvent, GroupCreated, decode, encode, make_envelope
from shared.storage import create_engine, create_schema, session_factory

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def group_created(region: str) -> DecodedEvent:
    g = uuid.uuid4()
    event = GroupCreated(group_id=g, name="G", founded_on=date(2015, 1, 1))
    env = make_envelope(event, region=region, aggregate_id=g, sequence=1, occurred_at=T0)
    return decode(encode(env))


async def test_filters_and_a_full_queue_drops_only_that_subscriber() -> None:
    live = Broadcaster(queue_size=3)
    everything = live.subscribe()
    lappi = live.subscribe(regions={"lappi"})
    other_type = live.subscribe(types={"meetings.meeting.held"})
    live.publish([group_created("oulu") for _ in range(3)] + [group_created("lappi")])
    assert everything.dropped is not None
    assert "subscriber too slow: 3 events" in everything.dropped
    assert live.subscribers == 2  # the dropped one is gone, the others stay
    assert lappi.dropped is None
    assert lappi.queue.qsize() == 1
    assert other_type.queue.qsize() == 0
    items = everything.items()
    with pytest.raises(SubscriberDropped, match="too slow"):
        await anext(items)
    got = await anext(lappi.items())
    assert got.region == "lappi"
    assert got.type == "groups.group.created"
    assert live.dropped == 1


async def test_only_committed_batches_are_announced(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'gw.db'}")
    try:
        await create_schema(engine, metadata)
        sessions = session_factory(engine)
        live = Broadcaster()
        sub = live.subscribe()
        projector = live_projector(project, live)

        async def failing_batch() -> None:
            async with sessions() as session, session.begin():
                await projector(session, [group_created("oulu")])
                raise RuntimeError("the batch fails after projecting")

        with pytest.raises(RuntimeError):
            await failing_batch()
        assert sub.queue.qsize() == 0
        kept = group_created("oulu")
        async with sessions() as session, session.begin():
            await projector(session, [kept])
            assert sub.queue.qsize() == 0  # not before the commit
        assert (await asyncio.wait_for(sub.queue.get(), 1)).event_id == str(kept.envelope.event_id)
    finally:
        await engine.dispose()


async def test_subscriptions_obey_the_query_limits(tmp_path: Path) -> None:
    settings = GatewaySettings.model_construct(
        max_aliases=2, max_tokens=100, max_depth=10, max_cost=50_000, introspection=True
    )
    schema = build_schema(settings)
    engine = create_engine(f"sqlite:///{tmp_path / 'gw.db'}")
    try:
        context = GatewayContext.create(session_factory(engine), live=Broadcaster())
        many = "subscription { events { " + " ".join(["type"] * 200) + " } }"
        result = await schema.subscribe(many, context_value=context)
        first = await anext(aiter(result))  # type: ignore[arg-type]
        assert "more than 100 tokens" in str(first.errors)
    finally:
        await engine.dispose()
