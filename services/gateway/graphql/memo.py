"""GraphQL type ``Memo``: a facilitator's published summary of a meeting."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import Row

from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.group import Group

if TYPE_CHECKING:
    from services.gateway.graphql.meeting import Meeting

LazyMeeting = Annotated["Meeting", strawberry.lazy("services.gateway.graphql.meeting")]


@strawberry.type(description="The newest published memo of a meeting: its main conclusions.")
class Memo:
    meeting_id: strawberry.ID
    region: str
    group_id: strawberry.ID
    summary: str
    published_at: datetime
    facilitator_id: strawberry.ID | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Memo:
        facilitator = row.facilitator_id
        return cls(
            meeting_id=strawberry.ID(row.meeting_id),
            region=row.region,
            group_id=strawberry.ID(row.group_id),
            summary=row.summary,
            published_at=row.published_at,
            facilitator_id=None if facilitator is None else strawberry.ID(facilitator),
        )

    @resolved("Its core group (null until the group's event arrives).")
    async def group(self, info: Info) -> Group | None:
        row = await info.context.loaders.group.load(str(self.group_id))
        return None if row is None else Group.from_row(row)

    @resolved("Its meeting (null until one of the meeting's events arrives).")
    async def meeting(self, info: Info) -> LazyMeeting | None:
        from services.gateway.graphql.meeting import Meeting

        row = await info.context.loaders.meeting.load(str(self.meeting_id))
        return None if row is None else Meeting.from_row(row)
