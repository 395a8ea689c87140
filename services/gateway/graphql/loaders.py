"""DataLoaders: one batched query per kind of lookup per request (no N+1).

Created per request by :class:`~services.gateway.graphql.context.GatewayContext`, never at
module level (a module-level loader would cache the read model forever). Every lookup of a
table with a ``region`` column is filtered by the request's guard: a row the caller may not
see in full is not found (``None`` / left out), so no nested field reaches past the guard.
However many meetings a page holds, ``meetings { memo activities { memberIds } actions }`` costs one
query per nested field, not one per meeting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, Row, Table, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from services.gateway.auth.guard import ANONYMOUS, Guard
from services.gateway.auth.sql import visible
from services.gateway.orm import (
    action_items,
    activities,
    activity_members,
    attendance,
    facilitators,
    groups,
    initiative_members,
    initiative_updates,
    meetings,
    members,
    membership_changes,
    memos,
    rsvps,
    survey_responses,
)
from shared.storage.chunks import chunks

Rows = list[Row[Any]]


@dataclass(frozen=True)
class Loaders:
    group: DataLoader[str, Row[Any] | None]
    member: DataLoader[str, Row[Any] | None]
    meeting: DataLoader[str, Row[Any] | None]
    attendees: DataLoader[str, list[str]]
    group_count: DataLoader[str, int]
    member_count: DataLoader[str, int]
    meeting_count: DataLoader[str, int]
    facilitators: DataLoader[str, Rows]  # group -> its current facilitators
    member_history: DataLoader[str, Rows]  # member -> membership changes, oldest first
    rsvp_counts: DataLoader[str, tuple[int, int]]  # meeting -> (coming, not coming)
    memo: DataLoader[str, Row[Any] | None]  # meeting -> its newest memo
    activities: DataLoader[str, Rows]  # meeting -> its CoP activities
    activity_members: DataLoader[str, list[str]]
    actions: DataLoader[str, Rows]  # meeting -> its action items
    initiative_members: DataLoader[str, list[str]]
    initiative_history: DataLoader[str, Rows]
    survey_scores: DataLoader[str, Row[Any] | None]  # survey -> n and means of the scores

    @classmethod
    def create(
        cls, sessions: async_sessionmaker[AsyncSession], guard: Guard = ANONYMOUS
    ) -> Loaders:
        def guarded(table: Table) -> list[ColumnElement[bool]]:
            return visible(guard, table.c.region) if "region" in table.c else []

        async def by_id(table: Table, ids: list[str]) -> list[Row[Any] | None]:
            return await first_by(table.c.id, ids)

        async def first_by(column: Column[Any], ids: list[str]) -> list[Row[Any] | None]:
            found: dict[str, Row[Any]] = {}
            async with sessions() as session:
                for chunk in chunks(ids):
                    query = select(column.table).where(column.in_(chunk), *guarded(column.table))
                    found.update(
                        (row._mapping[column], row) for row in await session.execute(query)
                    )
            return [found.get(i) for i in ids]

        async def count_by(
            column: Column[Any], keys: list[str], *where: ColumnElement[bool]
        ) -> list[int]:
            counts: dict[str, int] = {}
            async with sessions() as session:
                for chunk in chunks(keys):
                    query = (
                        select(column, func.count())
                        .where(column.in_(chunk), *where)
                        .group_by(column)
                    )
                    counts.update((key, n) for key, n in await session.execute(query))
            return [counts.get(k, 0) for k in keys]

        async def all_by(
            column: Column[Any],
            keys: list[str],
            order: Sequence[Column[Any]],
            *where: ColumnElement[bool],
        ) -> list[Rows]:
            found: dict[str, Rows] = {k: [] for k in keys}
            async with sessions() as session:
                for chunk in chunks(keys):
                    query = (
                        select(column.table)
                        .where(column.in_(chunk), *where, *guarded(column.table))
                        .order_by(column, *order)
                    )
                    for row in await session.execute(query):
                        found[row._mapping[column]].append(row)
            return [found[k] for k in keys]

        async def ids_by(
            column: Column[Any], member: Column[Any], keys: list[str]
        ) -> Sequence[list[str]]:
            rows = await all_by(column, keys, [member])
            return [[row._mapping[member] for row in found] for found in rows]

        async def rsvp_counts(meeting_ids: list[str]) -> list[tuple[int, int]]:
            found: dict[str, tuple[int, int]] = {}
            coming = func.sum(case((rsvps.c.coming.is_(True), 1), else_=0))
            async with sessions() as session:
                for chunk in chunks(meeting_ids):
                    query = (
                        select(rsvps.c.meeting_id, coming, func.count())
                        .where(rsvps.c.meeting_id.in_(chunk))
                        .group_by(rsvps.c.meeting_id)
                    )
                    for meeting_id, yes, n in await session.execute(query):
                        found[meeting_id] = (int(yes or 0), int(n) - int(yes or 0))
            return [found.get(i, (0, 0)) for i in meeting_ids]

        async def survey_scores(survey_ids: list[str]) -> list[Row[Any] | None]:
            r = survey_responses.c
            found: dict[str, Row[Any]] = {}
            async with sessions() as session:
                for chunk in chunks(survey_ids):
                    query = (
                        select(
                            r.survey_id,
                            func.count().label("n"),
                            func.avg(r.overall).label("overall"),
                            func.avg(r.usefulness).label("usefulness"),
                            func.avg(r.recommend).label("recommend"),
                        )
                        .where(r.survey_id.in_(chunk))
                        .group_by(r.survey_id)
                    )
                    found.update((row.survey_id, row) for row in await session.execute(query))
            return [found.get(i) for i in survey_ids]

        return cls(
            group=DataLoader(lambda ids: by_id(groups, ids)),
            member=DataLoader(lambda ids: by_id(members, ids)),
            meeting=DataLoader(lambda ids: by_id(meetings, ids)),
            attendees=DataLoader(
                lambda ids: ids_by(attendance.c.meeting_id, attendance.c.member_id, ids)
            ),
            group_count=DataLoader(lambda keys: count_by(groups.c.region, keys)),
            member_count=DataLoader(
                lambda keys: count_by(members.c.region, keys, members.c.active.is_(True))
            ),
            meeting_count=DataLoader(lambda keys: count_by(meetings.c.region, keys)),
            facilitators=DataLoader(
                lambda ids: all_by(
                    facilitators.c.group_id,
                    ids,
                    [facilitators.c.facilitator_id],
                    facilitators.c.active.is_(True),
                )
            ),
            member_history=DataLoader(
                lambda ids: all_by(
                    membership_changes.c.member_id, ids, [membership_changes.c.version]
                )
            ),
            rsvp_counts=DataLoader(rsvp_counts),
            memo=DataLoader(lambda ids: first_by(memos.c.meeting_id, ids)),
            activities=DataLoader(
                lambda ids: all_by(activities.c.meeting_id, ids, [activities.c.id])
            ),
            activity_members=DataLoader(
                lambda ids: ids_by(
                    activity_members.c.activity_id, activity_members.c.member_id, ids
                )
            ),
            actions=DataLoader(
                lambda ids: all_by(action_items.c.meeting_id, ids, [action_items.c.id])
            ),
            initiative_members=DataLoader(
                lambda ids: ids_by(
                    initiative_members.c.initiative_id, initiative_members.c.member_id, ids
                )
            ),
            initiative_history=DataLoader(
                lambda ids: all_by(
                    initiative_updates.c.initiative_id, ids, [initiative_updates.c.version]
                )
            ),
            survey_scores=DataLoader(survey_scores),
        )
