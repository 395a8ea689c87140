"""``subscription { events(region, types) }``: new national events as they are projected.

Served over graphql-transport-ws at ``/graphql``. Each subscriber has a bounded queue
(:mod:`services.gateway.live`); one that falls too far behind is dropped and its
subscription ends with an error whose ``extensions.code`` is ``SUBSCRIBER_TOO_SLOW``.
Guarded like the rest: a researcher sees every region's events, an agency its own
region's only, the public none (its national aggregates have no per-event feed).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from graphql import GraphQLError

from services.gateway.graphql.access import require_rows
from services.gateway.graphql.context import Info
from services.gateway.live import LiveItem, SubscriberDropped

TOO_SLOW = "SUBSCRIBER_TOO_SLOW"


@strawberry.type(description="One event the national read model has just applied.")
class LiveEvent:
    event_id: strawberry.ID
    type: str = strawberry.field(description="Event type, e.g. meetings.meeting.held")
    region: str
    aggregate_id: strawberry.ID
    sequence: int
    occurred_at: datetime

    @classmethod
    def from_item(cls, item: LiveItem) -> LiveEvent:
        return cls(
            event_id=strawberry.ID(item.event_id),
            type=item.type,
            region=item.region,
            aggregate_id=strawberry.ID(item.aggregate_id),
            sequence=item.sequence,
            occurred_at=item.occurred_at,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="New national events once applied, optionally of one region and some "
        "types. A subscriber that falls too far behind is dropped (SUBSCRIBER_TOO_SLOW)."
    )
    async def events(
        self,
        info: Info,
        region: str | None = None,
        types: list[str] | None = None,
    ) -> AsyncGenerator[LiveEvent, None]:
        guard = info.context.guard
        require_rows(guard, "live events", region)
        live = info.context.live
        if live is None:
            raise GraphQLError(
                "live events are not available: this gateway runs without a consumer",
                extensions={"code": "UNAVAILABLE"},
            )
        regions = guard.full_regions()
        if region is not None:
            regions = frozenset({region})
        sub = live.subscribe(regions, None if types is None else set(types))
        try:
            async for item in sub.items():
                yield LiveEvent.from_item(item)
        except SubscriberDropped as exc:
            raise GraphQLError(str(exc), extensions={"code": TOO_SLOW}) from None
        finally:
            live.unsubscribe(sub)
