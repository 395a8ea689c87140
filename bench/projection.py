"""National projection alone: N realistic events already in NATIONAL (sourced from a region's
stream over the leafnode link), projected by the gateway's own consumer into a fresh read
model; events/s from the first fetch to the last commit."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, replace

import nats

from bench.cpu import own_cpu_seconds
from bench.events import region_events
from deploy.natsserver import NatsServer
from services.gateway.consumer import national_consumer
from services.gateway.orm import metadata as gateway_metadata
from services.gateway.settings import GatewaySettings
from shared.contracts import encode, subject_for
from shared.messaging.jetstream import (
    NATIONAL_STREAM,
    add_region_source,
    ensure_national_stream,
    ensure_region_stream,
)
from shared.storage import create_engine, create_schema, session_factory


async def fill_national(hub: NatsServer, leaf: NatsServer, n: int) -> int:
    """Publish ``n`` events into the region's stream; wait until NATIONAL holds them all."""
    region = leaf.domain
    leaf_nc = await nats.connect(leaf.client_url)
    hub_nc = await nats.connect(hub.client_url)
    try:
        ljs = leaf_nc.jetstream(publish_async_max_pending=500)
        await ensure_region_stream(ljs, region)
        hjs = hub_nc.jetstream()
        await ensure_national_stream(hjs)
        await add_region_source(hjs, region)
        before = (await hjs.stream_info(NATIONAL_STREAM)).state.messages
        count = 0
        for envelope in region_events(region, n):
            await ljs.publish_async(
                subject_for(envelope),
                encode(envelope),
                headers={"Nats-Msg-Id": str(envelope.event_id)},
            )
            count += 1
        await ljs.publish_async_completed()
        deadline = time.monotonic() + 180
        while (await hjs.stream_info(NATIONAL_STREAM)).state.messages < before + count:
            if time.monotonic() > deadline:
                raise TimeoutError("NATIONAL did not receive every event in 180 s")
            await asyncio.sleep(0.2)
        return before + count
    finally:
        await leaf_nc.close()
        await hub_nc.close()


@dataclass(frozen=True)
class ProjectionRun:
    events_per_s: float
    cpu_us_per_event: float  # this process (consumer + projection + driver), not the servers
    last_quarter_cpu_us: float = 0.0  # the same over the run's last quarter of events

    @property
    def per_core(self) -> float:
        """events/s one core would project at this CPU cost (what the machine's load hides)."""
        return 1e6 / self.cpu_us_per_event if self.cpu_us_per_event else float("inf")


async def projection_rate(hub: NatsServer, db_url: str, n: int, batch: int) -> ProjectionRun:
    """Project the first ``n`` events of NATIONAL with a new durable."""
    settings = GatewaySettings(database_url=db_url, batch_size=batch)
    engine = create_engine(db_url, sqlite_cache_mb=settings.sqlite_cache_mb)  # as the gateway
    await create_schema(engine, gateway_metadata)
    nc = await nats.connect(hub.client_url)
    try:
        consumer = national_consumer(nc.jetstream(), session_factory(engine), settings)
        consumer.spec = replace(consumer.spec, durable=f"bench-{uuid.uuid4().hex[:8]}")
        task = asyncio.create_task(consumer.run())
        while consumer.stats.batches == 0:  # the clock starts with the first batch in hand
            if task.done():
                task.result()
            await asyncio.sleep(0.001)
        started = time.perf_counter()
        cpu_started = own_cpu_seconds()
        first = consumer.stats.applied
        quarter: tuple[int, float] | None = None
        while consumer.stats.applied + consumer.stats.dead_lettered < n:
            if task.done():
                task.result()
            if quarter is None and consumer.stats.applied >= 0.75 * n:
                quarter = (consumer.stats.applied, own_cpu_seconds())
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        cpu = own_cpu_seconds() - cpu_started
        tail = 0.0
        if quarter is not None and consumer.stats.applied > quarter[0]:
            tail = 1e6 * (own_cpu_seconds() - quarter[1]) / (consumer.stats.applied - quarter[0])
        if not await consumer.stop():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if consumer.stats.dead_lettered:
            raise RuntimeError(f"{consumer.stats.dead_lettered} events dead-lettered")
        applied = consumer.stats.applied - first
        return ProjectionRun(applied / elapsed, 1e6 * cpu / max(applied, 1), tail)
    finally:
        await nc.close()
        await engine.dispose()
