"""The gateway's live cost (issue 12 part 4): CPU per NATIONAL event and freshness at a
trickle, with nothing else of a federation running.

    python bench/trickle.py                          # 30 events/s for 60 s, SQLite
    python bench/trickle.py --rate 30,10 --seconds 60 --history 2000 --db postgresql://...
    python bench/trickle.py --env MGN_GATEWAY_BATCH_LINGER=0.25   # a gateway setting

A hub and one region's leaf nats-server, and a real gateway process (``mgn service
gateway``). ``--history`` realistic events (bench/events.py) are published and projected
first (a region with groups, members and meetings); then the gateway's CPU doing nothing is
measured for ``--idle`` seconds; then, per ``--rate``, the region's next events are
published open loop at that many events per second for ``--seconds`` (event *i* is due at
``start + i / rate``) and the run waits until the gateway has applied every one.

Per run: events and the gateway consumer's batches (from its ``/healthz``); the gateway
process's CPU (user + system, ``/proc``) per event, split into its event loop's thread and
the rest (aiosqlite's thread, with SQLite); the idle rate and the share of the run's CPU it
accounts for; and freshness: each event's store time in NATIONAL to the moment a poller
(every 20 ms) saw its aggregate's mark in the record of processed events
(``processed_marks``) committed at or past its sequence (the views are written in the same
transaction). The regional node's own cost is left out on purpose: the end-to-end runs of
``bench/pipeline.py`` cannot offer 30 writes/s on a loaded 2-core machine, so the gateway
never saw 30 events/s there (bench/README.md). Every line ends with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cpu import cpu_seconds
from bench.events import region_events
from bench.gateway_process import gateway_process
from bench.national import caught_up
from bench.report import percentile
from deploy.natsserver import NatsServer
from deploy.processes import ServiceProcess
from services.gateway.consumer import DURABLE
from services.gateway.orm import TABLES as GATEWAY_TABLES
from shared.contracts import Envelope, decode_envelope, encode, subject_for
from shared.messaging.jetstream import (
    NATIONAL_STREAM,
    add_region_source,
    ensure_national_stream,
    ensure_region_stream,
)
from shared.storage import create_engine

REGION = "oulu"
POLL_SECONDS = 0.02
_TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each thread of ``pid`` (thread id -> utime + stime)."""
    found: dict[int, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(tid)] = (int(fields[11]) + int(fields[12])) / _TICKS
    return found


@dataclass
class Run:
    rate: float
    events: int
    achieved: float  # events/s published
    batches: int
    cpu: float  # gateway process, seconds
    loop_cpu: float  # its main (event loop) thread
    window: float  # seconds from the first publish to the last event applied
    idle_per_s: float
    fresh_ms: list[float]

    def line(self) -> str:
        per = 1000 * self.cpu / max(self.events, 1)
        loop = 1000 * self.loop_cpu / max(self.events, 1)
        idle_share = self.idle_per_s * self.window / max(self.cpu, 1e-9)
        return (
            f"{self.rate:5g}/s offered, {self.achieved:5.1f}/s published: {self.events} events "
            f"in {self.batches} batches ({self.events / max(self.batches, 1):.1f}/batch); "
            f"gateway CPU {per:.2f} ms/event (event loop {loop:.2f}); idle "
            f"{1000 * self.idle_per_s:.1f} ms/s ({100 * idle_share:.0f} % of the run's); "
            f"fresh p50 {percentile(self.fresh_ms, 0.5):.0f} / p99 "
            f"{percentile(self.fresh_ms, 0.99):.0f} / max {max(self.fresh_ms, default=0):.0f} ms"
            f" ({len(self.fresh_ms)} seen) | load {_load()}"
        )


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _consumer(health_url: str) -> dict[str, int]:
    with urllib.request.urlopen(health_url, timeout=5) as response:
        return dict(json.load(response).get("consumer") or {})


class Poller:
    """Records when each aggregate's mark (``processed_marks``: every event up to ``upto``
    applied) is first seen committed at each height: an event is applied from the first
    sighting of its aggregate's mark at or past its sequence."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._seen: dict[str, list[tuple[int, float]]] = {}  # aggregate -> (upto, first seen)
        self._since: datetime | None = None
        self._stop = False

    async def run(self) -> None:
        m = GATEWAY_TABLES.marks
        while not self._stop:
            query = select(m.c.aggregate_id, m.c.upto, m.c.applied_at).where(
                m.c.applied_at.is_not(None)
            )
            if self._since is not None:
                query = query.where(m.c.applied_at >= self._since)
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
            now = time.time()
            for aggregate_id, upto, at in rows:
                heights = self._seen.setdefault(aggregate_id, [])
                if not heights or upto > heights[-1][0]:
                    heights.append((int(upto), now))
                if self._since is None or at > self._since:
                    self._since = at
            await asyncio.sleep(POLL_SECONDS)

    def applied(self, aggregate_id: str, sequence: int) -> float | None:
        """When the event ``sequence`` of ``aggregate_id`` was first seen applied."""
        for upto, seen in self._seen.get(aggregate_id, ()):
            if upto >= sequence:
                return seen
        return None

    def stop(self) -> None:
        self._stop = True


async def _publish(js: JetStreamContext, envelope: Envelope) -> None:
    await js.publish(
        subject_for(envelope), encode(envelope), headers={"Nats-Msg-Id": str(envelope.event_id)}
    )


async def _store_times(js: JetStreamContext, first: int, last: int) -> dict[tuple[str, int], float]:
    """(aggregate id, sequence) -> when NATIONAL stored the event (epoch seconds), for
    stream sequences first..last."""
    found: dict[tuple[str, int], float] = {}
    for seq in range(first, last + 1):
        msg = await js.get_msg(NATIONAL_STREAM, seq)
        if msg.data and msg.time is not None:
            envelope = decode_envelope(msg.data)
            found[str(envelope.aggregate_id), envelope.sequence] = msg.time.timestamp()
    return found


async def _consumer_exists(js: JetStreamContext, timeout: float = 60.0) -> None:
    """Wait until the gateway has created its durable (it does once it holds the lease)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await js.consumer_info(NATIONAL_STREAM, DURABLE)
            return
        except NotFoundError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def measure(
    gateway: ServiceProcess,
    engine: AsyncEngine,
    hub_js: JetStreamContext,
    leaf_js: JetStreamContext,
    events: Iterator[Envelope],
    rate: float,
    seconds: float,
    idle_seconds: float,
) -> Run:
    assert gateway.pid is not None
    pid = gateway.pid
    await _consumer_exists(hub_js)
    if not await caught_up(hub_js, timeout=300):
        raise RuntimeError("the gateway did not catch up before the run")
    idle_before = cpu_seconds([pid])
    await asyncio.sleep(idle_seconds)
    idle = (cpu_seconds([pid]) - idle_before) / idle_seconds

    n = int(rate * seconds)
    batch_before = _consumer(gateway.health_url).get("batches", 0)
    seq_before = (await hub_js.stream_info(NATIONAL_STREAM)).state.last_seq
    threads_before, cpu_before = thread_cpu(pid), cpu_seconds([pid])
    poller = Poller(engine)
    polling = asyncio.create_task(poller.run())
    started = time.perf_counter()
    for i in range(n):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await _publish(leaf_js, next(events))
    published = time.perf_counter() - started
    deadline = time.monotonic() + 120
    while (await hub_js.stream_info(NATIONAL_STREAM)).state.last_seq < seq_before + n:
        if time.monotonic() > deadline:
            raise RuntimeError("NATIONAL did not receive the run's events in 120 s")
        await asyncio.sleep(0.05)
    if not await caught_up(hub_js, timeout=120):
        raise RuntimeError("the gateway did not apply the run's events in 120 s")
    window = time.perf_counter() - started
    cpu = cpu_seconds([pid]) - cpu_before
    threads_after = thread_cpu(pid)
    loop_cpu = threads_after.get(pid, 0.0) - threads_before.get(pid, 0.0)
    await asyncio.sleep(0.2)
    poller.stop()
    await polling
    batches = _consumer(gateway.health_url).get("batches", 0) - batch_before
    stored = await _store_times(hub_js, seq_before + 1, seq_before + n)
    seen = {key: poller.applied(*key) for key in stored}
    fresh = [1000 * (applied - stored[key]) for key, applied in seen.items() if applied]
    return Run(rate, n, n / published, batches, cpu, loop_cpu, window, idle, fresh)


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="mgn-trickle-"))
    print(f"work directory: {work}")
    hub = NatsServer.hub(work / "hub")
    await hub.astart()
    leaf = NatsServer.region(REGION, work / REGION, hub.leafnode_url)
    await leaf.astart()
    db = args.db or f"sqlite:///{work / 'gateway.db'}"
    env = dict(item.split("=", 1) for item in args.env)
    gateway, _ = gateway_process(work, db, hub.client_url, env)
    engine = create_engine(db, sqlite_immediate=False)
    hub_nc = await nats.connect(hub.client_url)
    leaf_nc = await nats.connect(leaf.client_url)
    try:
        hub_js, leaf_js = hub_nc.jetstream(), leaf_nc.jetstream(publish_async_max_pending=500)
        await ensure_region_stream(leaf_js, REGION)
        await ensure_national_stream(hub_js)
        await add_region_source(hub_js, REGION)
        total = args.history + int(sum(r * args.seconds for r in args.rate)) + 1
        events = region_events(REGION, total)
        for _ in range(args.history):
            envelope = next(events)
            await leaf_js.publish_async(
                subject_for(envelope),
                encode(envelope),
                headers={"Nats-Msg-Id": str(envelope.event_id)},
            )
        await leaf_js.publish_async_completed()
        gateway.spawn()
        await asyncio.to_thread(gateway.wait_healthy, 60)
        print(f"gateway settings: {env or 'defaults'}; history {args.history} events")
        for rate in args.rate:
            result = await measure(
                gateway, engine, hub_js, leaf_js, events, rate, args.seconds, args.idle
            )
            print(result.line(), flush=True)
    finally:
        gateway.stop()
        await hub_nc.close()
        await leaf_nc.close()
        await engine.dispose()
        await leaf.astop()
        await hub.astop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", default="30", help="events/s, one or more (30,10)", type=_floats)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run")
    parser.add_argument("--history", type=int, default=2000, help="events projected first")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU measured")
    parser.add_argument("--db", default="", help="gateway database URL (default SQLite)")
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE for the gateway, repeatable"
    )
    args = parser.parse_args()
    asyncio.run(run(args))


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


if __name__ == "__main__":
    main()
