"""The national Query: resolvers read only the read model, a page at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

import strawberry
from sqlalchemy import ColumnElement, select

from services.gateway.graphql.access import AccessQuery
from services.gateway.graphql.coding.panel import PanelQuery
from services.gateway.graphql.coding.query import CodingQuery
from services.gateway.graphql.coding.table1 import Table1Query
from services.gateway.graphql.connection import Connection
from services.gateway.graphql.context import Info
from services.gateway.graphql.cursor import INSTANT, TEXT
from services.gateway.graphql.exports import ExportsQuery
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.group import Group
from services.gateway.graphql.meeting import Meeting, MeetingStatus
from services.gateway.graphql.member import Member
from services.gateway.graphql.pagination import Listing, paginate
from services.gateway.graphql.region import Region
from services.gateway.graphql.research_query import ResearchQuery
from services.gateway.graphql.views.query import ViewsQuery
from services.gateway.orm import groups, meetings, members, regions

GROUPS = Listing("groups", groups, ("region", "name", "id"), (TEXT, TEXT, TEXT))
MEMBERS = Listing("members", members, ("region", "group_id", "id"), (TEXT, TEXT, TEXT))
MEETINGS = Listing("meetings", meetings, ("starts_at", "id"), (INSTANT, TEXT))

First = Annotated[int, strawberry.argument(description="Page size, at most 500.")]
After = Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@strawberry.type
class Query(
    AccessQuery, CodingQuery, ExportsQuery, PanelQuery, ResearchQuery, Table1Query, ViewsQuery
):
    @resolved("Every region seen in NATIONAL, with its freshness.")
    async def regions(self, info: Info) -> list[Region]:
        async with info.context.sessions() as session:
            rows = (await session.execute(select(regions).order_by(regions.c.id))).all()
        return [Region.from_row(row) for row in rows]

    @resolved("Core groups, ordered by region, name and id.")
    async def groups(
        self, info: Info, region: str | None = None, first: First = 50, after: After = None
    ) -> Connection[Group]:
        where: list[ColumnElement[bool]] = []
        if region is not None:
            where.append(groups.c.region == region)
        return await paginate(
            info.context.sessions,
            GROUPS,
            where,
            first,
            after,
            Group.from_row,
            guard=info.context.guard,
            region=region,
        )

    @resolved("Member enterprises (pseudonymous), by region, group, id.")
    async def members(
        self,
        info: Info,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        active_only: bool = False,
        first: First = 50,
        after: After = None,
    ) -> Connection[Member]:
        where: list[ColumnElement[bool]] = []
        if region is not None:
            where.append(members.c.region == region)
        if group_id is not None:
            where.append(members.c.group_id == str(group_id))
        if active_only:
            where.append(members.c.active.is_(True))
        return await paginate(
            info.context.sessions,
            MEMBERS,
            where,
            first,
            after,
            Member.from_row,
            guard=info.context.guard,
            region=region,
        )

    @resolved("Meetings ordered by start time; from/to are inclusive days.")
    async def meetings(
        self,
        info: Info,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        status: MeetingStatus | None = None,
        first: First = 50,
        after: After = None,
    ) -> Connection[Meeting]:
        where: list[ColumnElement[bool]] = []
        if region is not None:
            where.append(meetings.c.region == region)
        if group_id is not None:
            where.append(meetings.c.group_id == str(group_id))
        if from_ is not None:
            where.append(meetings.c.starts_at >= _day_start(from_))
        if to is not None:
            where.append(meetings.c.starts_at < _day_start(to + timedelta(days=1)))
        if status is not None:
            where.append(meetings.c.status == status.value)
        return await paginate(
            info.context.sessions,
            MEETINGS,
            where,
            first,
            after,
            Meeting.from_row,
            guard=info.context.guard,
            region=region,
        )
