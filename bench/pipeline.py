"""Benchmark: regional writes to the national read model, beside the raw ceilings.

    python bench/pipeline.py                       # SQLite and PostgreSQL (if it answers)
    python bench/pipeline.py --db sqlite --events 50000 --writes 3000

Prints, on this machine, in one run:
  1. raw ceilings: nats-py JetStream publish (500 in flight) and pull consume + ack
     (batches of 500); batched SQL upsert (500-row batches) on SQLite / PostgreSQL;
  2. national projection: N realistic events already in a region's stream, sourced into
     NATIONAL through the leafnode link, projected by the gateway's consumer (events/s);
  3. end to end through real processes (hub, leaf, groups service, gateway): regional
     writes over the groups API until visible in the national read model, at full speed
     and at a fixed rate (default 200 writes/s): writes/s and p50/p99 write-to-visible.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import nats
from sqlalchemy import select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ceilings import nats_ceiling, sql_ceiling
from bench.events import region_events
from deploy.federation import Federation
from deploy.natsserver import NatsServer
from services.gateway.consumer import national_consumer
from services.gateway.orm import members
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

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


async def _create_pg_db(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def _database(kind: str, workdir: Path, name: str, admin_url: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{name}-{uuid.uuid4().hex[:6]}.db'}"
    return await _create_pg_db(admin_url, f"mgn_bench_{name}")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# -- 2. national projection -------------------------------------------------------------


async def fill_national(hub: NatsServer, leaf: NatsServer, n: int) -> int:
    """Publish ``n`` events into the region's stream and wait until NATIONAL has them."""
    region = leaf.config.region  # type: ignore[union-attr]
    leaf_nc = await nats.connect(leaf.client_url)
    hub_nc = await nats.connect(hub.client_url)
    try:
        ljs = leaf_nc.jetstream(publish_async_max_pending=500)
        await ensure_region_stream(ljs, region)
        hjs = hub_nc.jetstream()
        await ensure_national_stream(hjs)
        await add_region_source(hjs, region)
        count = 0
        for envelope in region_events(region, n):
            await ljs.publish_async(
                subject_for(envelope),
                encode(envelope),
                headers={"Nats-Msg-Id": str(envelope.event_id)},
            )
            count += 1
        await ljs.publish_async_completed()
        deadline = time.monotonic() + 120
        while (await hjs.stream_info(NATIONAL_STREAM)).state.messages < count:
            if time.monotonic() > deadline:
                raise TimeoutError("NATIONAL did not receive every event in 120 s")
            await asyncio.sleep(0.2)
        return count
    finally:
        await leaf_nc.close()
        await hub_nc.close()


async def projection_rate(hub: NatsServer, db_url: str, n: int, batch: int) -> float:
    engine = create_engine(db_url)
    await create_schema(engine, gateway_metadata)
    nc = await nats.connect(hub.client_url)
    try:
        settings = GatewaySettings(database_url=db_url, batch_size=batch)
        consumer = national_consumer(nc.jetstream(), session_factory(engine), settings)
        consumer.spec = type(consumer.spec)(
            **{**vars(consumer.spec), "durable": f"bench-{uuid.uuid4().hex[:8]}"}
        )
        started = time.perf_counter()
        task = asyncio.create_task(consumer.run())
        while consumer.stats.applied < n:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        task.cancel()
        return n / elapsed
    finally:
        await nc.close()
        await engine.dispose()


# -- 3. end to end through real processes -------------------------------------------------


async def end_to_end(
    db_urls: dict[str, str],
    gateway_db: str,
    writes: int,
    rate: float | None,
    concurrency: int,
    federation: Federation,
) -> dict[str, float]:
    node = federation.regions["bench"]
    groups_url = node.graphql_url("groups")
    engine = create_engine(gateway_db, sqlite_immediate=False)
    sessions = session_factory(engine)
    committed: dict[str, float] = {}
    visible: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=30) as http:
        # Realistic groups: about 15 members each (a core group is a dozen or so companies).
        groups = [
            (
                await http.post(
                    groups_url,
                    json={
                        "query": 'mutation { createGroup(input: {name: "bench", '
                        'foundedOn: "2015-01-01"}) { id } }'
                    },
                )
            ).json()["data"]["createGroup"]["id"]
            for _ in range(max(1, writes // 15))
        ]
        query = "mutation($i: AddMemberInput!) { addMember(input: $i) { id } }"
        semaphore = asyncio.Semaphore(concurrency)

        async def write(i: int) -> None:
            async with semaphore:
                body = (
                    await http.post(
                        groups_url,
                        json={
                            "query": query,
                            "variables": {
                                "i": {
                                    "groupId": groups[i % len(groups)],
                                    "companyName": f"Company {i}",
                                    "employees": i % 10,
                                    "turnoverEur": 100_000,
                                    "joinedOn": "2016-01-01",
                                }
                            },
                        },
                    )
                ).json()
                committed[body["data"]["addMember"]["id"]] = time.perf_counter()

        async def watch() -> None:
            while len(visible) < writes:
                pending = [m for m in committed if m not in visible]
                if pending:
                    async with sessions() as session:
                        for start in range(0, len(pending), 500):
                            found = (
                                await session.execute(
                                    select(members.c.id).where(
                                        members.c.id.in_(pending[start : start + 500])
                                    )
                                )
                            ).scalars()
                            now = time.perf_counter()
                            for member_id in found:
                                visible[member_id] = now
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        started = time.perf_counter()
        tasks = []
        for i in range(writes):
            if rate:
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(write(i)))
        await asyncio.gather(*tasks)
        write_elapsed = time.perf_counter() - started
        await asyncio.wait_for(watcher, timeout=120)
        total_elapsed = max(visible.values()) - started
    await engine.dispose()
    latencies = [visible[m] - committed[m] for m in committed]
    return {
        "writes/s": writes / write_elapsed,
        "visible/s": writes / total_elapsed,
        "p50 ms": 1000 * _pct(latencies, 0.5),
        "p99 ms": 1000 * _pct(latencies, 0.99),
        "max ms": 1000 * max(latencies),
        "mean ms": 1000 * statistics.fmean(latencies),
    }


def run_federation(kind: str, workdir: Path, admin_url: str, port: int) -> tuple[Federation, str]:
    federation = Federation(workdir / f"fed-{kind}")
    federation.start_hub()
    if kind == "sqlite":
        gateway_db = f"sqlite:///{workdir / f'fed-{kind}' / 'gateway.db'}"
        template = None
    else:
        gateway_db = asyncio.run(_create_pg_db(admin_url, "mgn_bench_e2e_gateway"))
        for service in ("groups", "meetings"):
            asyncio.run(_create_pg_db(admin_url, f"mgn_bench_e2e_{service}"))
        template = admin_url.rsplit("/", 1)[0] + "/mgn_bench_e2e_{service}"
    federation.start_gateway(port, gateway_db)
    federation.start_region("bench", template)
    return federation, gateway_db


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--events", type=int, default=20_000, help="projection events (20000)")
    parser.add_argument("--writes", type=int, default=2_000, help="end-to-end writes (2000)")
    parser.add_argument("--rate", type=float, default=200.0, help="paced writes/s (200)")
    parser.add_argument("--concurrency", type=int, default=16, help="writes in flight (16)")
    parser.add_argument("--batch", type=int, default=500, help="gateway batch size (500)")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    args = parser.parse_args()
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    if "postgres" in kinds and not _pg_available():
        print("PostgreSQL not reachable at 127.0.0.1:5432: skipping it")
        kinds.remove("postgres")
    workdir = Path(tempfile.mkdtemp(prefix="mgn-bench-"))
    print(f"mgn pipeline benchmark  (work dir {workdir})")

    hub = NatsServer.hub(workdir / "hub")
    leaf = None
    hub.start()
    try:
        leaf = NatsServer.region("bench", workdir / "leaf", hub.leafnode_url)
        leaf.start()
        print("\n1. Raw ceilings on this machine")
        pub, con = asyncio.run(nats_ceiling(hub.client_url, args.events, b"x" * 450))
        print(f"   nats-py JetStream publish, 500 in flight ....... {pub:>9,.0f} msg/s")
        print(f"   nats-py pull consume + ack, batches of 500 ..... {con:>9,.0f} msg/s")
        for kind in kinds:
            url = asyncio.run(_database(kind, workdir, "ceiling", args.pg_admin_url))
            rate = asyncio.run(sql_ceiling(url, args.events))
            print(f"   SQL upsert, 500-row batches, {kind:<10} ....... {rate:>9,.0f} rows/s")

        print(f"\n2. National projection of {args.events:,} events (NATIONAL → read model)")
        n = asyncio.run(fill_national(hub, leaf, args.events))
        for kind in kinds:
            url = asyncio.run(_database(kind, workdir, "projection", args.pg_admin_url))
            rate = asyncio.run(projection_rate(hub, url, n, args.batch))
            print(f"   gateway consumer + projection, {kind:<10} ..... {rate:>9,.0f} events/s")
    finally:
        if leaf:
            leaf.stop()
        hub.stop()

    print(f"\n3. End to end: {args.writes:,} regional writes (groups API) → national read model")
    for kind in kinds:
        federation, gateway_db = run_federation(kind, workdir, args.pg_admin_url, _free_port())
        try:
            modes: list[tuple[str, float | None]] = [
                ("full speed", None),
                (f"{args.rate:g} writes/s", args.rate),
            ]
            for label, pace in modes:
                r = asyncio.run(
                    end_to_end({}, gateway_db, args.writes, pace, args.concurrency, federation)
                )
                print(
                    f"   {kind:<8} {label:<14} writes {r['writes/s']:>6,.0f}/s  "
                    f"visible {r['visible/s']:>6,.0f}/s  p50 {r['p50 ms']:>6.0f} ms  "
                    f"p99 {r['p99 ms']:>6.0f} ms  max {r['max ms']:>6.0f} ms"
                )
        finally:
            federation.stop()
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
