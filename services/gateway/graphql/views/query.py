"""The research views as Query fields, each a query over the facts (services/gateway/views
keeps them batch by batch), never a scan of the raw read model per request.

Every view takes ``region``, ``groupId`` and a period (``from``/``to``: inclusive exact days
in Europe/Helsinki, on the meeting's day; never widened to months or years). Results that
can be large are keyset connections (``first`` <= 500); the others have at most a row per
month, year, status or type. ``Query`` (graphql/query.py) inherits these fields.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import Row, Select, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import PageInfo

from services.gateway.auth.guard import Level
from services.gateway.auth.sql import visible
from services.gateway.graphql import cursor
from services.gateway.graphql.access import require, require_rows
from services.gateway.graphql.activity import ActivityType
from services.gateway.graphql.connection import Connection, Edge
from services.gateway.graphql.context import Info
from services.gateway.graphql.errors import bad_argument
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.initiative import InitiativeStatus
from services.gateway.graphql.pagination import check_first
from services.gateway.graphql.views import types as t
from services.gateway.orm import fact_coding, fact_meetings, fact_months, groups, regions
from services.gateway.views import compute, queries
from services.gateway.views.queries import Scope

T = TypeVar("T")
TEXT = cursor.TEXT

First = Annotated[int, strawberry.argument(description="Page size, at most 500.")]
After = Annotated[str | None, strawberry.argument(description="endCursor of the previous page.")]
From = Annotated[
    date | None,
    strawberry.argument(name="from", description="First day (Europe/Helsinki, inclusive)."),
]
To = Annotated[date | None, strawberry.argument(description="Last day (inclusive).")]
GroupId = Annotated[strawberry.ID | None, strawberry.argument(name="groupId")]


def _aggregate(info: Info, scope: Scope, what: str) -> None:
    """A view's figures: national totals need NATIONAL (every role), one region's or one
    group's need REGIONAL (agencies and researchers; the public sees national totals)."""
    national = scope.region is None and scope.group_id is None
    require(info, Level.NATIONAL if national else Level.REGIONAL, scope.region, what)


def _scope(
    region: str | None, group_id: strawberry.ID | None, from_: date | None, to: date | None
) -> Scope:
    if from_ is not None and to is not None and from_ > to:
        raise bad_argument(
            "PERIOD_REVERSED", "from", f"from={from_} is after to={to}: give from <= to."
        )
    return Scope(region, None if group_id is None else str(group_id), from_, to)


async def _all(sessions: async_sessionmaker[AsyncSession], query: Select[Any]) -> list[Row[Any]]:
    async with sessions() as session:
        return list((await session.execute(query)).all())


@strawberry.type
class ViewsQuery:
    @resolved(
        "The CoP activity table (the case study's Table 1, from data): for each Wenger type "
        "(and year, with byYear), activities, meetings and distinct groups with such "
        "activities in the period, and the earliest one's example. Each meeting counts its "
        "consensus coding (Wenger codebook) where researchers have reconciled it, else the "
        "records of its first coder; `coder` counts that coder's records only (a coder id, "
        "or 'consensus')."
    )
    async def cop_activity_table(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        type: ActivityType | None = None,
        from_: From = None,
        to: To = None,
        by_year: bool = False,
        coder: str | None = None,
    ) -> list[t.CopCell]:
        scope = _scope(region, group_id, from_, to)
        _aggregate(info, scope, "the CoP activity table")
        if coder is not None:  # coder ids are researchers' pseudonyms, as in codingAgreement
            require(info, Level.REGIONAL, region, "one coder's CoP activity table")
        # example texts are the regions' own words: only for who sees the region in full
        examples = info.context.guard.reads_texts(region)
        kind = None if type is None else type.value
        query = queries.cop_table(scope, examples, kind, by_year, coder)
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

    @resolved("Meetings per month of their day (held, cancelled, attendance).")
    async def meetings_over_time(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        from_: From = None,
        to: To = None,
    ) -> list[t.MonthMeetings]:
        scope = _scope(region, group_id, from_, to)
        _aggregate(info, scope, "meetings over time")
        return [
            t.MonthMeetings(
                month=r.month,
                groups_meeting=r.groups_meeting,
                meetings_held=r.meetings_held,
                meetings_cancelled=r.meetings_cancelled,
                attendees=r.attendees,
                expected=r.expected,
            )
            for r in await _all(info.context.sessions, queries.meetings_over_time(scope))
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
        scope = _scope(region, group_id, from_, to)
        guard = info.context.guard
        require_rows(guard, "groupMonths", region, Level.REGIONAL)
        rolled = queries.group_months_rolled(scope)
        if rolled is not None:  # whole months: the roll-ups' group rows
            rows, count = rolled
            m = fact_months.c
            seen = visible(guard, m.region, Level.REGIONAL)
            return await keyset(
                info.context.sessions,
                "groupMonths",
                rows.where(*seen),
                (m.scope, m.month),
                (TEXT, TEXT),
                count.where(*seen),
                first,
                after,
                t.GroupMonth.from_row,
                names=(queries.GROUP_KEY, "month"),
            )
        v = fact_meetings.c
        seen = visible(guard, v.region, Level.REGIONAL)
        return await keyset(
            info.context.sessions,
            "groupMonths",
            queries.group_months(scope).where(*seen),
            (v.group_id, v.month),
            (TEXT, TEXT),
            queries.group_months_count(scope).where(*seen),
            first,
            after,
            t.GroupMonth.from_row,
        )

    @resolved("Retention of members per calendar year, clipped to the period's days.")
    async def retention(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        from_: From = None,
        to: To = None,
    ) -> list[t.RetentionYear]:
        scope = _scope(region, group_id, from_, to)
        _aggregate(info, scope, "retention")
        spans = await _all(info.context.sessions, queries.member_spans(scope))
        return [
            t.RetentionYear(
                year=year,
                members_start=start,
                joined=joined,
                left=left,
                retained=retained,
                members_end=end,
            )
            for year, start, joined, left, retained, end in queries.retention(spans, scope)
        ]

    @resolved(
        "Host rotation per group in the period: distinct hosts and the days between a "
        "member's hostings; groups by (region, id)."
    )
    async def host_rotation(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        from_: From = None,
        to: To = None,
        first: First = 100,
        after: After = None,
    ) -> Connection[t.HostRotation]:
        scope = _scope(region, group_id, from_, to)
        page = await _group_page(info, "hostRotation", scope, first, after)
        ids = [g for _, g in page.keys]
        rows = await _all(info.context.sessions, queries.host_rotation(scope, ids)) if ids else []
        return page.connection([t.HostRotation.from_row(r) for r in rows])

    @resolved(
        "Feedback per month of the surveyed meetings' days: response rate, mean ratings, "
        "recommend score; only surveys closed with at least 3 responses count (k-anonymity)."
    )
    async def feedback_trend(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        from_: From = None,
        to: To = None,
    ) -> list[t.FeedbackMonth]:
        scope = _scope(region, group_id, from_, to)
        _aggregate(info, scope, "the feedback trend")
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
            for r in await _all(info.context.sessions, queries.feedback_trend(scope))
        ]

    @resolved("Initiatives started in the period by current status, with their members.")
    async def initiative_statuses(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        from_: From = None,
        to: To = None,
    ) -> list[t.InitiativeStatusCount]:
        scope = _scope(region, group_id, from_, to)
        _aggregate(info, scope, "initiative statuses")
        return [
            t.InitiativeStatusCount(
                status=InitiativeStatus(r.status),
                initiatives=r.initiatives,
                members=r.members,
                joinings=r.joinings,
            )
            for r in await _all(info.context.sessions, queries.initiative_statuses(scope))
        ]

    @resolved(
        "Group health in the period: attendance streaks, churn, share of members who "
        "hosted, feedback trend; groups by (region, id)."
    )
    async def group_health(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        from_: From = None,
        to: To = None,
        first: First = 100,
        after: After = None,
    ) -> Connection[t.GroupHealth]:
        scope = _scope(region, group_id, from_, to)
        page = await _group_page(info, "groupHealth", scope, first, after)
        ids = [g for _, g in page.keys]
        if not ids:
            return page.connection([])
        async with info.context.sessions() as session:
            people = (await session.execute(queries.health_members(scope, ids))).all()
            held = (await session.execute(queries.health_meetings(scope, ids))).all()
            polls = (await session.execute(queries.health_surveys(scope, ids))).all()
        rows = compute.group_health(page.keys, people, held, polls, scope.from_, scope.to)
        return page.connection([t.GroupHealth.from_mapping(r) for r in rows])

    @resolved(
        "Coding agreement: Cohen's kappa per pair of researchers who classified the same "
        "meetings in the period, overall and per Wenger type (unit: meeting x type present "
        "or not); pairs by (coderA, coderB), a page at a time."
    )
    async def coding_agreement(
        self,
        info: Info,
        region: str | None = None,
        group_id: GroupId = None,
        type: ActivityType | None = None,
        from_: From = None,
        to: To = None,
        first: First = 100,
        after: After = None,
    ) -> Connection[t.CoderAgreement]:
        check_first(first)
        scope = _scope(region, group_id, from_, to)
        # coder ids are researchers' pseudonyms, per pair: REGIONAL even for the nation
        require(info, Level.REGIONAL, region, "coding agreement")
        v = fact_coding.c
        kind = None if type is None else type.value
        query = queries.coding(scope, kind)
        if after is not None:
            key = cursor.decode("codingAgreement", after, (TEXT, TEXT))
            bound = [
                literal(value, col.type)
                for value, col in zip(key, (v.coder_a, v.coder_b), strict=True)
            ]
            query = query.where(tuple_(v.coder_a, v.coder_b) > tuple_(*bound))
        # every pair has a row per type (facts.py writes all 11): a page is a row count
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
        count = queries.coding_pairs(scope, kind)

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

    @resolved(
        "Per-region research summary in the period with freshness, by region id (a page at "
        "a time). Groups and active members are current."
    )
    async def region_overview(
        self,
        info: Info,
        from_: From = None,
        to: To = None,
        first: First = 100,
        after: After = None,
    ) -> Connection[t.RegionOverview]:
        require(info, Level.REGIONAL, None, "the per-region overview")
        scope = _scope(None, None, from_, to)
        return await keyset(
            info.context.sessions,
            "regionOverview",
            queries.region_overview(scope),
            (regions.c.id,),
            (TEXT,),
            select(func.count()).select_from(regions),
            first,
            after,
            t.RegionOverview.from_row,
            names=("region",),
        )


class _Page:
    """One page of groups ((region, id) keys) and how to make its connection."""

    def __init__(
        self,
        kind: str,
        keys: list[tuple[str, str]],
        has_next: bool,
        after: str | None,
        total: Callable[[], Any],
    ) -> None:
        self.kind, self.keys, self.has_next, self.after, self.total = (
            kind,
            keys,
            has_next,
            after,
            total,
        )

    def connection(self, nodes: Sequence[T]) -> Connection[T]:
        edges = [
            Edge(cursor=cursor.encode(self.kind, list(key)), node=node)
            for key, node in zip(self.keys, nodes, strict=True)
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=self.has_next,
                has_previous_page=self.after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            _count=self.total,
        )


async def _group_page(info: Info, kind: str, scope: Scope, first: int, after: str | None) -> _Page:
    """The groups of a per-group view's page (REGIONAL rows: agencies see every region's,
    the public none), by (region, id)."""
    check_first(first)
    guard = info.context.guard
    require_rows(guard, kind, scope.region, Level.REGIONAL)
    seen = visible(guard, groups.c.region, Level.REGIONAL)
    query = queries.group_page(scope).where(*seen)
    columns = (groups.c.region, groups.c.id)
    if after is not None:
        key = cursor.decode(kind, after, (TEXT, TEXT))
        bound = [literal(value, col.type) for value, col in zip(key, columns, strict=True)]
        query = query.where(tuple_(*columns) > tuple_(*bound))
    rows = await _all(info.context.sessions, query.order_by(*columns).limit(first + 1))
    count = queries.group_count(scope).where(*seen)

    async def total() -> int:
        async with info.context.sessions() as session:
            return int(await session.scalar(count) or 0)

    keys = [(r.region, r.group_id) for r in rows[:first]]
    return _Page(kind, keys, len(rows) > first, after, total)


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
    names: Sequence[str] | None = None,
) -> Connection[T]:
    """Keyset pagination of an arbitrary ``query`` (e.g. a join) by ``columns`` (selected
    as ``names``, default their own names)."""
    check_first(first)
    if after is not None:
        key = cursor.decode(kind, after, parsers)
        bound = [literal(value, col.type) for value, col in zip(key, columns, strict=True)]
        query = query.where(tuple_(*columns) > tuple_(*bound))
    rows = await _all(sessions, query.order_by(*columns).limit(first + 1))
    has_next = len(rows) > first
    rows = rows[:first]
    names = list(names) if names is not None else [col.name for col in columns]
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
