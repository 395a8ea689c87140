"""Raw ceilings on this machine: what the pipeline's parts can do without our code around them.

- nats-py JetStream publish (500 in flight) and pull consume + ack (batches of 500);
- batched SQL upsert (500-row batches) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import nats
from nats.js.api import StreamConfig
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite

from shared.storage import create_engine, create_schema


async def nats_ceiling(client_url: str, n: int, payload: bytes) -> tuple[float, float]:
    """(publish msg/s, consume msg/s) against the server at ``client_url``."""
    nc = await nats.connect(client_url)
    js = nc.jetstream(publish_async_max_pending=500)
    name = f"CEILING_{uuid.uuid4().hex[:8].upper()}"
    await js.add_stream(StreamConfig(name=name, subjects=[f"ceiling.{name}"]))
    try:
        started = time.perf_counter()
        for i in range(n):
            await js.publish_async(f"ceiling.{name}", payload, headers={"Nats-Msg-Id": str(i)})
        await js.publish_async_completed()
        publish_rate = n / (time.perf_counter() - started)

        sub = await js.pull_subscribe(f"ceiling.{name}", durable="ceiling", stream=name)
        started = time.perf_counter()
        got = 0
        while got < n:
            msgs = await sub.fetch(500, timeout=5)
            for msg in msgs:
                await msg.ack()
            got += len(msgs)
        consume_rate = n / (time.perf_counter() - started)
    finally:
        await js.delete_stream(name)
        await nc.close()
    return publish_rate, consume_rate


async def sql_ceiling(url: str, n: int) -> float:
    """Rows/s of ``INSERT ... ON CONFLICT DO UPDATE`` in 500-row batches, a commit each."""
    metadata = MetaData()
    table = Table(
        "ceiling_rows",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("name", String(200)),
        Column("n", Integer),
    )
    engine = create_engine(url)
    try:
        await create_schema(engine, metadata)
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        rows = [{"id": str(uuid.uuid4()), "name": f"row {i}", "n": i} for i in range(n)]
        started = time.perf_counter()
        for start in range(0, n, 500):
            stmt = insert(table).values(rows[start : start + 500])
            stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={"n": stmt.excluded.n})
            async with engine.begin() as conn:
                await conn.execute(stmt)
        return n / (time.perf_counter() - started)
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
        await engine.dispose()


def sqlite_path(workdir: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{workdir / name}"
