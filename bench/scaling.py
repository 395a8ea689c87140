"""Does a projected event cost more as history grows? Consumer CPU per event at several
sizes of one region's history and over many regions.

For each case a fresh hub nats-server gets a stream ``FEED`` (``mgn.>``) that NATIONAL
sources (as the integration tests do), the case's events are published to it, and the
gateway's own consumer projects them into a fresh read model (bench/projection.py). Printed
per case: events/s, CPU µs per event of the consumer process over the whole run and over
its last quarter (the events that meet the most history).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import nats
from nats.js.api import StreamConfig, StreamSource

from bench.events import region_events
from bench.projection import ProjectionRun, projection_rate
from deploy.natsserver import NatsServer
from shared.contracts import Envelope, encode, subject_for
from shared.messaging.jetstream import NATIONAL_STREAM


@dataclass(frozen=True)
class Case:
    label: str
    events: int
    regions: int

    def envelopes(self) -> Iterator[Envelope]:
        """One region's events in order, or many regions' interleaved (a live federation)."""
        if self.regions == 1:
            yield from region_events("r0000", self.events)
            return
        per = max(1, self.events // self.regions)
        streams = [region_events(f"r{i:04d}", per, seed=i + 1) for i in range(self.regions)]
        for batch in zip_longest(*streams):
            yield from (e for e in batch if e is not None)


def cases(sizes: list[int], regions: int, spread: int) -> list[Case]:
    found = [Case(f"{n:,} events, 1 region", n, 1) for n in sizes]
    if regions > 1:
        found.append(Case(f"{spread:,} events, {regions:,} regions", spread, regions))
    return found


async def fill(hub: NatsServer, case: Case) -> int:
    nc = await nats.connect(hub.client_url)
    try:
        js = nc.jetstream(publish_async_max_pending=1000)
        await js.add_stream(StreamConfig(name="FEED", subjects=["mgn.>"]))
        await js.add_stream(StreamConfig(name=NATIONAL_STREAM, sources=[StreamSource(name="FEED")]))
        count = 0
        for envelope in case.envelopes():
            await js.publish_async(
                subject_for(envelope),
                encode(envelope),
                headers={"Nats-Msg-Id": str(envelope.event_id)},
            )
            count += 1
        await js.publish_async_completed()
        deadline = time.monotonic() + 300
        while (await js.stream_info(NATIONAL_STREAM)).state.messages < count:
            if time.monotonic() > deadline:
                raise TimeoutError("NATIONAL did not receive every event in 300 s")
            await asyncio.sleep(0.2)
        return count
    finally:
        await nc.close()


def measure(workdir: Path, case: Case, db_url: str, batch: int) -> ProjectionRun:
    hub = NatsServer.hub(workdir / f"hub-{case.events}-{case.regions}")
    hub.start()
    try:
        count = asyncio.run(fill(hub, case))
        return asyncio.run(projection_rate(hub, db_url, count, batch))
    finally:
        hub.stop()
