"""Replaying NATIONAL into a fresh read model while the gateway keeps serving the old one.

:func:`rebuild_into` (``mgn hub rebuild``): the new database gets the gateway's schema
(migrated to the newest revision), then the tables the gateway keeps itself and no event
carries (:data:`KEPT`: access tokens, the researchers' codebooks and codings, the panel's
region secrets) copied from the serving database, then every event NATIONAL held when the
rebuild started, applied in bulk by :func:`services.gateway.replay.replay` (an ordered
consumer of its own, deleted at the end; the gateway's own projections on large batches,
duplicates recognised by the exactly-once record's rule, indexes and research facts built
once at the end). It reports progress (events read of those in NATIONAL when it
started, rate, ETA) and returns the stream sequence it reached: the serving gateway's
durable is set back to the next one when it switches to the new database, so the events
that came during the rebuild are applied there too (each once: the record keeps duplicates
out).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nats.js import JetStreamContext
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.orm import access_tokens
from services.gateway.replay import WORKERS, Replayed, replay
from services.gateway.research.tables import (
    codebook_codes,
    codebooks,
    coding_marks,
    codings,
    panel_secrets,
)
from shared.messaging.jetstream import NATIONAL_STREAM
from shared.storage import create_engine
from shared.storage.migrations import migrate, version_table

# kept by the gateway itself, in no event: copied from the serving read model (in this order)
KEPT: tuple[Table, ...] = (
    access_tokens,
    codebooks,
    codebook_codes,
    codings,
    coding_marks,
    panel_secrets,
)
MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    rate: float  # events/s so far

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far (None before there is a rate)."""
        if self.rate <= 0:
            return None
        return max(self.total - self.done, 0) / self.rate


Report = Callable[[Progress], None]


@dataclass(frozen=True)
class Rebuilt:
    events: int  # applied into the new read model
    seconds: float
    stream_seq: int  # the last NATIONAL sequence the rebuild read (all before it too)
    kept_rows: int  # rows of KEPT copied from the serving read model
    duplicates: int = 0  # events in NATIONAL more than once, applied once
    undecodable: int = 0  # left out (the serving gateway dead-lettered them)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase of replay()
    cpu: dict[str, float] = field(default_factory=dict)  # this process's CPU s, per phase


async def prepare(target: AsyncEngine, source: AsyncEngine | None) -> int:
    """Migrate ``target`` (which must be empty) and copy the KEPT tables into it."""
    await migrate(target, MIGRATIONS, version_table=version_table("gateway"))
    copied = 0
    if source is None:
        return copied
    async with source.connect() as read, target.begin() as write:
        for table in KEPT:
            await write.execute(delete(table))
            rows = [dict(r._mapping) for r in await read.execute(select(table))]
            if rows:
                await write.execute(insert(table), rows)
                copied += len(rows)
    return copied


async def rebuild_into(
    js: JetStreamContext,
    target_url: str,
    source_url: str | None,
    *,
    batch_size: int = 10_000,
    workers: int = WORKERS,
    report: Report | None = None,
    every: float = 1.0,
) -> Rebuilt:
    """Replay NATIONAL into a fresh read model at ``target_url`` (see the module's doc)."""
    started = time.monotonic()
    target = create_engine(target_url)
    source = create_engine(source_url) if source_url else None
    try:
        kept = await prepare(target, source)
    finally:
        await target.dispose()
        if source is not None:
            await source.dispose()
    state = (await js.stream_info(NATIONAL_STREAM)).state
    total, last = state.messages, state.last_seq
    shown = 0.0

    def tick(done: Replayed) -> None:
        nonlocal shown
        now = time.monotonic()
        if report is None or (now - shown < every and done.stream_seq < last):
            return
        shown = now
        elapsed = now - started
        report(Progress(done.read, total, done.read / elapsed if elapsed else 0.0))

    done = await replay(
        js, target_url, state.first_seq, last, batch_size=batch_size, workers=workers, tick=tick
    )
    if report is not None and not done.read:
        report(Progress(0, total, 0.0))
    return Rebuilt(
        done.applied,
        time.monotonic() - started,
        last,
        kept,
        duplicates=done.duplicates,
        undecodable=done.undecodable,
        phases=dict(done.seconds),
        cpu=dict(done.cpu),
    )


def bar(p: Progress, width: int = 30) -> str:
    """``[#########.....]  45%  45,000/100,000 events  3,200/s  ETA 0:17``"""
    share = p.done / p.total if p.total else 1.0
    filled = int(width * min(share, 1.0))
    eta = "?" if p.eta is None else f"{int(p.eta) // 60}:{int(p.eta) % 60:02d}"
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {100 * share:3.0f}%  "
        f"{p.done:,}/{p.total:,} events  {p.rate:,.0f}/s  ETA {eta}"
    )
