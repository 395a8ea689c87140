"""Idempotent consumption: what a consumer has processed is recorded in the same
transaction as the change it caused, so a redelivered or duplicated event changes nothing.

The record does not grow with every event. Every aggregate's events carry a sequence that
increases by one with each event (:class:`~shared.contracts.Envelope`), so per aggregate one
row, ``processed_marks(aggregate_id, upto, ahead, applied_at)``, says "every event of it up
to ``upto`` is processed" (and when the mark last moved: the batch that applied its newest
event). An event arriving out of order (above a gap) is recorded by its id in
``processed_events`` and counted in the mark's ``ahead``; when the gap fills, the mark moves
past it. An event is a duplicate if its sequence is at most its aggregate's mark or its id
is recorded. An event the mark covers once its batch is applied gets no row of its own: per
event in order that is one row written to one B-tree instead of three (the row, its id and
its aggregate index), the growth of the projection's cost with history measured by
``bench/project_cost.py`` (bench/README.md).

:func:`prune_processed` deletes the rows the marks have come to cover (the gap filled) once
they are older than the retention. That is safe whatever JetStream does later: a row is
deleted only when its sequence is at or below its aggregate's mark, and the mark alone
recognises any later delivery of that event (a relay's republish past the stream's duplicate
window, a redelivery after a consumer's restart, a replay of a whole stream into the same
database). Rows above a gap that never fills (an event of the aggregate dead-lettered, or
older than the stream's history) and rows from before the marks existed are kept: their
number does not grow with the traffic of healthy aggregates. Which events were processed:
:func:`processed_ids`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, delete, null, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import Envelope
from shared.messaging.tables import MessagingTables
from shared.storage.bulk import execute_many, insert_rows
from shared.storage.chunks import chunks
from shared.storage.keys import among


class Key(NamedTuple):
    """An event's identity as the record keeps it (ids as text, converted once)."""

    event_id: str
    aggregate_id: str
    sequence: int


async def admit(
    session: AsyncSession, tables: MessagingTables, envelopes: Sequence[Envelope]
) -> list[int]:
    """Record the events of ``envelopes`` not processed before (duplicates inside the batch
    count once) and return their positions, in order. Call it in the transaction that
    applies them: a rollback forgets both."""
    keys = [Key(str(e.event_id), str(e.aggregate_id), e.sequence) for e in envelopes]
    marks, recorded = await _known(session, tables, keys)
    fresh: list[int] = []
    taken: set[tuple[str, int]] = set()
    for position, key in enumerate(keys):
        at = (key.aggregate_id, key.sequence)
        if at[1] <= marks.get(at[0], (0, 0))[0] or key.event_id in recorded or at in taken:
            continue
        taken.add(at)
        recorded.add(key.event_id)
        fresh.append(position)
    if fresh:
        await _record(session, tables, [keys[i] for i in fresh], marks)
    return fresh


async def _known(
    session: AsyncSession, tables: MessagingTables, keys: Sequence[Key]
) -> tuple[dict[str, tuple[int, int]], set[str]]:
    """The marks of the envelopes' aggregates and which of their ids are recorded, in one
    query (one round trip: a batch's fixed cost is what a trickle of events pays per
    event; the keys bound as one parameter each, :func:`shared.storage.keys.among`)."""
    m, p = tables.marks, tables.processed
    marks: dict[str, tuple[int, int]] = {}
    recorded: set[str] = set()
    aggregates = sorted({k.aggregate_id for k in keys})
    ids = [k.event_id for k in keys]
    query = union_all(
        select(m.c.aggregate_id, m.c.upto, m.c.ahead, null().label("event_id")).where(
            among(session, m.c.aggregate_id, aggregates)
        ),
        select(
            null().label("aggregate_id"),
            null().label("upto"),
            null().label("ahead"),
            p.c.event_id,
        ).where(among(session, p.c.event_id, ids)),
    )
    for row in await session.execute(query):
        if row.event_id is None:
            marks[row.aggregate_id] = (int(row.upto), int(row.ahead))
        else:
            recorded.add(row.event_id)
    return marks, recorded


async def _marks(
    session: AsyncSession, marks: Table, aggregate_ids: Iterable[str]
) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for chunk in chunks(sorted(aggregate_ids)):
        rows = await session.execute(
            select(marks.c.aggregate_id, marks.c.upto, marks.c.ahead).where(
                marks.c.aggregate_id.in_(chunk)
            )
        )
        found.update((row.aggregate_id, (row.upto, row.ahead)) for row in rows)
    return found


async def _recorded(session: AsyncSession, processed: Table, event_ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for chunk in chunks(event_ids):
        result = await session.execute(
            select(processed.c.event_id).where(processed.c.event_id.in_(chunk))
        )
        seen.update(result.scalars())
    return seen


async def _record(
    session: AsyncSession,
    tables: MessagingTables,
    fresh: list[Key],
    marks: dict[str, tuple[int, int]],
) -> None:
    """Move the marks of ``fresh``'s aggregates; record by id only the events of ``fresh``
    the moved marks do not cover (above a gap)."""
    present: dict[str, set[int]] = defaultdict(set)
    for k in fresh:
        present[k.aggregate_id].add(k.sequence)
    # Aggregates with events recorded above their mark before: fetch those sequences too.
    ahead = [a for a in present if marks.get(a, (0, 0))[1] > 0]
    for chunk in chunks(ahead):
        p = tables.processed
        m = tables.marks
        rows = await session.execute(
            select(p.c.aggregate_id, p.c.sequence)
            .join(m, m.c.aggregate_id == p.c.aggregate_id)
            .where(p.c.aggregate_id.in_(chunk), p.c.sequence > m.c.upto)
        )
        for row in rows:
            present[row.aggregate_id].add(int(row.sequence))
    now = datetime.now(UTC)
    values = []
    tops: dict[str, int] = {}
    for aggregate_id, sequences in present.items():
        upto = marks.get(aggregate_id, (0, 0))[0]
        while upto + 1 in sequences:
            upto += 1
        tops[aggregate_id] = upto
        values.append(
            {
                "aggregate_id": aggregate_id,
                "upto": upto,
                "ahead": sum(1 for s in sequences if s > upto),
                "applied_at": now,
            }
        )
    await execute_many(session, _move_marks(tables.marks, session.get_bind().dialect.name), values)
    above = [k for k in fresh if k.sequence > tops[k.aggregate_id]]
    await insert_rows(
        session,
        tables.processed,
        [
            {
                "event_id": k.event_id,
                "processed_at": now,
                "aggregate_id": k.aggregate_id,
                "sequence": k.sequence,
            }
            for k in above
        ],
    )


_STATEMENTS: dict[tuple[str, Table], Any] = {}


def _move_marks(marks: Table, dialect: str) -> Any:
    """Upsert of marks rows, executed once per row (a multi-row ``VALUES`` was compiled
    anew for every batch: 12 % of the projection's CPU)."""
    statement = _STATEMENTS.get((dialect, marks))
    if statement is None:
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(marks)
        statement = _STATEMENTS[dialect, marks] = insert.on_conflict_do_update(
            index_elements=[marks.c.aggregate_id],
            set_={
                "upto": insert.excluded.upto,
                "ahead": insert.excluded.ahead,
                "applied_at": insert.excluded.applied_at,
            },
        )
    return statement


async def processed_ids(
    session: AsyncSession, tables: MessagingTables, envelopes: Sequence[Envelope]
) -> set[str]:
    """The ids of those of ``envelopes`` that were processed (for checks and tests)."""
    marks = await _marks(session, tables.marks, {str(e.aggregate_id) for e in envelopes})
    covered = {
        str(e.event_id)
        for e in envelopes
        if e.sequence <= marks.get(str(e.aggregate_id), (0, 0))[0]
    }
    rest = [str(e.event_id) for e in envelopes if str(e.event_id) not in covered]
    return covered | await _recorded(session, tables.processed, rest)


async def prune_processed(
    session: AsyncSession, tables: MessagingTables, older_than: datetime, *, limit: int
) -> int:
    """Delete up to ``limit`` rows of ``processed_events`` processed before ``older_than``
    whose aggregate's mark covers them; return how many."""
    p, m = tables.processed, tables.marks
    covered = (
        select(p.c.event_id)
        .join(m, m.c.aggregate_id == p.c.aggregate_id)
        .where(p.c.processed_at < older_than, p.c.sequence <= m.c.upto)
        .limit(limit)
    )
    result = await session.execute(delete(p).where(p.c.event_id.in_(covered.scalar_subquery())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
