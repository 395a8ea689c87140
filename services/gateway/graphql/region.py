"""GraphQL type ``Region``: one regional node as the nation sees it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Row

from services.gateway.auth.guard import Level
from services.gateway.graphql.access import require
from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import resolved


@strawberry.type(description="A regional node (PBAS) and how fresh the nation's copy of it is.")
class Region:
    id: strawberry.ID
    display_name: str = strawberry.field(
        description="The name the node announced; its id until it has announced itself."
    )
    agency: str | None
    announced_at: datetime | None
    first_seen: datetime = strawberry.field(description="Time of its earliest event seen.")
    last_event_at: datetime = strawberry.field(
        description="Time its newest event applied here occurred: the region's freshness."
    )
    events_applied: int

    @classmethod
    def from_row(cls, row: Row[Any]) -> Region:
        return cls(
            id=strawberry.ID(row.id),
            display_name=row.display_name or row.id,
            agency=row.agency or None,
            announced_at=row.announced_at,
            first_seen=row.first_seen,
            last_event_at=row.last_event_at,
            events_applied=row.events_applied,
        )

    @resolved(
        "Events the region has that NATIONAL has not copied yet (its source's lag, as of the "
        "last look, every few seconds); null if NATIONAL does not source the region."
    )
    def events_behind(self, info: Info) -> int | None:
        link = info.context.links.get(str(self.id))
        return link.events_behind if link is not None else None

    @resolved(
        "Whether the link to the region works now: NATIONAL's source heard from it in the last "
        "seconds, or its JetStream answers across the leafnode link. False: offline, and what "
        "is shown is its last-known data."
    )
    def link_active(self, info: Info) -> bool:
        link = info.context.links.get(str(self.id))
        return link is not None and link.link_active

    @resolved("Core groups founded in the region.")
    async def group_count(self, info: Info) -> int:
        _require_regional(info, str(self.id), "group count")
        return await info.context.loaders.group_count.load(str(self.id))

    @resolved("Member enterprises currently in one of its groups.")
    async def member_count(self, info: Info) -> int:
        _require_regional(info, str(self.id), "member count")
        return await info.context.loaders.member_count.load(str(self.id))

    @resolved("Meetings of the region, whatever their status.")
    async def meeting_count(self, info: Info) -> int:
        _require_regional(info, str(self.id), "meeting count")
        return await info.context.loaders.meeting_count.load(str(self.id))


def _require_regional(info: Info, region: str, what: str) -> None:
    require(info, Level.REGIONAL, region, what)
