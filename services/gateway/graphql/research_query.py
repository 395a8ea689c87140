"""The national research queries: CoP activities, initiatives, memos, surveys, interviews.

Each is a keyset-paginated connection (``first`` <= 500) in a stable order; ``from``/``to``
are inclusive days in Europe/Helsinki, and what belongs to a meeting (activities, memos) is
dated by the meeting's start. ``Query`` (query.py) inherits these fields.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from sqlalchemy import Column, ColumnElement, select

from services.gateway.graphql.activity import Activity, ActivityType
from services.gateway.graphql.connection import Connection
from services.gateway.graphql.context import Info
from services.gateway.graphql.cursor import DAY, INSTANT, TEXT
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.initiative import Initiative, InitiativeStatus
from services.gateway.graphql.interview import Interview
from services.gateway.graphql.memo import Memo
from services.gateway.graphql.pagination import Listing, paginate
from services.gateway.graphql.survey import Survey
from services.gateway.orm import activities, initiatives, interviews, meetings, memos, surveys
from services.gateway.views.days import instants

ACTIVITIES = Listing("activities", activities, ("meeting_starts_at", "id"), (INSTANT, TEXT))
INITIATIVES = Listing("initiatives", initiatives, ("region", "group_id", "id"), (TEXT,) * 3)
MEMOS = Listing("memos", memos, ("published_at", "meeting_id"), (INSTANT, TEXT))
SURVEYS = Listing("surveys", surveys, ("region", "group_id", "id"), (TEXT,) * 3)
INTERVIEWS = Listing("interviews", interviews, ("interviewed_on", "id"), (DAY, TEXT))

First = Annotated[int, strawberry.argument(description="Page size, at most 500.")]
After = Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")]
From = Annotated[
    date | None,
    strawberry.argument(name="from", description="First day (Europe/Helsinki, inclusive)."),
]
To = Annotated[date | None, strawberry.argument(description="Last day (inclusive).")]


def _filters(
    region: str | None,
    group_id: strawberry.ID | None,
    table_region: Column[str],
    table_group: Column[str],
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if region is not None:
        where.append(table_region == region)
    if group_id is not None:
        where.append(table_group == str(group_id))
    return where


def _period(
    column: Column[datetime], from_: date | None, to: date | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    start, end = instants(from_, to)
    if start is not None:
        where.append(column >= start)
    if end is not None:
        where.append(column < end)
    return where


@strawberry.type
class ResearchQuery:
    @resolved(
        "CoP activities by their meeting's start, then id: Wenger's table reproduced from data."
    )
    async def activities(
        self,
        info: Info,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        type: ActivityType | None = None,
        from_: From = None,
        to: To = None,
        first: First = 50,
        after: After = None,
    ) -> Connection[Activity]:
        c = activities.c
        where = _filters(region, group_id, c.region, c.group_id)
        where += _period(c.meeting_starts_at, from_, to)
        if type is not None:
            where.append(c.activity_type == type.value)
        return await paginate(
            info.context.sessions,
            ACTIVITIES,
            where,
            first,
            after,
            Activity.from_row,
            guard=info.context.guard,
            region=region,
        )

    @resolved("Joint initiatives, by region, group and id.")
    async def initiatives(
        self,
        info: Info,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        status: InitiativeStatus | None = None,
        first: First = 50,
        after: After = None,
    ) -> Connection[Initiative]:
        c = initiatives.c
        where = _filters(region, group_id, c.region, c.group_id)
        if status is not None:
            where.append(c.status == status.value)
        return await paginate(
            info.context.sessions,
            INITIATIVES,
            where,
            first,
            after,
            Initiative.from_row,
            guard=info.context.guard,
            region=region,
        )

    @resolved(
        "Published memos (the newest of each meeting), by publication time; from/to select "
        "them by their meeting's day."
    )
    async def memos(
        self,
        info: Info,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
        first: First = 50,
        after: After = None,
    ) -> Connection[Memo]:
        c = memos.c
        where = _filters(region, group_id, c.region, c.group_id)
        if from_ is not None or to is not None:
            held = select(meetings.c.id).where(*_period(meetings.c.starts_at, from_, to))
            where.append(c.meeting_id.in_(held))
        return await paginate(
            info.context.sessions,
            MEMOS,
            where,
            first,
            after,
            Memo.from_row,
            guard=info.context.guard,
            region=region,
        )

    @resolved("Feedback surveys as k-anonymous aggregates, by region, group and id.")
    async def surveys(
        self,
        info: Info,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        first: First = 50,
        after: After = None,
    ) -> Connection[Survey]:
        c = surveys.c
        where = _filters(region, group_id, c.region, c.group_id)
        return await paginate(
            info.context.sessions,
            SURVEYS,
            where,
            first,
            after,
            Survey.from_row,
            guard=info.context.guard,
            region=region,
        )

    @resolved("Growth-intention interviews, by day and id.")
    async def interviews(
        self,
        info: Info,
        region: str | None = None,
        member_id: strawberry.ID | None = None,
        first: First = 50,
        after: After = None,
    ) -> Connection[Interview]:
        c = interviews.c
        where: list[ColumnElement[bool]] = []
        if region is not None:
            where.append(c.region == region)
        if member_id is not None:
            where.append(c.member_id == str(member_id))
        return await paginate(
            info.context.sessions,
            INTERVIEWS,
            where,
            first,
            after,
            Interview.from_row,
            guard=info.context.guard,
            region=region,
        )
