"""Replaying NATIONAL into a fresh read model while the gateway keeps serving the old one.

:func:`rebuild_into` (``mgn hub rebuild``): the new database gets the gateway's schema
(migrated to the newest revision), then the tables the gateway keeps itself and no event
carries (:data:`KEPT`: access tokens, the researchers' codebooks and codings, the panel's
region secrets) copied from the serving database, then every event of NATIONAL projected
by the gateway's own projection through a consumer of its own (``gateway-rebuild-*``,
deleted at the end), batch by batch with the usual exactly-once record. It reports
progress (events done of those in NATIONAL when it started, rate, ETA) and returns the
stream sequence it reached: the serving gateway's durable is set back to the next one when
it switches to the new database, so the events that came during the rebuild are applied
there too (each once: the record keeps duplicates out).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from nats.js import JetStreamContext
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.consumer import consumer_spec
from services.gateway.orm import TABLES, access_tokens, view_state
from services.gateway.projections import project
from services.gateway.research.tables import (
    codebook_codes,
    codebooks,
    coding_marks,
    codings,
    panel_secrets,
)
from services.gateway.settings import GatewaySettings
from services.gateway.views.facts import STATE
from shared.messaging.consumer import EventConsumer, projecting
from shared.messaging.jetstream import NATIONAL_STREAM
from shared.storage import create_engine, session_factory
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
    stream_seq: int  # the last NATIONAL sequence the rebuild acknowledged
    kept_rows: int  # rows of KEPT copied from the serving read model


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
    batch_size: int = 500,
    report: Report | None = None,
    every: float = 1.0,
) -> Rebuilt:
    """Replay NATIONAL into a fresh read model at ``target_url`` (see the module's doc)."""
    started = time.monotonic()
    settings = GatewaySettings(database_url=target_url, batch_size=batch_size)
    target = create_engine(target_url, sqlite_cache_mb=settings.sqlite_cache_mb)
    source = create_engine(source_url) if source_url else None
    durable = f"gateway-rebuild-{uuid.uuid4().hex[:8]}"
    try:
        kept = await prepare(target, source)
        state = (await js.stream_info(NATIONAL_STREAM)).state
        total, last = state.messages, state.last_seq
        spec = replace(consumer_spec(settings), durable=durable, reclaim_on_start=False)
        sessions = session_factory(target)
        consumer = EventConsumer(js, projecting(sessions, TABLES, project), spec)
        task = asyncio.create_task(consumer.run())
        reached = 0
        try:
            while True:
                await asyncio.sleep(every)
                if task.done():
                    task.result()
                info = await js.consumer_info(NATIONAL_STREAM, durable)
                reached = info.ack_floor.stream_seq if info.ack_floor else 0
                done = total - info.num_pending - info.num_ack_pending
                if report is not None:
                    elapsed = time.monotonic() - started
                    report(Progress(done, total, done / elapsed if elapsed else 0.0))
                if reached >= last:
                    break
        finally:
            if not await consumer.stop():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await js.delete_consumer(NATIONAL_STREAM, durable)
        async with sessions() as session, session.begin():
            # the facts were kept batch by batch: nothing to rebuild at the first start
            await session.execute(
                update(view_state).where(view_state.c.name == STATE).values(needs_rebuild=False)
            )
        return Rebuilt(consumer.stats.applied, time.monotonic() - started, reached, kept)
    finally:
        await target.dispose()
        if source is not None:
            await source.dispose()


def bar(p: Progress, width: int = 30) -> str:
    """``[#########.....]  45%  45,000/100,000 events  3,200/s  ETA 0:17``"""
    share = p.done / p.total if p.total else 1.0
    filled = int(width * min(share, 1.0))
    eta = "?" if p.eta is None else f"{int(p.eta) // 60}:{int(p.eta) % 60:02d}"
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {100 * share:3.0f}%  "
        f"{p.done:,}/{p.total:,} events  {p.rate:,.0f}/s  ETA {eta}"
    )
