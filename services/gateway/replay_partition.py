"""One partition of a rebuild's load, in a process of its own (:mod:`services.gateway.replay`).

A rebuild splits NATIONAL by region: every region's events go, in stream order, to one
:class:`Partition`, a worker process that decodes them, recognises duplicates
(:class:`services.gateway.replay.Seen`), applies them with the gateway's own projections
(:func:`services.gateway.projections.project_rows`, one transaction per batch it is sent)
and, at the end, writes its part of the exactly-once record. A region's events touch only
that region's rows (its groups, members, meetings, surveys, interviews, its ``regions``
row; an aggregate never changes region, and the panel rekeys only the interviews of the
event's own region), so the partitions write disjoint rows and the result does not depend
on how the regions are split. Reading NATIONAL stays in the calling process: the workers
get the raw messages (pickled bytes cost ~1 µs per event; decoded pydantic objects would
cost more to pickle than to decode again).

With SQLite the partitions take turns at the file's write lock (``BEGIN IMMEDIATE``), so
what runs side by side is the decoding and each process's own Python; with PostgreSQL the
transactions run side by side too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import pickle
import queue
import resource
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any
from uuid import UUID

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.gateway.orm import TABLES
from services.gateway.projections import project_rows
from services.gateway.views import facts
from shared.contracts import DecodedEvent, Envelope, EventDecodeError, decode
from shared.storage import create_engine
from shared.storage.bulk import insert_rows

log = logging.getLogger(__name__)

Raw = tuple[int, str, bytes]  # a NATIONAL message: stream sequence, subject, data
END = b""  # sent to a worker: no more messages
AHEAD = 2  # batches a worker holds received while it applies one


class PartitionFailed(RuntimeError):
    """A worker process of the rebuild failed (its traceback is the message)."""


@dataclass(frozen=True)
class Summary:
    """What one partition did."""

    applied: int
    duplicates: int
    undecodable: int
    top: Raw | None  # the applied message with the highest stream sequence
    cpu: float  # the worker process's CPU seconds
    facts: tuple[float, float] = (0.0, 0.0)  # of them its regions' facts: wall s, CPU s


class Partition:
    """The calling process's end of one worker process."""

    def __init__(self, target_url: str, indexes: Sequence[tuple[str, str]] | None = None) -> None:
        """A worker loading into ``target_url``; ``indexes`` (name, the statement that
        creates it): given when the partition has a database of its own (SQLite's files),
        which then gets them (those the facts read by) for computing its regions' research
        facts after the load (:func:`services.gateway.views.facts.rebuild_regional`, merged
        with the others'), and drops them again (the read model creates every index once,
        after the merge)."""
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        own = None if indexes is None else list(indexes)
        self._process = context.Process(
            target=_work, args=(theirs, target_url, own), name="mgn-rebuild-partition", daemon=True
        )
        self._process.start()
        theirs.close()

    async def send(self, messages: list[Raw]) -> None:
        """Hand ``messages`` (in stream order) to the worker; waits while it is behind."""
        self._raise_if_failed()
        payload = pickle.dumps(messages, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            await asyncio.to_thread(self._conn.send_bytes, payload)
        except (BrokenPipeError, EOFError, OSError):
            self._raise_if_failed()
            raise PartitionFailed("a rebuild worker process stopped") from None

    async def finish(self) -> Summary:
        """Tell the worker the stream has ended; its summary once it has written its part."""
        with contextlib.suppress(BrokenPipeError, OSError):
            await asyncio.to_thread(self._conn.send_bytes, END)
        try:
            kind, value = await asyncio.to_thread(self._conn.recv)
        except EOFError:
            raise PartitionFailed("a rebuild worker process stopped") from None
        finally:
            await asyncio.to_thread(self._process.join, 60)
        if kind != "done":
            raise PartitionFailed(value)
        summary: Summary = value
        return summary

    def stop(self) -> None:
        """End the worker if it is still running (after a failure elsewhere)."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(10)
        self._conn.close()

    def _raise_if_failed(self) -> None:
        if self._conn.poll():
            kind, value = self._conn.recv()
            raise PartitionFailed(value if kind == "error" else f"unexpected {kind!r}")


def _work(
    conn: Connection, target_url: str, indexes: list[tuple[str, str]] | None
) -> None:  # pragma: no cover - a child process
    try:
        summary = asyncio.run(_apply(conn, target_url, indexes))
    except BaseException:
        with contextlib.suppress(Exception):
            conn.send(("error", traceback.format_exc()))
        raise
    conn.send(("done", summary))


async def _apply(
    conn: Connection, target_url: str, indexes: list[tuple[str, str]] | None
) -> Summary:
    inbox: queue.Queue[bytes] = queue.Queue(maxsize=AHEAD)
    threading.Thread(target=_receive, args=(conn, inbox), daemon=True).start()
    engine = load_engine(target_url)
    seen = Seen()
    applied = duplicates = undecodable = 0
    top: Raw | None = None
    facts_took = (0.0, 0.0)
    try:
        async with engine.connect() as db:
            while (payload := await asyncio.to_thread(inbox.get)) != END:
                messages: list[Raw] = pickle.loads(payload)
                events: list[DecodedEvent] = []
                for message in messages:
                    decoded = decode_message(message)
                    if decoded is None:
                        undecodable += 1
                    elif seen.admit(decoded.envelope):
                        events.append(decoded)
                        if top is None or message[0] > top[0]:
                            top = message
                    else:
                        duplicates += 1
                if events:
                    async with AsyncSession(bind=db) as session, session.begin():
                        await project_rows(session, events)
                applied += len(events)
            async with AsyncSession(bind=db) as session, session.begin():
                now = datetime.now(UTC)
                await insert_rows(session, TABLES.marks, seen.marks(now))
                await insert_rows(session, TABLES.processed, seen.processed(now))
            if indexes is not None:
                wall, cpu = time.monotonic(), cpu_seconds()
                await _regional_facts(db, indexes)
                facts_took = (time.monotonic() - wall, cpu_seconds() - cpu)
    finally:
        await engine.dispose()
    return Summary(applied, duplicates, undecodable, top, cpu_seconds(), facts_took)


async def _regional_facts(db: AsyncConnection, indexes: list[tuple[str, str]]) -> None:
    """This partition's own file: its indexes (what the facts read by), the facts of its
    regions (the nation's are summed after the merge), and the indexes dropped again."""
    for _, create in indexes:
        await db.execute(text(create))
    await db.commit()
    async with AsyncSession(bind=db) as session, session.begin():
        await facts.rebuild_regional(session)
    for name, _ in indexes:
        await db.execute(text(f'DROP INDEX "{name}"'))
    await db.commit()


def _receive(conn: Connection, inbox: queue.Queue[bytes]) -> None:  # pragma: no cover
    """The next batches arrive while the one before is applied."""
    while True:
        try:
            payload = conn.recv_bytes()
        except (EOFError, OSError):
            payload = END
        inbox.put(payload)
        if payload == END:
            return


def decode_message(message: Raw) -> DecodedEvent | None:
    """``message`` decoded, or None (logged) if it cannot be: the live consumer
    dead-letters such a message, a rebuild leaves it out."""
    seq, subject, data = message
    try:
        found = decode(data, subject)
    except EventDecodeError as exc:
        log.warning("rebuild: stream sequence %d left out: %s", seq, exc)
        return None
    return DecodedEvent(found.envelope, found.event, seq)


@dataclass
class Seen:
    """What a partition has applied, in memory, by :func:`shared.messaging.inbox.admit`'s
    rule: an event is a duplicate if its aggregate's sequence or its id was applied before.

    Per aggregate: ``upto`` (every sequence up to it applied) and the sequences applied
    above a gap (with their event ids: they become ``processed_events`` rows). An event's
    duplicates come from its own region, so each partition's record is complete."""

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


# -- the loading engine --------------------------------------------------------------------

SQLITE_LOAD_CACHE_MB = 256


def load_engine(url: str) -> AsyncEngine:
    """An engine for loading a fresh read model: SQLite without fsync (the file is new: a
    crash loses only a rebuild to start again; it stays in WAL mode, which every process
    of the rebuild can share), PostgreSQL committing asynchronously."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, sqlite_cache_mb=SQLITE_LOAD_CACHE_MB, pool_size=1)
        event.listen(engine.sync_engine, "connect", _sqlite_bulk_pragmas)
        return engine
    return create_engine(
        url, pool_size=1, connect_args={"server_settings": {"synchronous_commit": "off"}}
    )


def _sqlite_bulk_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process, every thread (SQLite's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
