"""After a restore: square the restored databases with the events the streams already hold.

A region's restored databases are older than its stream REGION_<R>, which kept every event
the region published (and NATIONAL has, or will get, them all). So, per service:

- outbox rows the backup held as unpublished but the stream already has are marked
  published: the relay will not send them again (nothing reaches the nation twice; past the
  stream's 2-minute duplicate window, the gateway's record of applied event ids is the
  second guard);
- events in the stream that the restored outbox lacks were written after the backup: their
  changes are NOT in the databases. They are listed for the operator (type, aggregate,
  sequence, time); each aggregate they touched gets its ``version`` raised to the highest
  sequence the stream has, so the next change continues the sequence instead of repeating
  numbers the nation already holds (which it would ignore as stale);
- the services' durable consumers on the stream (the meetings and feedback replicas) are
  reset to the stream's start: the replicas replay and skip what their restored inbox holds.

This runs on an isolated nats-server over the region's store (no hub link, free loopback
ports), started and stopped here. The hub's read model is squared when ``mgn hub up``
starts next: its consumer is reset to the first NATIONAL sequence the backup did not hold
(:func:`reset_national_consumer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import tempfile
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import MetaData, Uuid, select, update

from deploy.backup import Database
from deploy.natsserver import free_port, nats_server_binary
from deploy.processes import die_with_parent
from shared.contracts import EventDecodeError, decode, parse_subject
from shared.messaging.jetstream import NATIONAL_STREAM, region_stream_name
from shared.messaging.reset import reset_consumer
from shared.storage import create_engine
from shared.storage.chunks import chunks


@dataclass(frozen=True)
class StreamEvent:
    event_id: str
    seq: int
    type: str
    aggregate_id: str
    sequence: int
    occurred_at: str


@dataclass
class ServiceReport:
    service: str
    marked_published: int = 0  # unpublished in the backup, already in the stream
    after_backup: list[StreamEvent] = field(default_factory=list)
    versions_raised: int = 0


@dataclass
class RegionReport:
    stream_found: bool
    services: dict[str, ServiceReport] = field(default_factory=dict)
    consumers_reset: list[str] = field(default_factory=list)
    undecodable: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream_found": self.stream_found,
            "undecodable_stream_messages": self.undecodable,
            "consumers_reset": self.consumers_reset,
            "services": {
                name: {
                    "marked_published": report.marked_published,
                    "versions_raised": report.versions_raised,
                    "events_after_backup": [vars(e) for e in report.after_backup],
                }
                for name, report in self.services.items()
            },
        }


async def reconcile_region(
    region: str, store_dir: Path, databases: list[Database], metadata: dict[str, MetaData]
) -> RegionReport:
    """Square ``databases`` with the region's stream in ``store_dir`` (see the module)."""
    if not (store_dir / "jetstream").exists():
        return RegionReport(stream_found=False)
    async with isolated_server(store_dir) as url:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            stream = region_stream_name(region)
            try:
                info = await js.stream_info(stream)
            except nats.js.errors.NotFoundError:
                return RegionReport(stream_found=False)
            report = RegionReport(stream_found=True)
            events: dict[str, list[StreamEvent]] = defaultdict(list)
            async for service, event in _read_stream(js, stream, region, report):
                events[service].append(event)
            for db in databases:
                report.services[db.name] = await _reconcile_service(
                    db, events.get(db.name, []), metadata[db.name]
                )
            for consumer in await _durables(js, stream):
                await reset_consumer(js, stream, consumer, seq=info.state.first_seq or 1)
                report.consumers_reset.append(consumer)
            return report
        finally:
            await nc.close()


async def _read_stream(
    js: JetStreamContext, stream: str, region: str, report: RegionReport
) -> AsyncIterator[tuple[str, StreamEvent]]:
    sub = await js.pull_subscribe(
        f"mgn.{region}.>",
        stream=stream,
        config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL),
    )
    try:
        while True:
            pending = (await sub.consumer_info()).num_pending
            if not pending:
                return
            for msg in await sub.fetch(min(int(pending), 500), timeout=5):
                try:
                    decoded = decode(msg.data, msg.subject)
                except EventDecodeError:
                    report.undecodable += 1
                    continue
                env = decoded.envelope
                yield (
                    parse_subject(msg.subject).service,
                    StreamEvent(
                        event_id=str(env.event_id),
                        seq=msg.metadata.sequence.stream,
                        type=env.type,
                        aggregate_id=str(env.aggregate_id),
                        sequence=env.sequence,
                        occurred_at=env.occurred_at.isoformat(),
                    ),
                )
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def _reconcile_service(
    db: Database, events: list[StreamEvent], metadata: MetaData
) -> ServiceReport:
    report = ServiceReport(db.name)
    if db.tables is None:
        raise ValueError(f"{db.name} has no outbox: nothing to square with the stream")
    outbox = db.tables.outbox
    engine = create_engine(db.url)
    try:
        async with engine.begin() as conn:
            rows = (await conn.execute(select(outbox.c.event_id, outbox.c.published_at))).all()
            known = {row.event_id for row in rows}
            in_stream = {event.event_id for event in events}
            resend = [
                r.event_id for r in rows if r.published_at is None and r.event_id in in_stream
            ]
            for chunk in chunks(resend, 500):
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.event_id.in_(chunk))
                    .values(published_at=datetime.now(UTC))
                )
            report.marked_published = len(resend)
            report.after_backup = [e for e in events if e.event_id not in known]
            highest: dict[str, int] = {}
            for event in report.after_backup:
                highest[event.aggregate_id] = max(
                    highest.get(event.aggregate_id, 0), event.sequence
                )
            for table in metadata.sorted_tables:
                if "id" not in table.c or "version" not in table.c:
                    continue
                if not isinstance(table.c.id.type, Uuid):
                    continue
                for aggregate, sequence in highest.items():
                    result = await conn.execute(
                        update(table)
                        .where(table.c.id == uuid.UUID(aggregate), table.c.version < sequence)
                        .values(version=sequence)
                    )
                    report.versions_raised += result.rowcount or 0
    finally:
        await engine.dispose()
    return report


async def _durables(js: JetStreamContext, stream: str) -> list[str]:
    """The durable consumers on the stream: the region's own replicas (the hub's sources
    are ephemeral)."""
    return sorted(
        info.config.durable_name
        for info in await js.consumers_info(stream)
        if info.config.durable_name
    )


@contextlib.asynccontextmanager
async def isolated_server(store_dir: Path) -> AsyncIterator[str]:
    """A nats-server over ``store_dir`` alone: loopback, free port, no leafnode link."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mgn-restore-") as tmp:
        config = Path(tmp) / "nats.conf"
        config.write_text(
            f"listen: 127.0.0.1:{port}\nserver_name: mgn-restore\n"
            f'jetstream {{ store_dir: "{store_dir}" }}\n',
            encoding="utf-8",
        )
        proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once; no wait on the loop
            [str(nats_server_binary()), "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        url = f"nats://127.0.0.1:{port}"
        try:
            await _until_ready(url, proc)
            yield url
        finally:
            await asyncio.to_thread(_stop, proc)


async def _until_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"nats-server over the region's store exited ({proc.returncode})")
        with contextlib.suppress(Exception):
            nc = await nats.connect(url, connect_timeout=1, max_reconnect_attempts=0)
            try:
                await nc.jetstream().account_info()
                return
            finally:
                await nc.close()
        if loop.time() > deadline:
            raise TimeoutError("nats-server over the region's store did not start")
        await asyncio.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# -- the hub -------------------------------------------------------------------------------

PENDING_RESET = "restore-pending.json"  # in the hub's workdir, read by `mgn hub up`


async def national_ack_floor(js: JetStreamContext, durable: str) -> int | None:
    """The gateway consumer's ack floor (every event up to it is in the read model)."""
    try:
        info = await js.consumer_info(NATIONAL_STREAM, durable)
    except Exception:
        return None
    return int(info.ack_floor.stream_seq) if info.ack_floor else 0


async def reset_national_consumer(js: JetStreamContext, durable: str, seq: int) -> bool:
    """Make the gateway's consumer deliver NATIONAL again from ``seq``; False if it does not
    exist yet (a new one starts from the beginning anyway)."""
    try:
        await js.consumer_info(NATIONAL_STREAM, durable)
    except nats.js.errors.NotFoundError:
        return False
    await reset_consumer(js, NATIONAL_STREAM, durable, seq=max(seq, 1))
    return True
