"""Benchmark: how soon a gateway killed mid-projection (kill -9) applies events again.

    python bench/gateway_recovery.py                        # 10,000 events, SQLite, ack wait 30 s
    python bench/gateway_recovery.py --events 40000 --db postgresql://postgres@127.0.0.1/x

A region's stream holds ``--events`` events, sourced into NATIONAL; a real gateway process
(``mgn service gateway``) projects them and is SIGKILLed once ``--kill-at`` of them are
applied, then started again. Prints, from the restart: seconds until it is healthy, until it
applies its first event again, until every event is applied; and whether the events applied
after the restart came in stream order (each batch's events after the previous batch's:
the ones the dead gateway had fetched first, not newer ones). Checks nothing is missing or
applied twice. Prints the load average: numbers taken on a busy machine are slower.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import nats
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from bench.events import region_events
from bench.gateway_process import gateway_process
from deploy.natsserver import NatsServer
from services.gateway import orm as gw
from shared.contracts import encode, subject_for
from shared.messaging.inbox import processed_ids
from shared.messaging.jetstream import (
    NATIONAL_STREAM,
    add_region_source,
    ensure_national_stream,
    ensure_region_stream,
)
from shared.storage import AsyncSession, create_engine


async def run(
    events: int, kill_at: int, kill_delay: float, database_url: str, ack_wait: float
) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="mgn-recovery-"))
    hub = NatsServer.hub(work / "hub")
    await hub.astart()
    leaf = NatsServer.region("oulu", work / "oulu", hub.leafnode_url)
    await leaf.astart()
    db = database_url or f"sqlite:///{work / 'gateway.db'}"
    gateway, _ = gateway_process(work, db, hub.client_url, {"MGN_GATEWAY_ACK_WAIT": str(ack_wait)})
    engine = create_engine(db, sqlite_immediate=False)
    try:
        hub_nc, leaf_nc = await nats.connect(hub.client_url), await nats.connect(leaf.client_url)
        hub_js, leaf_js = hub_nc.jetstream(), leaf_nc.jetstream(publish_async_max_pending=500)
        await ensure_region_stream(leaf_js, "oulu")
        await ensure_national_stream(hub_js)
        await add_region_source(hub_js, "oulu")
        envelopes = list(region_events("oulu", events))
        for envelope in envelopes:
            await leaf_js.publish_async(
                subject_for(envelope),
                encode(envelope),
                headers={"Nats-Msg-Id": str(envelope.event_id)},
            )
        await leaf_js.publish_async_completed()
        # = NATIONAL's order, by what the record of processed events knows an event by
        order = {(str(e.aggregate_id), e.sequence): i for i, e in enumerate(envelopes)}

        async def sourced() -> bool:
            return (await hub_js.stream_info(NATIONAL_STREAM)).state.messages >= len(envelopes)

        await _until(sourced)

        async def applied() -> int:  # the events the read model counts, each once
            async with engine.connect() as conn:
                stmt = select(func.coalesce(func.sum(gw.regions.c.events_applied), 0))
                return int((await conn.execute(stmt)).scalar_one())

        gateway.spawn()
        await asyncio.to_thread(gateway.wait_healthy, 60)

        async def past_kill_point() -> bool:
            return await applied() >= kill_at

        await _until(past_kill_point)
        await asyncio.sleep(kill_delay)  # into the next batch: fetched, not yet committed
        assert gateway.pid is not None
        os.kill(gateway.pid, signal.SIGKILL)

        async def dead() -> bool:
            return not gateway.running

        await _until(dead)
        at_kill = await applied()
        if at_kill >= len(envelopes):
            raise SystemExit("killed too late: raise --events or lower --kill-at")

        started = time.monotonic()
        gateway.spawn()
        await asyncio.to_thread(gateway.wait_healthy, 60)
        healthy = time.monotonic() - started
        first = None
        while (done := await applied()) < len(envelopes):
            if first is None and done > at_kill:
                first = time.monotonic() - started
            await asyncio.sleep(0.02)
        finished = time.monotonic() - started
        if first is None:
            first = finished

        async with AsyncSession(engine) as session:
            processed = await processed_ids(session, gw.TABLES, envelopes)
        assert done == len(processed) == len(envelopes), "missing or applied twice"
        # Batches: each one's events must all come after the previous one's. A batch moves
        # the marks of its events' aggregates at one applied_at; an aggregate's mark last
        # moved with the batch that applied its newest event.
        m = gw.TABLES.marks.c
        async with engine.connect() as conn:
            rows = (await conn.execute(select(m.aggregate_id, m.upto, m.applied_at))).all()
        batches: dict[datetime, list[int]] = {}
        for row in rows:
            batches.setdefault(row.applied_at, []).append(order[row.aggregate_id, row.upto])
        by_time = [batches[t] for t in sorted(batches)]
        in_order = all(max(earlier) < min(later) for earlier, later in itertools.pairwise(by_time))
        await hub_nc.close()
        await leaf_nc.close()
        return {
            "applied_at_kill": at_kill,
            "healthy_s": healthy,
            "first_apply_s": first,
            "all_applied_s": finished,
            "in_stream_order": float(in_order),
        }
    finally:
        gateway.stop()
        await engine.dispose()
        await leaf.astop()
        await hub.astop()


async def _until(condition: Callable[[], Awaitable[bool]], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{condition.__name__} not reached in {timeout:g}s")
        await asyncio.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--kill-at", type=int, default=3000, help="applied events at the kill")
    parser.add_argument(
        "--kill-delay", type=float, default=0.2, help="seconds after --kill-at before the kill"
    )
    parser.add_argument("--db", default="", help="gateway database URL (default SQLite)")
    parser.add_argument("--ack-wait", type=float, default=30.0, help="MGN_GATEWAY_ACK_WAIT")
    args = parser.parse_args()
    result = asyncio.run(run(args.events, args.kill_at, args.kill_delay, args.db, args.ack_wait))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{args.events} events, ack wait {args.ack_wait:g}s, killed at "
        f"{result['applied_at_kill']:.0f} applied; after the restart:"
    )
    print(f"  healthy after          {result['healthy_s']:6.2f} s")
    print(f"  first event applied at {result['first_apply_s']:6.2f} s")
    print(f"  every event applied at {result['all_applied_s']:6.2f} s")
    print(f"  in stream order:       {'yes' if result['in_stream_order'] else 'NO'}")


if __name__ == "__main__":
    main()
