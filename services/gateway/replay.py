"""The bulk path of a rebuild: NATIONAL into a fresh read model, fast.

The live consumer pays per batch for what a rebuild needs only once: acknowledgements, the
exactly-once record read from and written to the database, the research facts of the units
a batch touched, every index kept up to date. :func:`replay` (used by
:func:`services.gateway.rebuild.rebuild_into`) does it in bulk instead:

- **reading**: an ordered consumer of NATIONAL (no acknowledgements, every message once and
  in order), up to the stream's last sequence when the rebuild started, in large batches
  of raw messages (:func:`_batches`), in this process;
- **partitions**: each region's messages go to one of ``workers`` worker processes
  (:class:`services.gateway.replay_partition.Partition`), which decode and apply them
  while this process reads on, so reading, decoding and applying use both cores; with
  SQLite each loads a file of its own, merged into the read model at the end
  (:mod:`services.gateway.replay_sqlite`);
- **duplicates**: recognised in memory by each partition by the same rule as
  :func:`shared.messaging.inbox.admit` (an aggregate's sequence or an event id seen before,
  :class:`~services.gateway.replay_partition.Seen`); the record is written once at the end,
  as pruning leaves it: one ``processed_marks`` row per aggregate, and ``processed_events``
  rows only for events above a gap, which the marks do not cover;
- **rows**: every family's projection (:func:`services.gateway.projections.project_rows`,
  the live code) on large batches, one transaction each, in the partitions;
- **indexes**: the read model's secondary indexes are dropped before the load and created
  again, from their own stored definitions, after it (:data:`READ_DURING_LOAD`: those the
  projection itself looks rows up by stay);
- **facts**: computed once at the end from the base tables (:func:`services.gateway.views
  .facts.rebuild`, which the equality tests prove equal to the facts kept batch by batch);
  with SQLite's files, each partition computes its own regions' facts in its file after its
  load (:func:`~services.gateway.views.facts.rebuild_regional`: a region's facts depend on
  its rows alone), merged with the rest, and only the nation's roll-ups and the workspace's
  facts are computed after the merge (:func:`~services.gateway.views.facts.rebuild_national`);
- **durability**: SQLite loads without fsync (``synchronous=OFF``; the file is new, so a
  crash loses only a rebuild to start again), then the file is fsynced; PostgreSQL commits
  asynchronously (``synchronous_commit=off``) until the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.gateway import replay_sqlite, snapshot
from services.gateway.replay_partition import (
    Partition,
    Raw,
    Summary,
    cpu_seconds,
    decode_message,
    load_engine,
)
from services.gateway.views import facts
from shared.messaging.jetstream import NATIONAL_STREAM

log = logging.getLogger(__name__)

# Secondary indexes the projection itself reads by (its other lookups go by primary key):
# kept while loading.
READ_DURING_LOAD = frozenset({"ix_activities_meeting_id", "ix_panel_persons_key"})
# Those the facts of a partition's regions read by (facts.rebuild_regional: responses by
# survey, the unit facts by group for the roll-ups, the workspace's codings by meeting): a
# partition with a file of its own builds only these before its facts, and drops them after.
READ_FOR_FACTS = frozenset(
    {
        "ix_survey_responses_survey_id",
        "ix_fact_meetings_group_day",
        "ix_fact_surveys_group_day",
        "ix_fact_cop_group_day",
        "ix_codings_meeting",
        "ix_coding_marks_coding",
    }
)
IDLE_CHECK = 30.0  # seconds without a batch before asking whether the stream has run out
HEARTBEAT = 120.0  # the reader's idle heartbeat, seconds (see _batches)
WORKERS = 2  # partitions (worker processes): this machine's cores


@dataclass
class Replayed:
    read: int = 0  # messages read from NATIONAL
    applied: int = 0
    duplicates: int = 0
    undecodable: int = 0  # left out (the live consumer dead-letters them)
    stream_seq: int = 0  # the last NATIONAL sequence read
    seconds: dict[str, float] = field(default_factory=dict)  # wall-clock, per phase
    cpu: dict[str, float] = field(default_factory=dict)  # CPU s of every process, per phase

    def phase(self, name: str, wall: float, cpu: float, more: float = 0.0) -> tuple[float, float]:
        """Close phase ``name`` begun at (``wall``, ``cpu``), ``more`` CPU seconds spent by
        the workers; return the next one's start."""
        now, used = time.monotonic(), cpu_seconds()
        self.seconds[name] = now - wall
        self.cpu[name] = used - cpu + more
        return now, used


Tick = Callable[[Replayed], None]


async def replay(
    js: JetStreamContext,
    target_url: str,
    first_seq: int,
    last_seq: int,
    *,
    batch_size: int = 10_000,
    workers: int = WORKERS,
    tick: Tick | None = None,
) -> Replayed:
    """Apply NATIONAL from ``first_seq`` to ``last_seq`` to the migrated, empty read model at
    ``target_url`` (see the module's doc); ``tick`` hears of each batch read."""
    batches = _batches(js, first_seq, last_seq, batch_size)
    return await load(target_url, batches, workers=workers, tick=tick)


Batch = tuple[list[Raw], int]  # messages, the last stream sequence read


async def load(
    target_url: str,
    batches: AsyncIterator[Batch],
    *,
    workers: int = WORKERS,
    tick: Tick | None = None,
) -> Replayed:
    """Apply ``batches`` to the migrated, empty read model at ``target_url``: the bulk
    path of :func:`replay` after the reading."""
    if workers < 1:
        raise ValueError(f"a rebuild needs 1 worker process or more, got {workers}")
    done = Replayed()
    database = make_url(target_url).database
    sqlite = make_url(target_url).get_backend_name() == "sqlite"
    engine = load_engine(target_url)
    try:
        async with engine.connect() as conn:
            started = (time.monotonic(), cpu_seconds())
            indexes = await _secondary_indexes(conn, sqlite)
            for name, _ in indexes:
                await conn.execute(text(f'DROP INDEX "{name}"'))
            await conn.commit()
            files = await replay_sqlite.split(conn, database or "", workers) if sqlite else []
        if files:  # a file each: its regions' facts computed there, merged below
            for_facts = [index for index in indexes if index[0] in READ_FOR_FACTS]
            parts = [Partition(url, for_facts) for url in replay_sqlite.urls(files)]
        else:
            parts = [Partition(target_url) for _ in range(workers)]
        summaries = await _partitioned(parts, batches, done, tick)
        for part in summaries:
            done.applied += part.applied
            done.duplicates += part.duplicates
            done.undecodable += part.undecodable
        started = done.phase("load", *started, more=sum(p.cpu for p in summaries))
        if files:  # part of the load: the partitions' own facts (the longest, and all CPU)
            done.seconds["of which partitions' facts"] = max(p.facts[0] for p in summaries)
            done.cpu["of which partitions' facts"] = sum(p.facts[1] for p in summaries)
        if files:
            await engine.dispose()  # closed while its file is replaced
            replay_sqlite.adopt(files[0], database or "")
        async with engine.connect() as conn:
            if files:
                await replay_sqlite.merge(conn, files[1:])
                started = done.phase("merge", *started)
            tops = [p.top for p in summaries if p.top is not None]
            if tops:
                top = decode_message(max(tops))
                assert top is not None  # a partition decoded and applied it
                async with AsyncSession(bind=conn) as session, session.begin():
                    await snapshot.record(session, [top])
            for _, create in indexes:
                await conn.execute(text(create))
            await conn.commit()
            started = done.phase("record and indexes", *started)
            async with AsyncSession(bind=conn) as session, session.begin():
                if files:
                    await facts.rebuild_national(session)
                else:
                    await facts.rebuild(session)
            done.phase("facts", *started)
            if sqlite:
                await replay_sqlite.durable(conn, database)
    finally:
        await engine.dispose()
    return done


async def _partitioned(
    parts: list[Partition], batches: AsyncIterator[Batch], done: Replayed, tick: Tick | None
) -> list[Summary]:
    """Every region's messages, in stream order, to one of ``parts`` (regions dealt out
    in the order they first appear); their summaries once all is applied."""
    workers = len(parts)
    owner: dict[str, int] = {}
    try:
        async for messages, read_upto in batches:
            split: list[list[Raw]] = [[] for _ in parts]
            for message in messages:
                region = _region(message[1])
                index = owner.get(region)
                if index is None:
                    index = owner[region] = len(owner) % workers
                split[index].append(message)
            for part, mine in zip(parts, split, strict=True):
                if mine:
                    await part.send(mine)
            done.read += len(messages)
            done.stream_seq = read_upto
            if tick is not None:
                tick(done)
        return [await part.finish() for part in parts]
    finally:
        for part in parts:
            part.stop()


def _region(subject: str) -> str:
    """The region token of ``mgn.<region>.…`` (a malformed subject: the whole of it; its
    partition then finds it undecodable)."""
    parts = subject.split(".", 2)
    return parts[1] if len(parts) > 2 else subject


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


async def _batches(
    js: JetStreamContext, first_seq: int, last_seq: int, size: int
) -> AsyncIterator[Batch]:
    """(raw messages, the last stream sequence read) of NATIONAL from ``first_seq`` to
    ``last_seq``, ``size`` at a time, from an ordered consumer (nats-py's: pushed with flow
    control, in order, the consumer re-created from the last one seen after a gap); the
    next batch is read while the caller hands on the one before. An ordered consumer reads
    ~3x cheaper than fetches of a pull consumer (nats-py waits for every message of a fetch
    with a timer of its own).

    The messages are taken from the subscription's queue, not by a callback: nats-py
    answers the server's flow control at once for a subscription with a callback (it
    counts a message as delivered when it arrives, not when the callback has it), so the
    server pushed the whole stream and nats-py dropped what went beyond the subscription's
    pending limit (256 MB) as a "slow consumer" (160,000 of 1,000,000 events in one run)
    after its ordered consumer had counted them delivered: a silent gap. Taken from the
    queue, flow control holds the server at its window (32 MB) while the partitions are
    behind. The idle heartbeat is long (:data:`HEARTBEAT`): nats-py also answers the
    server's "consumer stalled" heartbeat at once, which lets one more window through.

    Every sequence the consumer still skipped (dropped, or deleted from the stream) is
    read from the stream directly at the end (:func:`read_directly`).
    """
    if last_seq <= 0 or first_seq > last_seq:
        return
    queue: asyncio.Queue[Batch | BaseException | None] = asyncio.Queue(maxsize=2)
    pending: list[Raw] = []
    finished = False
    expected = first_seq  # the next sequence due
    skipped: list[tuple[int, int]] = []  # ranges of sequences not delivered

    async def flush(upto: int, end: bool) -> None:
        nonlocal pending, finished
        batch, pending = pending, []
        finished = end
        await queue.put((batch, upto))
        if end:
            await queue.put(None)

    async def take(msg: Msg) -> None:
        nonlocal expected
        if finished:
            return
        try:
            seq = msg.metadata.sequence.stream
            if seq > last_seq:  # came after the rebuild started: the serving gateway's part
                await flush(last_seq, True)
                return
            if seq > expected:
                skipped.append((expected, seq - 1))
            expected = max(expected, seq + 1)
            pending.append((seq, msg.subject, msg.data))
            if seq >= last_seq or len(pending) >= size:
                await flush(seq, seq >= last_seq)
        except Exception as exc:  # handed to the caller, raised there
            await queue.put(exc)

    sub = await js.subscribe(
        "",
        stream=NATIONAL_STREAM,
        ordered_consumer=True,
        idle_heartbeat=HEARTBEAT,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        config=ConsumerConfig(opt_start_seq=first_seq),
        inactive_threshold=300.0,  # gone by itself if this process dies
    )

    async def pump() -> None:
        async for msg in sub.messages:
            await take(msg)

    pumping = asyncio.create_task(pump())
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), IDLE_CHECK)
            except TimeoutError:
                # nothing more to come (the last ones deleted or dropped since the start)?
                if not finished and await _delivered_all(sub):
                    await flush(last_seq, True)
                continue
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        pumping.cancel()
        with contextlib.suppress(Exception):
            info = await sub.consumer_info()
            await js.delete_consumer(NATIONAL_STREAM, info.name)
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    if expected <= last_seq:
        skipped.append((expected, last_seq))
    async for batch in read_directly(js, skipped, last_seq, size):
        yield batch


async def read_directly(
    js: JetStreamContext, ranges: list[tuple[int, int]], last_seq: int, size: int
) -> AsyncIterator[Batch]:
    """The messages of ``ranges`` still in NATIONAL, one stream request each (those
    deleted are not there), ``size`` at a time: read late, they are applied after later
    events of their aggregates, which the projections allow (any order, the same rows)."""
    wanted = sum(last - first + 1 for first, last in ranges)
    if not wanted:
        return
    found: list[Raw] = []
    read = 0
    for first, last in ranges:
        for seq in range(first, last + 1):
            try:
                msg = await js.get_msg(NATIONAL_STREAM, seq)
            except NotFoundError:
                continue
            found.append((seq, msg.subject or "", msg.data or b""))
            read += 1
            if len(found) >= size:
                yield found, last_seq
                found = []
    log.warning(
        "rebuild: %d stream sequences the consumer skipped: %d read directly, %d deleted",
        wanted,
        read,
        wanted - read,
    )
    if found:
        yield found, last_seq


async def _delivered_all(sub: Any) -> bool:
    """The consumer has nothing more to deliver and this process nothing more to take (a
    busy server that does not answer: not yet)."""
    try:
        info = await sub.consumer_info()
    except Exception as exc:
        log.debug("rebuild: consumer info: %s", exc)
        return False
    return not info.num_pending and not sub.pending_msgs
