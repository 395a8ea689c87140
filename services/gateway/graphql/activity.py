"""GraphQL type ``Activity``: one CoP activity (Wenger's 11 types) observed in a meeting."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import Row

from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.group import Group
from shared.runtime.activity import ActivityType as ActivityType  # re-exported

if TYPE_CHECKING:
    from services.gateway.graphql.meeting import Meeting

LazyMeeting = Annotated["Meeting", strawberry.lazy("services.gateway.graphql.meeting")]


@strawberry.type(description="A CoP activity recorded in a meeting, with its example text.")
class Activity:
    id: strawberry.ID
    region: str
    group_id: strawberry.ID
    meeting_id: strawberry.ID
    type: ActivityType
    example: str
    coder_id: strawberry.ID | None = strawberry.field(
        description="The researcher who classified it (pseudonymous)."
    )
    meeting_starts_at: datetime = strawberry.field(
        description="The meeting's start (the activity's recording time until it is known)."
    )

    @classmethod
    def from_row(cls, row: Row[Any]) -> Activity:
        return cls(
            id=strawberry.ID(row.id),
            region=row.region,
            group_id=strawberry.ID(row.group_id),
            meeting_id=strawberry.ID(row.meeting_id),
            type=ActivityType(row.activity_type),
            example=row.example,
            coder_id=None if row.coder_id is None else strawberry.ID(row.coder_id),
            meeting_starts_at=row.meeting_starts_at,
        )

    @resolved("Pseudonymous ids of the members involved.")
    async def member_ids(self, info: Info) -> list[strawberry.ID]:
        ids = await info.context.loaders.activity_members.load(str(self.id))
        return [strawberry.ID(i) for i in ids]

    @resolved("Its core group (null until the group's event arrives).")
    async def group(self, info: Info) -> Group | None:
        row = await info.context.loaders.group.load(str(self.group_id))
        return None if row is None else Group.from_row(row)

    @resolved("Its meeting (null until one of the meeting's events arrives).")
    async def meeting(self, info: Info) -> LazyMeeting | None:
        from services.gateway.graphql.meeting import Meeting

        row = await info.context.loaders.meeting.load(str(self.meeting_id))
        return None if row is None else Meeting.from_row(row)
