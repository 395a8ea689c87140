"""The research views as Query fields, each ONE SQL statement over the summary tables
(services/gateway/views keeps them), never a scan of the raw read model per request.

Filters: ``region``, ``groupId``, a period (``from``/``to``: inclusive days, matched by
month or year as the view is kept), the activity type. Results that can be large are keyset
connections (``first`` <= 500); the others have at most a row per month, year, status or
coder pair. National answers of the CoP table, meetings and feedback read the views'
national rows (``region = '*'``), kept beside the regions' (views/refresh.py).
``Query`` (graphql/query.py) inherits these fields.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import ColumnElement, Row, Select, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import PageInfo

from services.gateway.auth.guard import Level
from services.gateway.graphql import cursor
from services.gateway.graphql.access import require
from services.gateway.graphql.activity import ActivityType
from services.gateway.graphql.connection import Connection, Edge
from services.gateway.graphql.context import Info
from services.gateway.graphql.errors import bad_argument
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.initiative import InitiativeStatus
from services.gateway.graphql.pagination import Listing, check_first, paginate
from services.gateway.graphql.views import types as t
from services.gateway.orm import (
    view_coding,
    view_group_health,
    view_group_months,
    view_host_rotation,
    view_region_summary,
)
from services.gateway.views import queries

T = TypeVar("T")
TEXT = cursor.TEXT
# per-group rows are aggregates: agencies see every region's, the public none (REGIONAL)
GROUP_MONTHS = Listing(
    "groupMonths", view_group_months, ("group_id", "month"), (TEXT, TEXT), Level.REGIONAL
)
HOSTS = Listing(
    "hostRotation", view_host_rotation, ("region", "group_id"), (TEXT, TEXT), Level.REGIONAL
)
HEALTH = Listing(
    "groupHealth", view_group_health, ("region", "group_id"), (TEXT, TEXT), Level.REGIONAL
)

First = Annotated[int, strawberry.argument(description="Page size, at most 500.")]
After = Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")]
From = Annotated[date | None, strawberry.argument(name="from", description="First day.")]
To = Annotated[date | None, strawberry.argument(description="Last day (inclusive).")]
GroupId = Annotated[strawberry.ID | None, strawberry.argument(name="groupId")]


def _aggregate(info: Info, region: str | None, what: str) -> None:
    """A view's figures: national totals need NATIONAL (every role), one region's need
    REGIONAL for it (agencies and researchers; the public sees national totals only)."""
    require(info, Level.NATIONAL if region is None else Level.REGIONAL, region, what)


def _check_period(from_: date | None, to: date | None) -> None:
    if from_ is not None and to is not None and from_ > to:
        raise bad_argument(
            "PERIOD_REVERSED", "from", f"from={from_} is after to={to}: give from <= to."
        )


async def _all(sessions: async_sessionmaker[AsyncSession], query: Select[Any]) -> list[Row[Any]]:
    async with sessions() as session:
        return list((await session.execute(query)).all())


@strawberry.type
class ViewsQuery:
    @resolved(
        "The CoP activity table (the case study's Table 1, from data): for each Wenger type "
        "and year, activities, meetings and groups with such activities, and an example."
    )
    async def cop_activity_table(
        self,
        info: Info,
        region: str | None = None,
        type: ActivityType | None = None,
        from_: From = None,
        to: To = None,
    ) -> list[t.CopCell]:
        _aggregate(info, region, "the CoP activity table")
        _check_period(from_, to)
        # example texts are the regions' own words: only for who sees the region in full
        examples = info.context.guard.reads_texts(region)
        kind = None if type is None else type.value
        query = queries.cop_table(region, examples, kind, from_, to)
        return [
            t.CopCell(
                activity_type=ActivityType(r.activity_type),
                year=r.year,
                activities=r.activities,
                meetings=r.meetings,
                groups=r.groups,
                example=r.example,
            )
            for r in await _all(info.context.sessions, query)
        ]

    @resolved("Meetings per month (held, cancelled, attendance), over a region or all.")
    async def meetings_over_time(
        self, info: Info, region: str | None = None, from_: From = None, to: To = None
    ) -> list[t.MonthMeetings]:
        _aggregate(info, region, "meetings over time")
        _check_period(from_, to)
        query = queries.meetings_over_time(region, from_, to)
        return [
            t.MonthMeetings(
                month=r.month,
                groups_meeting=r.groups_meeting,
                meetings_held=r.meetings_held,
                meetings_cancelled=r.meetings_cancelled,
                attendees=r.attendees,
                expected=r.expected,
            )
            for r in await _all(info.context.sessions, query)
        ]

    @resolved("Meetings per group per month with the attendance rate, by group and month.")
    async def group_months(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        from_: From = None,
        to: To = None,
        first: First = 100,
        after: After = None,
    ) -> Connection[t.GroupMonth]:
        v = view_group_months.c
        _check_period(from_, to)
        where = queries.months(v.month, from_, to)
        if region is not None:
            where.append(v.region == region)
        if group_id is not None:
            where.append(v.group_id == str(group_id))
        return await paginate(
            info.context.sessions,
            GROUP_MONTHS,
            where,
            first,
            after,
            t.GroupMonth.from_row,
            guard=info.context.guard,
            region=region,
        )

    @resolved("Retention of members per calendar year, over a region or all.")
    async def retention(
        self, info: Info, region: str | None = None, from_: From = None, to: To = None
    ) -> list[t.RetentionYear]:
        _aggregate(info, region, "retention")
        _check_period(from_, to)
        query = queries.retention(region, from_, to)
        return [
            t.RetentionYear(
                year=r.year,
                members_start=r.members_start,
                joined=r.joined,
                left=r.left,
                retained=r.retained,
                members_end=r.members_end,
            )
            for r in await _all(info.context.sessions, query)
        ]

    @resolved("Host rotation per group: distinct hosts and the days between a member's hostings.")
    async def host_rotation(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        first: First = 100,
        after: After = None,
    ) -> Connection[t.HostRotation]:
        v = view_host_rotation.c
        where = _group_filters(v.region, v.group_id, region, group_id)
        return await paginate(
            info.context.sessions,
            HOSTS,
            where,
            first,
            after,
            t.HostRotation.from_row,
            guard=info.context.guard,
            region=region,
        )

    @resolved(
        "Feedback per month of closing: response rate, mean ratings, recommend score; only "
        "surveys closed with at least 3 responses count (k-anonymity)."
    )
    async def feedback_trend(
        self, info: Info, region: str | None = None, from_: From = None, to: To = None
    ) -> list[t.FeedbackMonth]:
        _aggregate(info, region, "the feedback trend")
        _check_period(from_, to)
        query = queries.feedback_trend(region, from_, to)
        return [
            t.FeedbackMonth(
                month=r.month,
                surveys=r.surveys,
                surveys_withheld=r.surveys_withheld,
                invited=r.invited,
                responses=r.responses,
                _overall=r.overall_sum,
                _usefulness=r.usefulness_sum,
                _recommend=r.recommend_sum,
                _promoters=r.promoters,
                _detractors=r.detractors,
            )
            for r in await _all(info.context.sessions, query)
        ]

    @resolved("Initiatives by status, with the members who joined them.")
    async def initiative_statuses(
        self, info: Info, region: str | None = None
    ) -> list[t.InitiativeStatusCount]:
        _aggregate(info, region, "initiative statuses")
        query = queries.initiative_statuses(region)
        return [
            t.InitiativeStatusCount(
                status=InitiativeStatus(r.status),
                initiatives=r.initiatives,
                members=r.members,
                joinings=r.joinings,
            )
            for r in await _all(info.context.sessions, query)
        ]

    @resolved(
        "Group health: attendance streaks, churn, share of members who hosted, feedback trend."
    )
    async def group_health(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        first: First = 100,
        after: After = None,
    ) -> Connection[t.GroupHealth]:
        v = view_group_health.c
        where = _group_filters(v.region, v.group_id, region, group_id)
        return await paginate(
            info.context.sessions,
            HEALTH,
            where,
            first,
            after,
            t.GroupHealth.from_row,
            guard=info.context.guard,
            region=region,
        )

    @resolved(
        "Coding agreement: Cohen's kappa per pair of researchers who classified the same "
        "meetings, overall and per Wenger type (unit: meeting x type present or not); "
        "pairs by (coderA, coderB), a page at a time."
    )
    async def coding_agreement(
        self,
        info: Info,
        region: str | None = None,
        type: ActivityType | None = None,
        first: First = 100,
        after: After = None,
    ) -> Connection[t.CoderAgreement]:
        check_first(first)
        # coder ids are researchers' pseudonyms, per pair: REGIONAL even for the nation
        require(info, Level.REGIONAL, region, "coding agreement")
        v = view_coding.c
        where = queries.coding_where(region, None if type is None else type.value)
        query = queries.coding(region, None if type is None else type.value)
        if after is not None:
            key = cursor.decode("codingAgreement", after, (TEXT, TEXT))
            bound = [
                literal(value, col.type)
                for value, col in zip(key, (v.coder_a, v.coder_b), strict=True)
            ]
            query = query.where(tuple_(v.coder_a, v.coder_b) > tuple_(*bound))
        # every pair has a row per type (compute.py writes all 11): a page is a row count
        per_pair = 1 if type is not None else len(ActivityType)
        query = query.limit((first + 1) * per_pair)
        pairs: dict[tuple[str, str], list[t.TypeAgreement]] = defaultdict(list)
        for r in await _all(info.context.sessions, query):
            pairs[(r.coder_a, r.coder_b)].append(
                t.TypeAgreement(
                    activity_type=ActivityType(r.activity_type),
                    both=r.both,
                    a_only=r.a_only,
                    b_only=r.b_only,
                    neither=r.neither,
                )
            )
        found = list(pairs.items())
        has_next = len(found) > first
        edges = [
            Edge(
                cursor=cursor.encode("codingAgreement", [a, b]),
                node=t.CoderAgreement(
                    coder_a=strawberry.ID(a), coder_b=strawberry.ID(b), per_type=types
                ),
            )
            for (a, b), types in found[:first]
        ]
        count = select(func.count()).select_from(
            select(v.coder_a, v.coder_b).where(*where).distinct().subquery()
        )

        async def total() -> int:
            async with info.context.sessions() as session:
                return int(await session.scalar(count) or 0)

        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            _count=total,
        )

    @resolved("Per-region research summary with freshness, by region id (a page at a time).")
    async def region_overview(
        self, info: Info, first: First = 100, after: After = None
    ) -> Connection[t.RegionOverview]:
        require(info, Level.REGIONAL, None, "the per-region overview")
        v = view_region_summary.c
        return await keyset(
            info.context.sessions,
            "regionOverview",
            queries.region_overview(),
            (v.region,),
            (TEXT,),
            select(func.count()).select_from(view_region_summary),
            first,
            after,
            t.RegionOverview.from_row,
        )


def _group_filters(
    region_col: Any, group_col: Any, region: str | None, group_id: strawberry.ID | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if region is not None:
        where.append(region_col == region)
    if group_id is not None:
        where.append(group_col == str(group_id))
    return where


async def keyset(
    sessions: async_sessionmaker[AsyncSession],
    kind: str,
    query: Select[Any],
    columns: Sequence[Any],
    parsers: Sequence[cursor.Parser],
    count: Select[Any],
    first: int,
    after: str | None,
    to_node: Callable[[Row[Any]], T],
) -> Connection[T]:
    """Keyset pagination of an arbitrary ``query`` (e.g. a join) by ``columns``."""
    check_first(first)
    if after is not None:
        key = cursor.decode(kind, after, parsers)
        bound = [literal(value, col.type) for value, col in zip(key, columns, strict=True)]
        query = query.where(tuple_(*columns) > tuple_(*bound))
    rows = await _all(sessions, query.order_by(*columns).limit(first + 1))
    has_next = len(rows) > first
    rows = rows[:first]
    names = [col.name for col in columns]
    edges = [
        Edge(cursor=cursor.encode(kind, [row._mapping[n] for n in names]), node=to_node(row))
        for row in rows
    ]

    async def total() -> int:
        async with sessions() as session:
            return int(await session.scalar(count) or 0)

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=total,
    )
