"""Projections of the research events (facilitators, pause/rejoin, meeting follow-ups, CoP
activities, initiatives, feedback) on SQLite and PostgreSQL: in order, out of order (in one
batch and across batches) and re-sent (a new event id with an old sequence)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import ColumnElement, Row, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.orm import (
    action_items,
    activities,
    activity_members,
    facilitators,
    initiative_members,
    initiative_updates,
    initiatives,
    interviews,
    meetings,
    members,
    membership_changes,
    memos,
    metadata,
    regions,
    rsvps,
    survey_responses,
    surveys,
)
from services.gateway.projections import project
from shared.contracts import (
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    ConsentGiven,
    ConsentWithdrawn,
    DecodedEvent,
    Event,
    FacilitatorAssigned,
    FacilitatorRemoved,
    InitiativeStarted,
    InitiativeUpdated,
    InterviewRecorded,
    MeetingHeld,
    MeetingRecorded,
    MeetingRescheduled,
    MeetingScheduled,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    MemberRejoined,
    MemoPublished,
    PersonErased,
    PersonRegistered,
    ResponseSubmitted,
    RsvpRecorded,
    SurveyClosed,
    SurveyOpened,
    decode,
    encode,
    make_envelope,
)
from shared.storage import create_engine, create_schema, session_factory

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]
Batches = Sequence[Sequence[DecodedEvent]]


def ev(
    event: Event, aggregate: uuid.UUID, seq: int, at: datetime = T0, region: str = "oulu"
) -> DecodedEvent:
    """An event as the consumer hands it over (a fresh event id every time)."""
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


def orders(events: list[DecodedEvent]) -> dict[str, Batches]:
    """The same events in order, reversed in one batch, one batch each in reverse, and all
    of them twice (the second time re-sent with new event ids)."""
    resent = [
        decode(encode(e.envelope.model_copy(update={"event_id": uuid.uuid4()}))) for e in events
    ]
    return {
        "in_order": [events],
        "reversed_one_batch": [events[::-1]],
        "reversed_batches": [[e] for e in events[::-1]],
        "resent": [events, resent[::-1]],
    }


ORDERS = ["in_order", "reversed_one_batch", "reversed_batches", "resent"]


async def rows(sessions: Sessions, table: Table, *where: ColumnElement[bool]) -> list[Row[Any]]:
    async with sessions() as session:
        return list((await session.execute(select(table).where(*where))).all())


async def one(sessions: Sessions, table: Table, *where: ColumnElement[bool]) -> Row[Any]:
    found = await rows(sessions, table, *where)
    assert len(found) == 1, found
    return found[0]


async def count(sessions: Sessions, table: Table, *where: ColumnElement[bool]) -> int:
    async with sessions() as session:
        found = await session.scalar(select(func.count()).select_from(table).where(*where))
    return int(found or 0)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.mark.parametrize("order", ORDERS)
async def test_facilitators_follow_their_newest_event(sessions: Sessions, order: str) -> None:
    g, agent, researcher = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    events = [
        ev(FacilitatorAssigned(group_id=g, facilitator_id=agent, role="agency_agent"), g, 2),
        ev(FacilitatorAssigned(group_id=g, facilitator_id=researcher, role="researcher"), g, 3),
        ev(FacilitatorRemoved(group_id=g, facilitator_id=agent), g, 4),
    ]
    await apply(sessions, *orders(events)[order])
    found = {r.facilitator_id: r for r in await rows(sessions, facilitators)}
    assert (found[str(agent)].active, found[str(agent)].role) == (False, "agency_agent")
    assert (found[str(researcher)].active, found[str(researcher)].role) == (True, "researcher")
    assert found[str(agent)].version == 4


@pytest.mark.parametrize("order", ORDERS)
async def test_pause_rejoin_and_leave_with_history(sessions: Sessions, order: str) -> None:
    g, m = uuid.uuid4(), uuid.uuid4()
    events = [
        ev(MemberJoined(member_id=m, group_id=g, joined_on=date(2020, 1, 1), employees=2), m, 1),
        ev(MemberPaused(member_id=m, group_id=g, paused_on=date(2021, 1, 1), reason="busy"), m, 2),
        ev(MemberRejoined(member_id=m, group_id=g, rejoined_on=date(2021, 6, 1)), m, 3),
        ev(MemberPaused(member_id=m, group_id=g, paused_on=date(2022, 1, 1)), m, 4),
    ]
    await apply(sessions, *orders(events)[order])
    member = await one(sessions, members, members.c.id == str(m))
    assert (member.status, member.active, member.version) == ("PAUSED", False, 4)
    assert (member.paused_on, member.pause_reason) == (date(2022, 1, 1), "")
    assert (member.rejoined_on, member.joined_on, member.employees) == (
        date(2021, 6, 1),
        date(2020, 1, 1),
        2,
    )
    history = sorted(await rows(sessions, membership_changes), key=lambda r: r.version)
    assert [(h.change, h.changed_on, h.reason) for h in history] == [
        ("JOINED", date(2020, 1, 1), None),
        ("PAUSED", date(2021, 1, 1), "busy"),
        ("REJOINED", date(2021, 6, 1), None),
        ("PAUSED", date(2022, 1, 1), None),
    ]
    await apply(
        sessions, [ev(MemberRejoined(member_id=m, group_id=g, rejoined_on=date(2023, 1, 1)), m, 5)]
    )
    await apply(sessions, [ev(MemberLeft(member_id=m, group_id=g, left_on=date(2024, 1, 1)), m, 6)])
    member = await one(sessions, members, members.c.id == str(m))
    assert (member.status, member.active) == ("LEFT", False)
    assert await count(sessions, membership_changes) == 6


async def test_a_rejoin_makes_a_member_active_and_counted(sessions: Sessions) -> None:
    g, m = uuid.uuid4(), uuid.uuid4()
    await apply(
        sessions,
        [ev(MemberRejoined(member_id=m, group_id=g, rejoined_on=date(2023, 1, 1)), m, 3)],
        [ev(MemberLeft(member_id=m, group_id=g, left_on=date(2022, 1, 1)), m, 2)],
    )
    member = await one(sessions, members, members.c.id == str(m))
    assert (member.status, member.active, member.left_on, member.joined_on) == (
        "ACTIVE",
        True,
        date(2022, 1, 1),
        None,
    )


@pytest.mark.parametrize("order", ORDERS)
async def test_reschedule_rsvp_recording_and_memo(sessions: Sessions, order: str) -> None:
    g, meet, host, a, b = (uuid.uuid4() for _ in range(5))
    starts = datetime(2025, 4, 1, 15, 0, tzinfo=UTC)
    moved = starts + timedelta(days=7)
    events = [
        ev(
            MeetingScheduled(
                meeting_id=meet, group_id=g, host_member_id=host, theme="Export", starts_at=starts
            ),
            meet,
            1,
        ),
        ev(RsvpRecorded(meeting_id=meet, group_id=g, member_id=a, coming=True), meet, 2),
        ev(RsvpRecorded(meeting_id=meet, group_id=g, member_id=b, coming=True), meet, 3),
        ev(
            MeetingRescheduled(meeting_id=meet, group_id=g, starts_at=moved, theme="Exports"),
            meet,
            4,
        ),
        ev(RsvpRecorded(meeting_id=meet, group_id=g, member_id=a, coming=False), meet, 5),
        ev(
            MeetingHeld(meeting_id=meet, group_id=g, held_at=moved, attendee_member_ids=(b,)),
            meet,
            6,
        ),
        ev(MeetingRecorded(meeting_id=meet, group_id=g), meet, 7),
        ev(MemoPublished(meeting_id=meet, group_id=g, summary="First"), meet, 8, T0),
        ev(
            MemoPublished(meeting_id=meet, group_id=g, summary="Fixed"),
            meet,
            9,
            T0 + timedelta(hours=1),
        ),
    ]
    await apply(sessions, *orders(events)[order])
    row = await one(sessions, meetings, meetings.c.id == str(meet))
    assert (row.status, row.theme, row.host_member_id, row.recorded, row.version) == (
        "HELD",
        "Exports",
        str(host),
        True,
        7,  # the meeting row's own events; RSVPs and memos have their tables
    )
    assert (utc(row.starts_at), row.attendance_count) == (moved, 1)
    answers = {r.member_id: r.coming for r in await rows(sessions, rsvps)}
    assert answers == {str(a): False, str(b): True}
    memo = await one(sessions, memos, memos.c.meeting_id == str(meet))
    assert (memo.summary, utc(memo.published_at), memo.region) == (
        "Fixed",
        T0 + timedelta(hours=1),
        "oulu",
    )


async def test_a_reschedule_alone_makes_a_planned_meeting_a_stale_one_changes_nothing(
    sessions: Sessions,
) -> None:
    g, meet, host = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    starts = datetime(2025, 5, 1, 15, 0, tzinfo=UTC)
    await apply(
        sessions,
        [ev(MeetingRescheduled(meeting_id=meet, group_id=g, starts_at=starts, theme="B"), meet, 3)],
    )
    row = await one(sessions, meetings, meetings.c.id == str(meet))
    assert (row.status, row.theme, row.host_member_id, utc(row.starts_at)) == (
        "PLANNED",
        "B",
        None,
        starts,
    )
    await apply(
        sessions,
        [
            ev(
                MeetingScheduled(
                    meeting_id=meet,
                    group_id=g,
                    host_member_id=host,
                    theme="A",
                    starts_at=starts - timedelta(days=1),
                ),
                meet,
                1,
            ),
            ev(
                MeetingRescheduled(
                    meeting_id=meet, group_id=g, starts_at=starts + timedelta(days=1), theme="Old"
                ),
                meet,
                2,
            ),
        ],
    )
    row = await one(sessions, meetings, meetings.c.id == str(meet))
    assert (row.status, row.theme, row.host_member_id, utc(row.starts_at), row.recorded) == (
        "PLANNED",
        "B",
        str(host),
        starts,
        False,
    )


@pytest.mark.parametrize("order", ORDERS)
async def test_action_items_open_and_closed(sessions: Sessions, order: str) -> None:
    g, meet, owner, done, todo = (uuid.uuid4() for _ in range(5))
    events = [
        ev(
            ActionItemAgreed(
                action_id=done,
                meeting_id=meet,
                group_id=g,
                owner_member_id=owner,
                description="Call the bank",
                due_on=date(2025, 5, 1),
            ),
            done,
            1,
        ),
        ev(
            ActionItemClosed(action_id=done, group_id=g, closed_on=date(2025, 4, 20), outcome="ok"),
            done,
            2,
        ),
        ev(
            ActionItemAgreed(
                action_id=todo,
                meeting_id=meet,
                group_id=g,
                owner_member_id=owner,
                description="Draft",
            ),
            todo,
            1,
        ),
    ]
    await apply(sessions, *orders(events)[order])
    closed = await one(sessions, action_items, action_items.c.id == str(done))
    assert (closed.meeting_id, closed.description, closed.closed_on, closed.outcome) == (
        str(meet),
        "Call the bank",
        date(2025, 4, 20),
        "ok",
    )
    still = await one(sessions, action_items, action_items.c.id == str(todo))
    assert (still.closed_version, still.description) == (None, "Draft")


@pytest.mark.parametrize("order", ORDERS)
async def test_activities_follow_their_meeting_and_corrections(
    sessions: Sessions, order: str
) -> None:
    g, meet, act, coder, a, b, c = (uuid.uuid4() for _ in range(7))
    starts = datetime(2025, 6, 1, 15, 0, tzinfo=UTC)
    moved = starts + timedelta(days=3)
    events = [
        ev(
            MeetingScheduled(
                meeting_id=meet, group_id=g, host_member_id=a, theme="Booths", starts_at=starts
            ),
            meet,
            1,
        ),
        ev(
            ActivityRecorded(
                activity_id=act,
                meeting_id=meet,
                group_id=g,
                activity_type="reusing_assets",
                example="shared a festival booth",
                member_ids=(a, b),
                coder_id=coder,
            ),
            act,
            1,
            T0 + timedelta(days=100),
        ),
        ev(
            MeetingRescheduled(meeting_id=meet, group_id=g, starts_at=moved, theme="Booths"),
            meet,
            2,
        ),
        ev(
            ActivityRecorded(
                activity_id=act,
                meeting_id=meet,
                group_id=g,
                activity_type="coordination_and_strategy",
                example="shared a festival booth and logistics",
                member_ids=(b, c),
                coder_id=coder,
            ),
            act,
            2,
            T0 + timedelta(days=101),
        ),
    ]
    await apply(sessions, *orders(events)[order])
    row = await one(sessions, activities, activities.c.id == str(act))
    assert (row.activity_type, row.example, row.coder_id, row.meeting_id, row.region) == (
        "coordination_and_strategy",
        "shared a festival booth and logistics",
        str(coder),
        str(meet),
        "oulu",
    )
    assert utc(row.meeting_starts_at) == moved
    involved = {r.member_id for r in await rows(sessions, activity_members)}
    assert involved == {str(b), str(c)}


async def test_an_activity_before_its_meeting_takes_the_meeting_date_later(
    sessions: Sessions,
) -> None:
    g, meet, act, a = (uuid.uuid4() for _ in range(4))
    starts = datetime(2025, 6, 1, 15, 0, tzinfo=UTC)
    recorded_at = T0 + timedelta(days=200)
    activity = ActivityRecorded(
        activity_id=act,
        meeting_id=meet,
        group_id=g,
        activity_type="visits",
        example="visited a plant",
    )
    await apply(sessions, [ev(activity, act, 1, recorded_at)])
    assert utc((await one(sessions, activities)).meeting_starts_at) == recorded_at
    await apply(
        sessions,
        [
            ev(
                MeetingScheduled(
                    meeting_id=meet, group_id=g, host_member_id=a, theme="Visit", starts_at=starts
                ),
                meet,
                1,
            )
        ],
    )
    assert utc((await one(sessions, activities)).meeting_starts_at) == starts


@pytest.mark.parametrize("order", ORDERS)
async def test_initiatives_status_members_and_history(sessions: Sessions, order: str) -> None:
    g, meet, ini, a, b, c = (uuid.uuid4() for _ in range(6))
    events = [
        ev(
            InitiativeStarted(
                initiative_id=ini,
                group_id=g,
                origin_meeting_id=meet,
                title="Exhibition house",
                member_ids=(a, b),
                started_on=date(2016, 5, 1),
            ),
            ini,
            1,
        ),
        ev(
            InitiativeUpdated(
                initiative_id=ini,
                group_id=g,
                status="paused",
                member_ids=(a, b, c),
                updated_on=date(2016, 6, 1),
            ),
            ini,
            2,
        ),
        ev(
            InitiativeUpdated(
                initiative_id=ini,
                group_id=g,
                status="completed",
                outcome="built in three weeks",
                member_ids=(a, c),
                updated_on=date(2016, 7, 1),
            ),
            ini,
            3,
        ),
    ]
    await apply(sessions, *orders(events)[order])
    row = await one(sessions, initiatives, initiatives.c.id == str(ini))
    assert (row.status, row.title, row.origin_meeting_id, row.outcome, row.updated_on) == (
        "COMPLETED",
        "Exhibition house",
        str(meet),
        "built in three weeks",
        date(2016, 7, 1),
    )
    assert {r.member_id for r in await rows(sessions, initiative_members)} == {str(a), str(c)}
    history = sorted(await rows(sessions, initiative_updates), key=lambda r: r.version)
    assert [(h.status, h.member_count, h.changed_on) for h in history] == [
        ("ACTIVE", 2, date(2016, 5, 1)),
        ("PAUSED", 3, date(2016, 6, 1)),
        ("COMPLETED", 2, date(2016, 7, 1)),
    ]


@pytest.mark.parametrize("order", ORDERS)
async def test_surveys_responses_and_interviews(sessions: Sessions, order: str) -> None:
    g, meet, survey, r1, r2, member, interview = (uuid.uuid4() for _ in range(7))
    closes = datetime(2025, 7, 1, tzinfo=UTC)

    def response(rid: uuid.UUID, overall: int, seq: int) -> DecodedEvent:
        scores = ResponseSubmitted(
            response_id=rid,
            survey_id=survey,
            meeting_id=meet,
            group_id=g,
            overall=overall,
            usefulness=4,
            recommend=8,
        )
        return ev(scores, rid, seq)

    events = [
        ev(
            SurveyOpened(
                survey_id=survey, meeting_id=meet, group_id=g, invited=5, closes_at=closes
            ),
            survey,
            1,
            T0,
        ),
        response(r1, 2, 1),
        response(r1, 5, 2),  # an edit
        response(r2, 3, 1),
        ev(
            SurveyClosed(survey_id=survey, meeting_id=meet, group_id=g, invited=6, responses=2),
            survey,
            2,
            closes,
        ),
        ev(
            InterviewRecorded(
                interview_id=interview,
                member_id=member,
                interviewed_on=date(2025, 1, 1),
                intends_to_grow="unsure",
                planned_hires=0,
            ),
            interview,
            1,
        ),
        ev(
            InterviewRecorded(
                interview_id=interview,
                member_id=member,
                interviewed_on=date(2025, 1, 1),
                intends_to_grow="yes",
                planned_hires=2,
                barriers=("financing", "time"),
            ),
            interview,
            2,
        ),
    ]
    await apply(sessions, *orders(events)[order])
    row = await one(sessions, surveys)
    assert (row.invited, utc(row.opened_at), utc(row.closes_at), utc(row.closed_at)) == (
        6,
        T0,
        closes,
        closes,
    )
    scores = {r.id: r.overall for r in await rows(sessions, survey_responses)}
    assert scores == {str(r1): 5, str(r2): 3}
    found = await one(sessions, interviews)
    assert (found.intends_to_grow, found.planned_hires, found.barriers, found.member_id) == (
        "yes",
        2,
        "financing,time",
        str(member),
    )


async def test_person_and_consent_events_only_count_towards_freshness(sessions: Sessions) -> None:
    person, member = uuid.uuid4(), uuid.uuid4()
    await apply(
        sessions,
        [
            ev(PersonRegistered(person_id=person, member_id=member), person, 1),
            ev(
                ConsentGiven(
                    person_id=person, member_id=member, purpose="research_use", given_at=T0
                ),
                person,
                2,
            ),
            ev(
                ConsentWithdrawn(
                    person_id=person, member_id=member, purpose="research_use", withdrawn_at=T0
                ),
                person,
                3,
            ),
            ev(PersonErased(person_id=person, member_id=member, erased_at=T0), person, 4),
        ],
    )
    assert (await one(sessions, regions)).events_applied == 4
    # panel_secrets: the region's key for pseudonymous panel keys, about no person
    kept = {"regions", "processed_events", "processed_marks", "panel_secrets"}
    for table in metadata.sorted_tables:
        if table.name not in kept:
            assert await count(sessions, table) == 0, table.name
    # and no table of the read model holds a person's id: only the panel's pseudonymous key
    columns = [c for t in metadata.sorted_tables for c in t.c]
    assert not [c for c in columns if "person" in c.name and c.name != "person_key"]
