"""The snapshot an export reflects: how far into NATIONAL the read model is.

Each projected batch records the highest NATIONAL stream sequence among its events and
the time (:func:`record`, in the batch's transaction, so the position and the rows it
stands for commit together). :func:`current` reads it back; exports name it
(``X-MGN-Snapshot-*`` headers, ``mgn export``'s metadata and ``datapackage.json``).
A batch of duplicates only does not move it (nothing changed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.orm import stream_position
from shared.contracts import DecodedEvent
from shared.messaging.jetstream import NATIONAL_STREAM


@dataclass(frozen=True)
class Snapshot:
    stream: str
    sequence: int  # the last stream sequence applied (0: nothing applied yet)
    applied_at: datetime | None  # when it was applied (UTC); None: nothing applied yet

    def headers(self) -> dict[str, str]:
        """HTTP response headers naming the snapshot."""
        return {
            "X-MGN-Snapshot-Stream": self.stream,
            "X-MGN-Snapshot-Sequence": str(self.sequence),
            "X-MGN-Snapshot-Time": self.time,
        }

    @property
    def time(self) -> str:
        return "" if self.applied_at is None else self.applied_at.astimezone(UTC).isoformat()

    def as_dict(self) -> dict[str, str | int]:
        return {"stream": self.stream, "sequence": self.sequence, "time": self.time}


async def record(
    session: AsyncSession, events: Sequence[DecodedEvent], stream: str = NATIONAL_STREAM
) -> None:
    """Move the stream's position up to the highest sequence among ``events``."""
    seqs = [e.stream_seq for e in events if e.stream_seq is not None]
    if not seqs:
        return
    top, now = max(seqs), datetime.now(UTC)
    p = stream_position.c
    moved = await session.execute(
        update(stream_position)
        .where(p.stream == stream, p.last_seq < top)
        .values(last_seq=top, applied_at=now)
    )
    if moved.rowcount:  # type: ignore[attr-defined]
        return
    exists = await session.scalar(select(p.stream).where(p.stream == stream))
    if exists is None:
        await session.execute(
            insert(stream_position).values(stream=stream, last_seq=top, applied_at=now)
        )


async def current(session: AsyncSession, stream: str = NATIONAL_STREAM) -> Snapshot:
    p = stream_position.c
    row = (
        await session.execute(select(p.last_seq, p.applied_at).where(p.stream == stream))
    ).first()
    if row is None:
        return Snapshot(stream, 0, None)
    return Snapshot(stream, int(row.last_seq), row.applied_at)
