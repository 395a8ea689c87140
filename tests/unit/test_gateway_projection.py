"""The gateway's projections, applied batch by batch to a real database (no NATS)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import ColumnElement, Row, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.orm import attendance, groups, meetings, members, metadata, regions
from services.gateway.projections import project
from shared.contracts import (
    AttendanceCorrected,
    DecodedEvent,
    Event,
    GroupCreated,
    MeetingCancelled,
    MeetingHeld,
    MeetingScheduled,
    MemberDetailsChanged,
    MemberJoined,
    MemberLeft,
    RegionAnnounced,
    decode,
    encode,
    make_envelope,
)
from shared.storage import create_engine, create_schema, session_factory

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


def ev(
    event: Event, region: str, aggregate: uuid.UUID, seq: int, at: datetime = T0
) -> DecodedEvent:
    """An event as the consumer hands it over: encoded, then decoded against its subject."""
    envelope = make_envelope(
        event, region=region, aggregate_id=aggregate, sequence=seq, occurred_at=at
    )
    return decode(encode(envelope))


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def apply(sessions: Sessions, *batches: Sequence[DecodedEvent]) -> None:
    for batch in batches:
        async with sessions() as session, session.begin():
            await project(session, batch)


async def one(sessions: Sessions, table: Table, id_: uuid.UUID | str) -> Row[Any]:
    async with sessions() as session:
        return (await session.execute(select(table).where(table.c.id == str(id_)))).one()


async def count(sessions: Sessions, table: Table, *where: ColumnElement[bool]) -> int:
    async with sessions() as session:
        found = await session.scalar(select(func.count()).select_from(table).where(*where))
    return int(found or 0)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def scheduled(
    m: uuid.UUID, g: uuid.UUID, host: uuid.UUID, theme: str, starts: datetime
) -> MeetingScheduled:
    return MeetingScheduled(
        meeting_id=m, group_id=g, host_member_id=host, theme=theme, starts_at=starts
    )


async def test_every_event_type_in_order(sessions: Sessions) -> None:
    g, m1, m2, meet, meet2 = (uuid.uuid4() for _ in range(5))
    region_agg = uuid.uuid4()
    starts = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)
    batch = [
        ev(RegionAnnounced(display_name="Oulu", agency="BusinessOulu"), "oulu", region_agg, 1),
        ev(
            GroupCreated(
                group_id=g, name="Core 1", municipality="Oulu", founded_on=date(2015, 1, 1)
            ),
            "oulu",
            g,
            1,
        ),
        ev(
            MemberJoined(
                member_id=m1,
                group_id=g,
                joined_on=date(2015, 2, 1),
                employees=3,
                turnover_eur=400_000,
                industry_code="62010",
            ),
            "oulu",
            m1,
            1,
        ),
        ev(
            MemberJoined(member_id=m2, group_id=g, joined_on=date(2015, 2, 1), employees=1),
            "oulu",
            m2,
            1,
        ),
        ev(
            MemberLeft(member_id=m2, group_id=g, left_on=date(2016, 1, 1), reason="moved"),
            "oulu",
            m2,
            2,
        ),
        ev(scheduled(meet, g, m1, "Pricing", starts), "oulu", meet, 1),
        ev(
            MeetingHeld(
                meeting_id=meet, group_id=g, held_at=starts, attendee_member_ids=(m1, m2, m1)
            ),
            "oulu",
            meet,
            2,
        ),
        ev(scheduled(meet2, g, m2, "Hiring", starts + timedelta(days=30)), "oulu", meet2, 1),
        ev(
            MeetingCancelled(meeting_id=meet2, group_id=g, reason="storm"),
            "oulu",
            meet2,
            2,
            T0 + timedelta(hours=1),
        ),
    ]
    await apply(sessions, batch)

    region = await one(sessions, regions, "oulu")
    assert (region.display_name, region.agency, region.events_applied) == (
        "Oulu",
        "BusinessOulu",
        9,
    )
    assert utc(region.last_event_at) == T0 + timedelta(hours=1)
    assert utc(region.first_seen) == T0
    group = await one(sessions, groups, g)
    assert (group.region, group.name, group.municipality) == ("oulu", "Core 1", "Oulu")
    first = await one(sessions, members, m1)
    assert (first.active, first.employees, first.turnover_eur, first.version) == (
        True,
        3,
        400_000,
        1,
    )
    second = await one(sessions, members, m2)
    assert (second.active, second.left_on, second.left_reason, second.version) == (
        False,
        date(2016, 1, 1),
        "moved",
        2,
    )
    held = await one(sessions, meetings, meet)
    assert (held.status, held.theme, held.host_member_id, held.attendance_count) == (
        "HELD",
        "Pricing",
        str(m1),
        2,
    )
    assert utc(held.starts_at) == starts
    assert await count(sessions, attendance, attendance.c.meeting_id == str(meet)) == 2
    cancelled = await one(sessions, meetings, meet2)
    assert (cancelled.status, cancelled.cancel_reason, cancelled.theme) == (
        "CANCELLED",
        "storm",
        "Hiring",
    )


@pytest.mark.parametrize("same_batch", [False, True])
async def test_out_of_order_events_never_overwrite_newer_state(
    sessions: Sessions, same_batch: bool
) -> None:
    g, host, m, meet, cancelled = (uuid.uuid4() for _ in range(5))
    starts = datetime(2025, 4, 1, 15, 0, tzinfo=UTC)
    held_at = starts + timedelta(minutes=5)
    newer = [
        ev(
            MeetingHeld(
                meeting_id=meet, group_id=g, held_at=held_at, attendee_member_ids=(host, m)
            ),
            "oulu",
            meet,
            2,
        ),
        ev(MeetingCancelled(meeting_id=cancelled, group_id=g, reason="ill"), "oulu", cancelled, 2),
        ev(MemberLeft(member_id=m, group_id=g, left_on=date(2025, 5, 1)), "oulu", m, 2),
    ]
    older = [
        ev(scheduled(meet, g, host, "Export", starts), "oulu", meet, 1),
        ev(scheduled(cancelled, g, host, "Banks", starts), "oulu", cancelled, 1),
        ev(
            MemberJoined(member_id=m, group_id=g, joined_on=date(2024, 1, 1), employees=4),
            "oulu",
            m,
            1,
        ),
    ]
    if same_batch:
        await apply(sessions, newer + older)
    else:
        await apply(sessions, newer)
        placeholder = await one(sessions, meetings, meet)
        assert (placeholder.status, placeholder.theme) == ("HELD", None)
        assert utc(placeholder.starts_at) == held_at  # provisional, until the schedule arrives
        await apply(sessions, older)

    row = await one(sessions, meetings, meet)
    assert (row.status, row.version, row.theme, row.host_member_id) == (
        "HELD",
        2,
        "Export",
        str(host),
    )
    assert (utc(row.starts_at), utc(row.held_at), row.attendance_count) == (starts, held_at, 2)
    row = await one(sessions, meetings, cancelled)
    assert (row.status, row.version, row.theme, row.cancel_reason) == (
        "CANCELLED",
        2,
        "Banks",
        "ill",
    )
    member = await one(sessions, members, m)
    assert (member.active, member.version, member.joined_on, member.employees) == (
        False,
        2,
        date(2024, 1, 1),
        4,
    )
    assert member.left_on == date(2025, 5, 1)


async def test_a_stale_event_changes_nothing_and_a_newer_one_wins(sessions: Sessions) -> None:
    g, meet, a, b, c, d = (uuid.uuid4() for _ in range(6))
    starts = datetime(2025, 6, 1, 15, 0, tzinfo=UTC)
    first_held = MeetingHeld(
        meeting_id=meet, group_id=g, held_at=starts, attendee_member_ids=(a, b, c)
    )
    corrected = MeetingHeld(meeting_id=meet, group_id=g, held_at=starts, attendee_member_ids=(a, d))
    await apply(
        sessions,
        [ev(scheduled(meet, g, a, "Old theme", starts), "oulu", meet, 1)],
        [ev(first_held, "oulu", meet, 2)],
        [ev(corrected, "oulu", meet, 3)],
        # re-sent stale events (new event ids, old sequences)
        [
            ev(first_held, "oulu", meet, 2),
            ev(scheduled(meet, g, b, "Other", starts), "oulu", meet, 1),
        ],
    )
    row = await one(sessions, meetings, meet)
    assert (row.version, row.theme, row.host_member_id, row.attendance_count) == (
        3,
        "Old theme",
        str(a),
        2,
    )
    async with sessions() as session:
        ids = set(
            (
                await session.execute(
                    select(attendance.c.member_id).where(attendance.c.meeting_id == str(meet))
                )
            ).scalars()
        )
    assert ids == {str(a), str(d)}


async def test_an_attendance_correction_replaces_the_attendees_and_stale_ones_do_not(
    sessions: Sessions,
) -> None:
    g, meet, a, b, c = (uuid.uuid4() for _ in range(5))
    starts = datetime(2025, 6, 1, 15, 0, tzinfo=UTC)
    held = MeetingHeld(meeting_id=meet, group_id=g, held_at=starts, attendee_member_ids=(a, b))
    fixed = AttendanceCorrected(
        meeting_id=meet,
        group_id=g,
        held_at=starts,
        attendee_member_ids=(a, b, c),
        added_member_ids=(c,),
    )
    await apply(
        sessions,
        [ev(scheduled(meet, g, a, "Pricing", starts), "oulu", meet, 1), ev(held, "oulu", meet, 2)],
        [ev(fixed, "oulu", meet, 3)],
        [ev(held, "oulu", meet, 2)],  # the holding re-sent: older than the correction
    )
    row = await one(sessions, meetings, meet)
    assert (row.status, row.attendance_count, utc(row.held_at)) == ("HELD", 3, starts)
    assert await count(sessions, attendance, attendance.c.meeting_id == str(meet)) == 3
    # a second correction in the same batch as the first: the newest wins
    again = AttendanceCorrected(
        meeting_id=meet, group_id=g, held_at=starts, attendee_member_ids=(c,)
    )
    await apply(sessions, [ev(again, "oulu", meet, 5), ev(fixed, "oulu", meet, 4)])
    assert (await one(sessions, meetings, meet)).attendance_count == 1
    assert await count(sessions, attendance, attendance.c.meeting_id == str(meet)) == 1


async def test_edited_member_details_count_as_activity_and_change_nothing_national(
    sessions: Sessions,
) -> None:
    g, m = uuid.uuid4(), uuid.uuid4()
    joined = MemberJoined(
        member_id=m, group_id=g, joined_on=date(2024, 1, 1), employees=4, industry_code="62010"
    )
    edited = MemberDetailsChanged(
        member_id=m,
        group_id=g,
        employees=7,
        industry_code="47110",
        changed_fields=("company_name", "address", "employees", "industry_code"),
    )
    await apply(sessions, [ev(joined, "oulu", m, 1)], [ev(edited, "oulu", m, 2, T0 + timedelta(1))])
    row = await one(sessions, members, m)
    assert (row.employees, row.industry_code, row.version) == (4, "62010", 1)
    region = await one(sessions, regions, "oulu")
    assert region.events_applied == 2
    assert utc(region.last_event_at) == T0 + timedelta(1)


async def test_region_freshness_and_announcements_tolerate_disorder(sessions: Sessions) -> None:
    g = uuid.uuid4()
    agg = uuid.uuid4()
    late = T0 + timedelta(days=2)
    await apply(
        sessions,
        [
            ev(
                GroupCreated(group_id=g, name="A", founded_on=date(2020, 1, 1)),
                "kainuu",
                g,
                1,
                late,
            ),
            ev(RegionAnnounced(display_name="Kainuu new"), "kainuu", agg, 2, late),
        ],
        [
            ev(RegionAnnounced(display_name="Kainuu old"), "kainuu", agg, 1, T0),
            ev(RegionAnnounced(display_name="Lappi"), "lappi", uuid.uuid4(), 1, T0),
        ],
    )
    kainuu = await one(sessions, regions, "kainuu")
    assert (kainuu.display_name, kainuu.events_applied) == ("Kainuu new", 3)
    assert (utc(kainuu.first_seen), utc(kainuu.last_event_at)) == (T0, late)
    lappi = await one(sessions, regions, "lappi")
    assert (lappi.display_name, lappi.events_applied) == ("Lappi", 1)


async def test_large_batches_are_chunked_and_counted(sessions: Sessions) -> None:
    """More rows than one statement may bind on SQLite: the upserts chunk."""
    g = uuid.uuid4()
    people = [uuid.uuid4() for _ in range(3000)]
    batch = [ev(GroupCreated(group_id=g, name="Big", founded_on=date(2020, 1, 1)), "oulu", g, 1)]
    batch += [
        ev(
            MemberJoined(member_id=p, group_id=g, joined_on=date(2021, 1, 1), employees=2),
            "oulu",
            p,
            1,
        )
        for p in people
    ]
    meeting_ids = [uuid.uuid4() for _ in range(400)]
    for i, meet in enumerate(meeting_ids):
        batch.append(
            ev(
                MeetingHeld(
                    meeting_id=meet,
                    group_id=g,
                    held_at=T0,
                    attendee_member_ids=tuple(people[i : i + 30]),
                ),
                "oulu",
                meet,
                1,
            )
        )
    await apply(sessions, batch)
    await apply(
        sessions,
        [  # half of them leave
            ev(MemberLeft(member_id=p, group_id=g, left_on=date(2022, 1, 1)), "oulu", p, 2)
            for p in people[::2]
        ],
    )
    assert await count(sessions, members) == 3000
    assert await count(sessions, members, members.c.active.is_(True)) == 1500
    assert await count(sessions, meetings, meetings.c.status == "HELD") == 400
    assert await count(sessions, attendance) == 400 * 30
    region = await one(sessions, regions, "oulu")
    assert region.events_applied == 1 + 3000 + 400 + 1500
