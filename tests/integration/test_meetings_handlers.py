"""The meetings service layer on a real database (SQLite and PostgreSQL), no broker.

Commands commit their state and their events (outbox) together; the replica applies each
groups event once, in any order, and concurrent writers do not corrupt it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.meetings import handlers
from services.meetings.commands import CancelMeeting, Node, RecordMeetingHeld, ScheduleMeeting
from services.meetings.domain import MeetingStatus
from services.meetings.orm import TABLES, Base
from services.meetings.replica import ReplicaStore
from services.meetings.repository import MeetingRepository
from shared.contracts import (
    DecodedEvent,
    Event,
    GroupCreated,
    MemberJoined,
    MemberLeft,
    decode,
    encode,
    make_envelope,
)
from shared.errors import ConcurrentChange
from shared.errors import meetings as errors
from shared.runtime import UnitOfWork
from shared.storage import create_engine, create_schema, session_factory

NODE = Node(region="oulu", tz=ZoneInfo("Europe/Helsinki"))
STARTS = datetime(2024, 5, 14, 18, tzinfo=ZoneInfo("Europe/Helsinki"))


@pytest.fixture
async def sessions(database_url) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    await create_schema(engine, Base.metadata)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def uow(sessions) -> UnitOfWork:
    return UnitOfWork(sessions, TABLES.outbox)


def decoded(event: Event, aggregate_id: UUID, sequence: int) -> DecodedEvent:
    envelope = make_envelope(event, region="oulu", aggregate_id=aggregate_id, sequence=sequence)
    return decode(encode(envelope))


async def seed(sessions, members: int = 2) -> tuple[UUID, list[UUID]]:
    group_id, member_ids = uuid4(), [uuid4() for _ in range(members)]
    created = GroupCreated(group_id=group_id, name="Oulu 1", founded_on=date(2015, 1, 1))
    assert await handlers.apply_groups_event(decoded(created, group_id, 1), uow(sessions))
    for member_id in member_ids:
        joined = MemberJoined(
            member_id=member_id, group_id=group_id, joined_on=date(2020, 1, 1), employees=2
        )
        await handlers.apply_groups_event(decoded(joined, member_id, 1), uow(sessions))
    return group_id, member_ids


async def outbox_types(sessions) -> list[tuple[str, int]]:
    async with sessions() as session:
        rows = (
            await session.execute(select(TABLES.outbox.c.body).order_by(TABLES.outbox.c.id))
        ).all()
    envelopes = [decode(row.body).envelope for row in rows]
    return [(e.type, e.sequence) for e in envelopes]


async def test_commands_commit_state_and_events_together(sessions):
    group_id, (host, guest) = await seed(sessions)
    meeting = await handlers.schedule_meeting(
        ScheduleMeeting(group_id, host, "Export markets", STARTS), uow(sessions), NODE
    )
    held = await handlers.record_meeting_held(
        RecordMeetingHeld(meeting.id, (host, guest)), uow(sessions), NODE
    )
    assert held.status is MeetingStatus.HELD
    assert held.attendee_member_ids == (host, guest)
    with pytest.raises(errors.UnknownHost):
        await handlers.schedule_meeting(
            ScheduleMeeting(group_id, uuid4(), "x", STARTS), uow(sessions), NODE
        )
    other = await handlers.schedule_meeting(
        ScheduleMeeting(group_id, guest, "Hiring", STARTS), uow(sessions), NODE
    )
    await handlers.cancel_meeting(CancelMeeting(other.id, "Flu"), uow(sessions), NODE)
    with pytest.raises(errors.MeetingNotFound):
        await handlers.cancel_meeting(CancelMeeting(uuid4(), "?"), uow(sessions), NODE)
    assert await outbox_types(sessions) == [
        ("meetings.meeting.scheduled", 1),
        ("meetings.meeting.held", 2),
        ("meetings.meeting.scheduled", 1),
        ("meetings.meeting.cancelled", 2),
    ]
    async with sessions() as session:
        stored = await MeetingRepository(session).get(held.id)
        assert stored == held
        assert stored is not None
        assert stored.starts_at.tzinfo is not None


async def test_concurrent_holds_of_one_meeting_let_exactly_one_win(sessions):
    group_id, (host, guest) = await seed(sessions)
    meeting = await handlers.schedule_meeting(
        ScheduleMeeting(group_id, host, "Export markets", STARTS), uow(sessions), NODE
    )
    results = await asyncio.gather(
        *(
            handlers.record_meeting_held(
                RecordMeetingHeld(meeting.id, attendees), uow(sessions), NODE
            )
            for attendees in ((host,), (guest,), (host, guest))
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(e, (ConcurrentChange, errors.MeetingAlreadyHeld)) for e in losers)
    assert [t for t in await outbox_types(sessions) if t[0].endswith("held")] == [
        ("meetings.meeting.held", 2)
    ]


async def test_replica_applies_each_event_once_in_any_order(sessions):
    group_id, _ = await seed(sessions, members=0)
    member_id = uuid4()
    left = decoded(
        MemberLeft(member_id=member_id, group_id=group_id, left_on=date(2023, 6, 30)), member_id, 2
    )
    joined = decoded(
        MemberJoined(
            member_id=member_id, group_id=group_id, joined_on=date(2021, 1, 1), employees=1
        ),
        member_id,
        1,
    )
    # Left before joined, each delivered twice, two of them at the same time.
    assert await handlers.apply_groups_event(left, uow(sessions)) is True
    outcomes = await asyncio.gather(
        handlers.apply_groups_event(joined, uow(sessions)),
        handlers.apply_groups_event(joined, uow(sessions)),
        return_exceptions=True,
    )
    # One applies; the racing duplicate is either skipped or refused by the inbox's key
    # (then the consumer naks it and the redelivery is skipped).
    assert outcomes.count(True) == 1
    assert await handlers.apply_groups_event(joined, uow(sessions)) is False
    assert await handlers.apply_groups_event(left, uow(sessions)) is False
    async with sessions() as session:
        member = await ReplicaStore(session).member(member_id)
    assert member is not None
    assert (member.joined_on, member.effective_left_on) == (date(2021, 1, 1), date(2023, 6, 30))
    assert not member.active_on(date(2024, 1, 1))


async def test_concurrent_events_of_one_new_member_do_not_collide(sessions):
    group_id, _ = await seed(sessions, members=0)
    member_id = uuid4()
    joined = MemberJoined(
        member_id=member_id, group_id=group_id, joined_on=date(2021, 1, 1), employees=1
    )
    left = MemberLeft(member_id=member_id, group_id=group_id, left_on=date(2022, 1, 1))
    outcomes = await asyncio.gather(
        handlers.apply_groups_event(decoded(joined, member_id, 1), uow(sessions)),
        handlers.apply_groups_event(decoded(left, member_id, 2), uow(sessions)),
        return_exceptions=True,
    )
    assert list(outcomes) == [True, True]
    async with sessions() as session:
        member = await ReplicaStore(session).member(member_id)
    assert member is not None
    assert (member.joined_sequence, member.left_sequence) == (1, 2)
