"""The regional write path's SQL statements, counted on a real database (SQLite and PostgreSQL).

An ``addMember`` costs a fixed handful of statements however large its group is, and the
member replicas of meetings and feedback apply a batch of membership events in as many
statements as one event (issue 12 part 5: every statement is CPU on every write).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.feedback import handlers as feedback
from services.feedback.orm import TABLES as FEEDBACK_TABLES
from services.feedback.orm import Base as FeedbackBase
from services.feedback.orm import ReplicaMemberRow as FeedbackMemberRow
from services.groups import handlers as groups
from services.groups.commands import AddMember, CreateGroup
from services.groups.orm import TABLES as GROUPS_TABLES
from services.groups.orm import Base as GroupsBase
from services.meetings import handlers as meetings
from services.meetings.orm import TABLES as MEETINGS_TABLES
from services.meetings.orm import Base as MeetingsBase
from services.meetings.replica import ReplicaStore
from shared.contracts import (
    DecodedEvent,
    Event,
    GroupCreated,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    decode,
    encode,
    make_envelope,
)
from shared.errors.groups import AlreadyActiveMember
from shared.runtime import UnitOfWork
from shared.storage import create_engine, create_schema, session_factory

REGION = "oulu"
FOUNDED = date(2016, 3, 1)
JOINED = date(2020, 1, 1)
TZ = ZoneInfo("Europe/Helsinki")


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` executes in the block (an executemany counts once; the
    BEGIN of SQLite's write turns is left out: PostgreSQL's driver sends none this way)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    for metadata in (GroupsBase.metadata, MeetingsBase.metadata):
        await create_schema(engine, metadata)
    try:
        yield engine
    finally:
        await engine.dispose()


def add(group_id: UUID, n: int, business_id: str | None) -> AddMember:
    return AddMember(
        group_id=group_id,
        company_name=f"Yritys {n} Oy",
        employees=3,
        joined_on=JOINED,
        turnover_eur=100_000,
        business_id=business_id,
    )


# Valid Y-tunnus numbers (check digit by the 7,9,10,5,8,4,2 rule).
BUSINESS_IDS = ["0112038-9", "1000000-4", "1000001-2"]


async def test_add_member_costs_the_same_few_statements_in_any_size_of_group(engines):
    sessions = session_factory(engines)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, GROUPS_TABLES.outbox)

    group = await groups.create_group(
        CreateGroup(name="Oulu core group", founded_on=FOUNDED), uow(), region=REGION
    )
    with counting(engines) as first:
        await groups.add_member(add(group.id, 0, BUSINESS_IDS[0]), uow(), region=REGION)
    for n in range(1, 20):
        await groups.add_member(add(group.id, n, None), uow(), region=REGION)
    await groups.add_member(add(group.id, 20, BUSINESS_IDS[1]), uow(), region=REGION)
    with counting(engines) as twenty_first:
        await groups.add_member(add(group.id, 21, BUSINESS_IDS[2]), uow(), region=REGION)
    with counting(engines) as without_business_id:
        await groups.add_member(add(group.id, 22, None), uow(), region=REGION)

    # the group (with its facilitators), the holders of the business ID, the member, its
    # history, the outbox row
    assert len(first) == len(twenty_first) == 5, twenty_first
    assert len(without_business_id) == 4, without_business_id  # no business ID to check

    # the narrower check still refuses the same company twice, naming the member it is
    with pytest.raises(AlreadyActiveMember) as refused:
        await groups.add_member(add(group.id, 23, BUSINESS_IDS[1]), uow(), region=REGION)
    assert refused.value.params["business_id"] == BUSINESS_IDS[1]
    async with sessions() as session:
        outbox = (await session.execute(select(GROUPS_TABLES.outbox.c.id))).all()
    assert len(outbox) == 1 + 23  # GroupCreated and each member added, the refusal none


def decoded(event: Event, aggregate_id: UUID, sequence: int) -> DecodedEvent:
    envelope = make_envelope(event, region=REGION, aggregate_id=aggregate_id, sequence=sequence)
    return decode(encode(envelope))


def membership_batch(group_id: UUID, members: list[UUID]) -> list[DecodedEvent]:
    """Each member joins; every other one then leaves, every third pauses (same batch)."""
    batch = []
    for i, member_id in enumerate(members):
        batch.append(
            decoded(
                MemberJoined(member_id=member_id, group_id=group_id, joined_on=JOINED, employees=2),
                member_id,
                1,
            )
        )
        if i % 2 == 0:
            left = MemberLeft(member_id=member_id, group_id=group_id, left_on=date(2021, 6, 1))
            batch.append(decoded(left, member_id, 2))
        elif i % 3 == 0:
            paused = MemberPaused(
                member_id=member_id, group_id=group_id, paused_on=date(2021, 2, 1)
            )
            batch.append(decoded(paused, member_id, 2))
    return batch


async def test_the_meetings_replica_applies_a_batch_in_as_many_statements_as_one_event(engines):
    sessions = session_factory(engines)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, MEETINGS_TABLES.outbox)

    group_id = uuid4()
    created = GroupCreated(group_id=group_id, name="Oulu 1", founded_on=date(2015, 1, 1))
    assert await meetings.apply_groups_events([decoded(created, group_id, 1)], uow())
    small, large = [uuid4() for _ in range(2)], [uuid4() for _ in range(30)]
    with counting(engines) as for_small:
        assert await meetings.apply_groups_events(membership_batch(group_id, small), uow()) == 3
    with counting(engines) as for_large:
        assert await meetings.apply_groups_events(membership_batch(group_id, large), uow()) == 50
    assert len(for_large) == len(for_small), for_large

    async with sessions() as session:
        replica = await ReplicaStore(session).members([*small, *large])
    for i, member_id in enumerate(large):
        member = replica[member_id]
        assert (member.group_id, member.joined_on, member.joined_sequence) == (
            group_id,
            JOINED,
            1,
        )
        assert member.left_on == (date(2021, 6, 1) if i % 2 == 0 else None)
        assert member.paused_on == (date(2021, 2, 1) if i % 2 and i % 3 == 0 else None)
    # the same batch again changes nothing and records nothing new
    with counting(engines):
        assert await meetings.apply_groups_events(membership_batch(group_id, large), uow()) == 0


async def test_the_feedback_replica_applies_a_batch_in_as_many_statements_as_one_event(
    database_url: str,
):
    engine = create_engine(database_url)
    await create_schema(engine, FeedbackBase.metadata)
    sessions = session_factory(engine)
    node = feedback.Node(region=REGION, tz=TZ)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, FEEDBACK_TABLES.outbox)

    try:
        group_id = uuid4()
        small, large = [uuid4() for _ in range(2)], [uuid4() for _ in range(30)]
        with counting(engine) as for_small:
            assert await feedback.apply_events(membership_batch(group_id, small), uow(), node) == 3
        with counting(engine) as for_large:
            assert await feedback.apply_events(membership_batch(group_id, large), uow(), node) == 50
        assert len(for_large) == len(for_small), for_large
        async with sessions() as session:
            rows = {
                row.member_id: row.left_on
                for row in await session.scalars(select(FeedbackMemberRow))
            }
        assert rows == {
            m: (date(2021, 6, 1) if i % 2 == 0 else None)
            for members in (small, large)
            for i, m in enumerate(members)
        }
    finally:
        await engine.dispose()
