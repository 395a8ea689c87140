"""New national events, fanned out to live subscribers without ever slowing the projection.

The consumer's projector is wrapped by :func:`live_projector`: once a batch's transaction
has committed (SQLAlchemy's ``after_commit``; a rolled-back batch announces nothing), its
events go to :meth:`Broadcaster.publish`, which only ``put_nowait``\\ s into each
subscriber's bounded queue. A subscriber whose queue is full is dropped on the spot
(:attr:`Subscriber.dropped` says why); its GraphQL subscription then ends with that reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import DecodedEvent
from shared.messaging.consumer import Projector

log = logging.getLogger(__name__)
QUEUE_SIZE = 1000  # events a subscriber may fall behind before it is dropped


@dataclass(frozen=True)
class LiveItem:
    event_id: str
    type: str
    region: str
    aggregate_id: str
    sequence: int
    occurred_at: datetime


@dataclass(eq=False)
class Subscriber:
    regions: frozenset[str] | None  # None: every region
    types: frozenset[str] | None  # None: every type
    queue: asyncio.Queue[LiveItem]
    dropped: str | None = None
    delivered: int = field(default=0)

    def wants(self, item: LiveItem) -> bool:
        return (self.regions is None or item.region in self.regions) and (
            self.types is None or item.type in self.types
        )

    async def items(self) -> AsyncIterator[LiveItem]:
        """Yield queued items until dropped (then :class:`SubscriberDropped`)."""
        while True:
            if self.dropped is not None:
                raise SubscriberDropped(self.dropped)
            item = await self.queue.get()
            if self.dropped is not None:
                raise SubscriberDropped(self.dropped)
            self.delivered += 1
            yield item


class SubscriberDropped(Exception):
    """A subscriber fell too far behind and was dropped; the message says by how much."""


class Broadcaster:
    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._subscribers: set[Subscriber] = set()
        self.published = 0
        self.dropped = 0

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(
        self, regions: Collection[str] | None = None, types: Collection[str] | None = None
    ) -> Subscriber:
        sub = Subscriber(
            regions=None if regions is None else frozenset(regions),
            types=None if types is None else frozenset(types),
            queue=asyncio.Queue(self.queue_size),
        )
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    def publish(self, events: Sequence[DecodedEvent]) -> None:
        """Never blocks: a full queue drops its subscriber instead of waiting for it."""
        items = [_item(e) for e in events]
        self.published += len(items)
        for sub in list(self._subscribers):
            for item in items:
                if not sub.wants(item):
                    continue
                try:
                    sub.queue.put_nowait(item)
                except asyncio.QueueFull:
                    sub.dropped = (
                        f"subscriber too slow: {self.queue_size} events were waiting for it "
                        "unread; dropped so the national projection never waits. Subscribe "
                        "again (and read faster, or filter by region/types)."
                    )
                    self._subscribers.discard(sub)
                    self.dropped += 1
                    log.warning("live subscriber dropped: %s events unread", self.queue_size)
                    # wake its reader, which is then told why
                    break


def _item(decoded: DecodedEvent) -> LiveItem:
    env = decoded.envelope
    return LiveItem(
        event_id=str(env.event_id),
        type=env.type,
        region=env.region,
        aggregate_id=str(env.aggregate_id),
        sequence=env.sequence,
        occurred_at=env.occurred_at,
    )


def live_projector(project: Projector, broadcaster: Broadcaster) -> Projector:
    """``project``, and after the transaction commits, ``broadcaster.publish`` its events."""

    async def projector(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
        await project(session, events)
        batch = list(events)

        def committed(_session: object) -> None:
            try:
                broadcaster.publish(batch)
            except Exception:  # never let the live feed fail the projection
                log.exception("live: publishing a batch failed")

        sa_event.listen(session.sync_session, "after_commit", committed, once=True)

    return projector
