"""The bulk path of a rebuild: NATIONAL into a fresh read model, fast.

The live consumer pays per batch for what a rebuild needs only once: acknowledgements, the
exactly-once record read from and written to the database, the research facts of the units
a batch touched, every index kept up to date. :func:`replay` (used by
:func:`services.gateway.rebuild.rebuild_into`) does it in bulk instead:

- **reading**: an ordered consumer of NATIONAL (no acknowledgements, every message once and
  in order), up to the stream's last sequence when the rebuild started, in large batches;
  the next batch is read and decoded while the database applies the one before
  (:func:`_batches`);
- **duplicates**: recognised in memory by the same rule as
  :func:`shared.messaging.inbox.admit` (an aggregate's sequence or an event id seen before,
  :class:`Seen`); the record is written once at the end, as pruning leaves it: one
  ``processed_marks`` row per aggregate, and ``processed_events`` rows only for events above
  a gap, which the marks do not cover;
- **rows**: every family's projection (:func:`services.gateway.projections.project_rows`,
  the live code) on large batches, one transaction each;
- **indexes**: the read model's secondary indexes are dropped before the load and created
  again, from their own stored definitions, after it (:data:`READ_DURING_LOAD`: those the
  projection itself looks rows up by stay);
- **facts**: computed once at the end from the base tables (:func:`services.gateway.views
  .facts.rebuild`, which the equality tests prove equal to the facts kept batch by batch);
- **durability**: SQLite loads with its rollback journal in memory and without fsync
  (``journal_mode=MEMORY``, ``synchronous=OFF``; the file is new, so a crash loses only a
  rebuild to start again), then returns to WAL and the file is fsynced; PostgreSQL commits
  asynchronously (``synchronous_commit=off``) until the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.gateway import snapshot
from services.gateway.orm import TABLES
from services.gateway.projections import project_rows
from services.gateway.views import facts
from shared.contracts import DecodedEvent, Envelope, EventDecodeError, decode
from shared.messaging.jetstream import NATIONAL_STREAM
from shared.storage import create_engine
from shared.storage.bulk import insert_rows

log = logging.getLogger(__name__)

# Secondary indexes the projection itself reads by (its other lookups go by primary key):
# kept while loading.
READ_DURING_LOAD = frozenset({"ix_activities_meeting_id", "ix_panel_persons_key"})
SQLITE_LOAD_CACHE_MB = 256
IDLE_CHECK = 30.0  # seconds without a batch before asking whether the stream has run out


@dataclass
class Seen:
    """What a rebuild has applied, in memory, by :func:`shared.messaging.inbox.admit`'s
    rule: an event is a duplicate if its aggregate's sequence or its id was applied before.

    Per aggregate: ``upto`` (every sequence up to it applied) and the sequences applied
    above a gap (with their event ids: they become ``processed_events`` rows)."""

    upto: dict[UUID, int] = field(default_factory=dict)
    ahead: dict[UUID, dict[int, str]] = field(default_factory=dict)
    ids: set[int] = field(default_factory=set)

    def admit(self, envelope: Envelope) -> bool:
        """True (and remembered) if ``envelope`` was not applied before."""
        event_id = envelope.event_id.int
        if event_id in self.ids:
            return False
        aggregate, sequence = envelope.aggregate_id, envelope.sequence
        upto = self.upto.get(aggregate, 0)
        above = self.ahead.get(aggregate)
        if sequence <= upto or (above is not None and sequence in above):
            return False
        self.ids.add(event_id)
        if sequence != upto + 1:
            if above is None:
                above = self.ahead[aggregate] = {}
            above[sequence] = str(envelope.event_id)
            self.upto.setdefault(aggregate, 0)
            return True
        upto = sequence
        while above and upto + 1 in above:  # the gap filled: the mark moves past
            upto += 1
            del above[upto]
        if above is not None and not above:
            del self.ahead[aggregate]
        self.upto[aggregate] = upto
        return True

    def marks(self, now: datetime) -> list[dict[str, Any]]:
        """``processed_marks`` rows, one per aggregate (``now``: when they moved)."""
        return [
            {
                "aggregate_id": str(a),
                "upto": upto,
                "ahead": len(self.ahead.get(a, ())),
                "applied_at": now,
            }
            for a, upto in self.upto.items()
        ]

    def processed(self, now: datetime) -> list[dict[str, Any]]:
        """``processed_events`` rows of the events the marks do not cover."""
        return [
            {"event_id": event_id, "processed_at": now, "aggregate_id": str(a), "sequence": s}
            for a, above in self.ahead.items()
            for s, event_id in sorted(above.items())
        ]


@dataclass
class Replayed:
    read: int = 0  # messages read from NATIONAL
    applied: int = 0
    duplicates: int = 0
    undecodable: int = 0  # left out (the live consumer dead-letters them)
    stream_seq: int = 0  # the last NATIONAL sequence read
    seconds: dict[str, float] = field(default_factory=dict)  # wall-clock, per phase
    cpu: dict[str, float] = field(default_factory=dict)  # this process's CPU s, per phase

    def phase(self, name: str, wall: float, cpu: float) -> tuple[float, float]:
        """Close phase ``name`` begun at (``wall``, ``cpu``); return the next one's start."""
        now, used = time.monotonic(), _cpu_seconds()
        self.seconds[name] = now - wall
        self.cpu[name] = used - cpu
        return now, used


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process, every thread (SQLite's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


Tick = Callable[[Replayed], None]


async def replay(
    js: JetStreamContext,
    target_url: str,
    first_seq: int,
    last_seq: int,
    *,
    batch_size: int = 10_000,
    tick: Tick | None = None,
) -> Replayed:
    """Apply NATIONAL from ``first_seq`` to ``last_seq`` to the migrated, empty read model at
    ``target_url`` (see the module's doc); ``tick`` hears of each applied batch."""
    return await load(target_url, _batches(js, first_seq, last_seq, batch_size), tick=tick)


Batch = tuple[list[DecodedEvent], int, int]  # events, the last stream sequence read, undecodable


async def load(
    target_url: str, batches: AsyncIterator[Batch], *, tick: Tick | None = None
) -> Replayed:
    """Apply ``batches`` to the migrated, empty read model at ``target_url``: the bulk
    path of :func:`replay` after the reading."""
    done = Replayed()
    sqlite = make_url(target_url).get_backend_name() == "sqlite"
    engine = _load_engine(target_url, sqlite)
    seen = Seen()
    top: DecodedEvent | None = None  # the applied event with the highest stream sequence
    try:
        async with engine.connect() as conn:
            started = (time.monotonic(), _cpu_seconds())
            indexes = await _secondary_indexes(conn, sqlite)
            for name, _ in indexes:
                await conn.execute(text(f'DROP INDEX "{name}"'))
            await conn.commit()
            async for batch, read_upto, undecodable in batches:
                fresh = [d for d in batch if seen.admit(d.envelope)]
                if fresh:
                    async with AsyncSession(bind=conn) as session, session.begin():
                        await project_rows(session, fresh)
                    best = max(fresh, key=lambda d: d.stream_seq or 0)
                    if top is None or (best.stream_seq or 0) > (top.stream_seq or 0):
                        top = best
                done.read += len(batch) + undecodable
                done.applied += len(fresh)
                done.duplicates += len(batch) - len(fresh)
                done.undecodable += undecodable
                done.stream_seq = read_upto
                if tick is not None:
                    tick(done)
            started = done.phase("load", *started)
            async with AsyncSession(bind=conn) as session, session.begin():
                now = datetime.now(UTC)
                await insert_rows(session, TABLES.marks, seen.marks(now))
                await insert_rows(session, TABLES.processed, seen.processed(now))
                if top is not None:
                    await snapshot.record(session, [top])
            for _, create in indexes:
                await conn.execute(text(create))
            await conn.commit()
            started = done.phase("record and indexes", *started)
            async with AsyncSession(bind=conn) as session, session.begin():
                await facts.rebuild(session)
            done.phase("facts", *started)
            if sqlite:
                await _sqlite_durable(conn)
    finally:
        await engine.dispose()
    if sqlite:
        _fsync(make_url(target_url).database)
    return done


def _load_engine(url: str, sqlite: bool) -> AsyncEngine:
    if sqlite:
        engine = create_engine(url, sqlite_cache_mb=SQLITE_LOAD_CACHE_MB, pool_size=1)
        event.listen(engine.sync_engine, "connect", _sqlite_bulk_pragmas)
        return engine
    return create_engine(
        url, pool_size=1, connect_args={"server_settings": {"synchronous_commit": "off"}}
    )


def _sqlite_bulk_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=MEMORY")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


async def _sqlite_durable(conn: AsyncConnection) -> None:
    """Back to the gateway's settings (WAL, synchronous=NORMAL) once loaded."""
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"):
        await driver.execute(pragma)


def _fsync(path: str | None) -> None:
    if not path:
        return
    for name in (path, f"{path}-wal"):
        with contextlib.suppress(FileNotFoundError), open(name, "rb+") as f:
            os.fsync(f.fileno())


async def _secondary_indexes(conn: AsyncConnection, sqlite: bool) -> list[tuple[str, str]]:
    """(name, the statement that creates it) of every non-unique index of the read model
    but :data:`READ_DURING_LOAD`, from the database's own catalogue."""
    if sqlite:
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "ORDER BY name"
        )
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "ORDER BY indexname"
        )
    found = (await conn.execute(text(query))).all()
    await conn.commit()
    return [
        (str(name), str(sql))
        for name, sql in found
        if name not in READ_DURING_LOAD and not str(sql).upper().startswith("CREATE UNIQUE")
    ]


def _take(events: list[DecodedEvent], seq: int, subject: str, data: bytes) -> int:
    """Decode one message into ``events``; 1 if it could not be decoded (left out), else 0."""
    try:
        decoded = decode(data, subject)
    except EventDecodeError as exc:
        log.warning("rebuild: stream sequence %d left out: %s", seq, exc)
        return 1
    events.append(DecodedEvent(decoded.envelope, decoded.event, seq))
    return 0


async def _batches(
    js: JetStreamContext, first_seq: int, last_seq: int, size: int
) -> AsyncIterator[Batch]:
    """(decoded events, the last stream sequence among them, how many were undecodable) of
    NATIONAL from ``first_seq`` to ``last_seq``, ``size`` at a time, from an ordered consumer
    (nats-py's: pushed with flow control, every message once and in order, the consumer
    re-created from the last one seen after a gap); the next batch is read and decoded while
    the caller applies the one before. An ordered consumer reads ~3x cheaper than fetches of
    a pull consumer (nats-py waits for every message of a fetch with a timer of its own)."""
    if last_seq <= 0 or first_seq > last_seq:
        return
    queue: asyncio.Queue[Batch | BaseException | None] = asyncio.Queue(maxsize=2)
    pending: list[DecodedEvent] = []
    bad = 0
    finished = False

    async def flush(upto: int, end: bool) -> None:
        nonlocal pending, bad, finished
        batch, pending, undecodable, bad = pending, [], bad, 0
        finished = end
        await queue.put((batch, upto, undecodable))
        if end:
            await queue.put(None)

    async def take(msg: Msg) -> None:
        if finished:
            return
        try:
            seq = msg.metadata.sequence.stream
            if seq > last_seq:  # came after the rebuild started: the serving gateway's part
                await flush(last_seq, True)
                return
            nonlocal bad
            bad += _take(pending, seq, msg.subject, msg.data)
            if seq >= last_seq or len(pending) >= size:
                await flush(seq, seq >= last_seq)
        except Exception as exc:  # handed to the caller, raised there
            await queue.put(exc)

    sub = await js.subscribe(
        "",
        stream=NATIONAL_STREAM,
        cb=take,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        config=ConsumerConfig(opt_start_seq=first_seq),
        inactive_threshold=300.0,  # gone by itself if this process dies
    )
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), IDLE_CHECK)
            except TimeoutError:
                # the last sequence deleted since the start, and nothing more to come?
                if not finished and await _ran_out(js, sub, last_seq):
                    await flush(last_seq, True)
                continue
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        with contextlib.suppress(Exception):
            info = await sub.consumer_info()
            await js.delete_consumer(NATIONAL_STREAM, info.name)
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def _ran_out(js: JetStreamContext, sub: Any, last_seq: int) -> bool:
    """The message at ``last_seq`` is gone from NATIONAL and the consumer has nothing more
    to deliver (a busy server that does not answer: not yet)."""
    try:
        await js.get_msg(NATIONAL_STREAM, last_seq)
        return False
    except NotFoundError:
        pass
    except Exception as exc:
        log.debug("rebuild: checking the stream's end: %s", exc)
        return False
    try:
        info = await sub.consumer_info()
    except Exception as exc:
        log.debug("rebuild: consumer info: %s", exc)
        return False
    return not info.num_pending and not sub.pending_msgs
