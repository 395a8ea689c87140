"""GraphQL type ``Meeting`` and its ``MeetingStatus``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Row

from services.gateway.graphql.action_item import ActionItem
from services.gateway.graphql.activity import Activity
from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.group import Group
from services.gateway.graphql.member import Member
from services.gateway.graphql.memo import Memo
from services.gateway.statuses import MeetingStatus as MeetingStatus  # re-exported

strawberry.enum(
    MeetingStatus, description="Where a meeting is in its lifecycle: planned -> held | cancelled."
)


@strawberry.type(
    description="A monthly meeting hosted by a member company. Schedule fields are null "
    "while only its holding or cancellation has arrived (startsAt then shows that time)."
)
class Meeting:
    id: strawberry.ID
    region: str
    group_id: strawberry.ID
    host_member_id: strawberry.ID | None
    theme: str | None
    starts_at: datetime
    status: MeetingStatus
    held_at: datetime | None
    attendance_count: int | None = strawberry.field(description="Members who came (if held).")
    cancelled_at: datetime | None
    cancel_reason: str | None
    recorded: bool = strawberry.field(description="Audio-recorded (with everyone's consent).")

    @classmethod
    def from_row(cls, row: Row[Any]) -> Meeting:
        host = row.host_member_id
        return cls(
            id=strawberry.ID(row.id),
            region=row.region,
            group_id=strawberry.ID(row.group_id),
            host_member_id=None if host is None else strawberry.ID(host),
            theme=row.theme,
            starts_at=row.starts_at,
            status=MeetingStatus(row.status),
            held_at=row.held_at,
            attendance_count=row.attendance_count,
            cancelled_at=row.cancelled_at,
            cancel_reason=row.cancel_reason,
            recorded=bool(row.recorded),
        )

    @resolved("Its core group (null until the group's event arrives).")
    async def group(self, info: Info) -> Group | None:
        row = await info.context.loaders.group.load(str(self.group_id))
        return None if row is None else Group.from_row(row)

    @resolved("The hosting member (null until its event arrives).")
    async def host(self, info: Info) -> Member | None:
        if self.host_member_id is None:
            return None
        row = await info.context.loaders.member.load(str(self.host_member_id))
        return None if row is None else Member.from_row(row)

    @resolved("Pseudonymous ids of the members who came.")
    async def attendee_ids(self, info: Info) -> list[strawberry.ID]:
        ids = await info.context.loaders.attendees.load(str(self.id))
        return [strawberry.ID(i) for i in ids]

    @resolved("Members who said they will come (their newest answer).")
    async def rsvp_coming(self, info: Info) -> int:
        return (await info.context.loaders.rsvp_counts.load(str(self.id)))[0]

    @resolved("Members who said they will not come (their newest answer).")
    async def rsvp_not_coming(self, info: Info) -> int:
        return (await info.context.loaders.rsvp_counts.load(str(self.id)))[1]

    @resolved("Its newest published memo, if any.")
    async def memo(self, info: Info) -> Memo | None:
        row = await info.context.loaders.memo.load(str(self.id))
        return None if row is None else Memo.from_row(row)

    @resolved("CoP activities recorded in it, by id.")
    async def activities(self, info: Info) -> list[Activity]:
        rows = await info.context.loaders.activities.load(str(self.id))
        return [Activity.from_row(row) for row in rows]

    @resolved("Follow-up actions agreed in it, by id.")
    async def actions(self, info: Info) -> list[ActionItem]:
        rows = await info.context.loaders.actions.load(str(self.id))
        return [ActionItem.from_row(row) for row in rows]
