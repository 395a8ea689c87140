"""The meetings service's follow-up features on a real database (SQLite and PostgreSQL):
every rule and refusal through the service layer, the replica of pauses, persons and
consents, the queries, and the HTTP feeds (.ics parsed back, memos.md)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from services.meetings import handlers
from services.meetings.commands import (
    AgreeAction,
    CancelMeeting,
    CloseAction,
    MarkRecorded,
    Node,
    PublishMemo,
    RecordActivity,
    RecordMeetingHeld,
    RecordRsvp,
    RescheduleMeeting,
    ScheduleMeeting,
    StartInitiative,
    UpdateInitiative,
)
from services.meetings.domain import MeetingStatus
from services.meetings.http import http_routes
from services.meetings.orm import TABLES, Base
from services.meetings.replica import ReplicaStore
from services.meetings.repository import (
    ActionRepository,
    InitiativeRepository,
    MeetingRepository,
)
from shared.contracts import (
    ConsentGiven,
    ConsentWithdrawn,
    DecodedEvent,
    Event,
    GroupCreated,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    MemberRejoined,
    PersonErased,
    PersonRegistered,
    decode,
    encode,
    make_envelope,
)
from shared.directory import MaskedText
from shared.errors import DomainError
from shared.errors import meetings as errors
from shared.errors import meetings_work as work_errors
from shared.runtime import UnitOfWork
from shared.storage import create_engine, create_schema, session_factory

TZ = ZoneInfo("Europe/Helsinki")
NODE = Node(region="oulu", tz=TZ)


class NoNames:
    """A stand-in for the groups service's masking, for tests about memos' storage (the
    masking itself is tested through the running services, test_region_to_nation)."""

    async def mask_names(self, text: str) -> MaskedText:
        return MaskedText(text=text, masked=())


MASKER = NoNames()
PAST = datetime(2024, 5, 14, 18, tzinfo=TZ)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


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


async def apply(sessions, event: Event, aggregate_id: UUID, sequence: int = 1) -> bool:
    return await handlers.apply_groups_event(decoded(event, aggregate_id, sequence), uow(sessions))


async def seed(sessions, members: int = 3) -> tuple[UUID, list[UUID]]:
    group_id, member_ids = uuid4(), [uuid4() for _ in range(members)]
    await apply(
        sessions,
        GroupCreated(group_id=group_id, name="Oulu 1", founded_on=date(2015, 1, 1)),
        group_id,
    )
    for member_id in member_ids:
        joined = MemberJoined(
            member_id=member_id, group_id=group_id, joined_on=date(2020, 1, 1), employees=2
        )
        await apply(sessions, joined, member_id)
    return group_id, member_ids


async def outbox(sessions) -> list[tuple[str, int]]:
    async with sessions() as session:
        rows = (
            await session.execute(select(TABLES.outbox.c.body).order_by(TABLES.outbox.c.id))
        ).all()
    return [(e.type, e.sequence) for e in (decode(r.body).envelope for r in rows)]


async def schedule(sessions, group_id, host, starts=PAST, theme="Pricing"):
    return await handlers.schedule_meeting(
        ScheduleMeeting(group_id, host, theme, starts), uow(sessions), NODE
    )


async def held_meeting(sessions, group_id, host, attendees, starts=PAST):
    meeting = await schedule(sessions, group_id, host, starts)
    return await handlers.record_meeting_held(
        RecordMeetingHeld(meeting.id, tuple(attendees)), uow(sessions), NODE
    )


async def test_reschedule_and_rsvp_while_planned(sessions):
    group_id, (host, guest, _third) = await seed(sessions)
    meeting = await schedule(sessions, group_id, host)
    later = PAST + timedelta(days=7)
    moved = await handlers.reschedule_meeting(
        RescheduleMeeting(meeting.id, starts_at=later, theme="Export"), uow(sessions), NODE
    )
    assert (moved.starts_at, moved.theme) == (later.astimezone(UTC), "Export")
    await handlers.record_rsvp(RecordRsvp(meeting.id, guest, True), uow(sessions), NODE)
    answered = await handlers.record_rsvp(RecordRsvp(meeting.id, guest, False), uow(sessions), NODE)
    assert answered.rsvps == ((guest, False),)
    async with sessions() as session:
        assert await MeetingRepository(session).get(meeting.id) == answered
    with pytest.raises(errors.NothingToReschedule):
        await handlers.reschedule_meeting(RescheduleMeeting(meeting.id), uow(sessions), NODE)
    with pytest.raises(errors.MemberNotInGroup):
        await handlers.record_rsvp(RecordRsvp(meeting.id, uuid4(), True), uow(sessions), NODE)
    with pytest.raises(errors.MeetingNotFound):
        await handlers.record_rsvp(RecordRsvp(uuid4(), guest, True), uow(sessions), NODE)
    await handlers.cancel_meeting(CancelMeeting(meeting.id, "Flu"), uow(sessions), NODE)
    with pytest.raises(errors.MeetingAlreadyCancelled):
        await handlers.reschedule_meeting(
            RescheduleMeeting(meeting.id, theme="x"), uow(sessions), NODE
        )
    with pytest.raises(errors.MeetingAlreadyCancelled):
        await handlers.record_rsvp(RecordRsvp(meeting.id, host, True), uow(sessions), NODE)
    assert await outbox(sessions) == [
        ("meetings.meeting.scheduled", 1),
        ("meetings.meeting.rescheduled", 2),
        ("meetings.meeting.rsvp_recorded", 3),
        ("meetings.meeting.rsvp_recorded", 4),
        ("meetings.meeting.cancelled", 5),
    ]


async def test_pause_and_rejoin_reach_the_replica_and_host_suggestions(sessions):
    group_id, (a, b, c) = await seed(sessions)
    await apply(
        sessions, MemberPaused(member_id=c, group_id=group_id, paused_on=date(2024, 1, 1)), c, 2
    )
    # a hosted in March, b in January, a cancelled meeting of b does not count
    await held_meeting(sessions, group_id, a, [a], starts=datetime(2024, 3, 5, 18, tzinfo=TZ))
    await held_meeting(sessions, group_id, b, [b], starts=datetime(2024, 1, 9, 18, tzinfo=TZ))
    gone = await schedule(sessions, group_id, b, starts=datetime(2024, 4, 9, 18, tzinfo=TZ))
    await handlers.cancel_meeting(CancelMeeting(gone.id, "Flu"), uow(sessions), NODE)
    got = await handlers.suggest_next_host(group_id, date(2024, 5, 1), uow(sessions), NODE)
    assert [(s.member_id, s.last_hosted_on) for s in got] == [
        (b, date(2024, 1, 9)),
        (a, date(2024, 3, 5)),
    ]
    with pytest.raises(errors.HostNotActive):
        await schedule(sessions, group_id, c, starts=datetime(2024, 5, 1, 18, tzinfo=TZ))
    await apply(
        sessions, MemberRejoined(member_id=c, group_id=group_id, rejoined_on=date(2024, 4, 1)), c, 3
    )
    got = await handlers.suggest_next_host(group_id, date(2024, 5, 1), uow(sessions), NODE)
    assert [s.member_id for s in got] == [c, b, a]  # never hosted first
    with pytest.raises(errors.UnknownGroup):
        await handlers.suggest_next_host(uuid4(), date(2024, 5, 1), uow(sessions), NODE)


async def test_consent_replica_decides_recording(sessions):
    group_id, (a, b, _c) = await seed(sessions)
    meeting = await held_meeting(sessions, group_id, a, [a, b])
    pa, pb1, pb2 = uuid4(), uuid4(), uuid4()

    async def consent(person, member, given, at, seq):
        event: Event
        if given:
            event = ConsentGiven(
                person_id=person, member_id=member, purpose="audio_recording", given_at=at
            )
        else:
            event = ConsentWithdrawn(
                person_id=person, member_id=member, purpose="audio_recording", withdrawn_at=at
            )
        await apply(sessions, event, person, seq)

    async def mark():
        return await handlers.mark_recorded(MarkRecorded(meeting.id), uow(sessions), NODE)

    # consent arriving before the registration; b has two persons, one consents
    await consent(pa, a, True, T0, 2)
    await apply(sessions, PersonRegistered(person_id=pa, member_id=a), pa, 1)
    await apply(sessions, PersonRegistered(person_id=pb1, member_id=b), pb1, 1)
    await apply(sessions, PersonRegistered(person_id=pb2, member_id=b), pb2, 1)
    await consent(pb1, b, True, T0, 2)
    with pytest.raises(errors.RecordingConsentMissing) as refused:
        await mark()
    params = refused.value.json_params()
    assert params["member_ids"] == [str(b)]
    (blocking,) = params["members"]
    assert blocking["params"]["person_ids"] == [str(pb2)]
    assert blocking["params"]["company_name"] is None
    assert "MGN_MEETINGS_GROUPS_URL" in params["names_note"]  # no directory
    # a withdrawal older than the consent changes nothing; a newer one counts
    await consent(pb2, b, True, T0 + timedelta(hours=2), 2)
    await consent(pb2, b, False, T0 + timedelta(hours=1), 3)
    async with sessions() as session:
        assert await ReplicaStore(session).audio_consents([pb2]) == {pb2: True}
    await consent(pa, a, False, T0 + timedelta(days=1), 3)
    with pytest.raises(errors.RecordingConsentMissing) as refused:
        await mark()
    assert refused.value.json_params()["member_ids"] == [str(a)]
    # a's only person is erased: a has no registered person; late consent does not revive
    await apply(
        sessions, PersonErased(person_id=pa, member_id=a, erased_at=T0 + timedelta(days=2)), pa, 4
    )
    await consent(pa, a, True, T0 + timedelta(days=3), 5)
    with pytest.raises(errors.RecordingConsentMissing) as refused:
        await mark()
    assert "has no registered contact person" in str(refused.value)
    pa2 = uuid4()
    await apply(sessions, PersonRegistered(person_id=pa2, member_id=a), pa2, 1)
    await consent(pa2, a, True, T0, 2)
    recorded = await mark()
    assert recorded.recorded
    with pytest.raises(errors.AlreadyRecorded):
        await mark()
    assert (await outbox(sessions))[-1] == ("meetings.meeting.recorded", 3)


async def test_memo_actions_agenda_and_memo_series(sessions):
    group_id, (a, b, _c) = await seed(sessions)
    may = await held_meeting(sessions, group_id, a, [a, b])
    june = await schedule(sessions, group_id, b, starts=PAST + timedelta(days=28))
    with pytest.raises(errors.MeetingNotHeld):
        await handlers.publish_memo(PublishMemo(june.id, "Too early"), uow(sessions), NODE, MASKER)
    with pytest.raises(errors.MeetingNotHeld):
        await handlers.agree_action(AgreeAction(june.id, a, "x"), uow(sessions), NODE)
    await handlers.publish_memo(
        PublishMemo(may.id, "Raise prices by 10 %."), uow(sessions), NODE, MASKER
    )
    first = await handlers.agree_action(
        AgreeAction(may.id, b, "Send the template", date(2024, 6, 1)), uow(sessions), NODE
    )
    second = await handlers.agree_action(
        AgreeAction(may.id, a, "Call the bank"), uow(sessions), NODE
    )
    with pytest.raises(errors.MemberNotInGroup):
        await handlers.agree_action(AgreeAction(may.id, uuid4(), "x"), uow(sessions), NODE)
    agenda = await handlers.agenda(june.id, uow(sessions))
    assert [i.id for i in agenda] == [first.id, second.id]
    assert await handlers.agenda(may.id, uow(sessions)) == []  # nothing from earlier meetings
    async with sessions() as session:  # the home page's open follow-ups of the groups
        actions = ActionRepository(session)
        assert [i.id for i in await actions.open_of_groups([group_id])] == [first.id, second.id]
        assert await actions.open_of_groups([uuid4()]) == []
        assert await actions.open_of_groups([]) == []
    closed = await handlers.close_action(
        CloseAction(first.id, date(2024, 5, 30), "Sent"), uow(sessions), NODE
    )
    assert closed.closed_on == date(2024, 5, 30)
    with pytest.raises(work_errors.ActionAlreadyClosed):
        await handlers.close_action(CloseAction(first.id), uow(sessions), NODE)
    with pytest.raises(work_errors.ActionNotFound):
        await handlers.close_action(CloseAction(uuid4()), uow(sessions), NODE)
    assert [i.id for i in await handlers.agenda(june.id, uow(sessions))] == [second.id]
    async with sessions() as session:
        assert [i.id for i in await ActionRepository(session).open_of_groups([group_id])] == [
            second.id
        ]
    june_held = await handlers.record_meeting_held(
        RecordMeetingHeld(june.id, (a, b)), uow(sessions), NODE
    )
    await handlers.publish_memo(
        PublishMemo(june_held.id, "Second memo"), uow(sessions), NODE, MASKER
    )
    async with sessions() as session:
        series = await MeetingRepository(session).with_memos(group_id)
    assert [m.memo for m in series] == ["Raise prices by 10 %.", "Second memo"]
    types = [t for t, _ in await outbox(sessions)]
    assert types.count("meetings.meeting.memo_published") == 2
    assert ("meetings.action.closed", 2) in await outbox(sessions)


async def test_activities_and_initiatives(sessions):
    group_id, (a, b, _c) = await seed(sessions)
    other_group, (stranger,) = await seed(sessions, members=1)
    meeting = await held_meeting(sessions, group_id, a, [a, b])
    activity = await handlers.record_activity(
        RecordActivity(meeting.id, "coordination_and_strategy", "Exhibition house", (a, b)),
        uow(sessions),
        NODE,
    )
    assert activity.member_ids == (a, b)
    with pytest.raises(errors.MembersNotInGroup) as refused:
        await handlers.record_activity(
            RecordActivity(meeting.id, "visits", "Visit", (a, stranger)), uow(sessions), NODE
        )
    assert refused.value.json_params()["member_ids"] == [str(stranger)]
    with pytest.raises(work_errors.UnknownActivityType):
        await handlers.record_activity(RecordActivity(meeting.id, "chat", "x"), uow(sessions), NODE)
    initiative = await handlers.start_initiative(
        StartInitiative(meeting.id, "Festival booth", (a, b)), uow(sessions), NODE
    )
    await handlers.update_initiative(
        UpdateInitiative(initiative.id, "paused", updated_on=date(2024, 7, 1)), uow(sessions), NODE
    )
    done = await handlers.update_initiative(
        UpdateInitiative(initiative.id, "completed", "Sold out", (b,), date(2024, 8, 1)),
        uow(sessions),
        NODE,
    )
    async with sessions() as session:
        stored = await InitiativeRepository(session).get(initiative.id)
    assert stored == done
    assert [u.status for u in stored.history] == ["active", "paused", "completed"]
    with pytest.raises(work_errors.InitiativeFinished):
        await handlers.update_initiative(
            UpdateInitiative(initiative.id, "active"), uow(sessions), NODE
        )
    with pytest.raises(work_errors.InitiativeNotFound):
        await handlers.update_initiative(UpdateInitiative(uuid4(), "active"), uow(sessions), NODE)
    assert [e for e in await outbox(sessions) if not e[0].endswith(("scheduled", "held"))] == [
        ("meetings.activity.recorded", 1),
        ("meetings.initiative.started", 1),
        ("meetings.initiative.updated", 2),
        ("meetings.initiative.updated", 3),
    ]
    assert other_group != group_id


def unfold(text: str) -> list[str]:
    """RFC 5545 3.1: remove CRLF followed by one space or tab; split into lines."""
    assert "\n" not in text.replace("\r\n", "")
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def parse_events(text: str) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in unfold(text):
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            events.append(current)
            current = None
        elif current is not None:
            current[name] = value
    return events


async def test_calendar_feeds_and_memo_markdown_over_http(sessions):
    group_id, (a, b, c) = await seed(sessions)
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    long_theme = "Hinnoittelu, kasvu; ja vienti\\ — " + "pitkä teema " * 10
    upcoming = await schedule(sessions, group_id, a, starts=soon, theme=long_theme)
    called_off = await schedule(sessions, group_id, b, starts=soon + timedelta(days=30))
    await handlers.cancel_meeting(CancelMeeting(called_off.id, "Flu"), uow(sessions), NODE)
    past = await held_meeting(sessions, group_id, a, [a, b])
    await handlers.publish_memo(
        PublishMemo(past.id, "Conclusions:\n- price up"), uow(sessions), NODE, MASKER
    )
    await apply(
        sessions,
        MemberJoined(member_id=c, group_id=group_id, joined_on=date(2020, 1, 1), employees=1),
        c,
    )

    app = Starlette(routes=http_routes(sessions, NODE))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://m"
    ) as http:
        response = await http.get(f"/calendar/group/{group_id}.ics")
        member_feed = await http.get(f"/calendar/member/{b}.ics")
        memos = await http.get(f"/groups/{group_id}/memos.md")
        missing = await http.get(f"/calendar/group/{uuid4()}.ics")
        missing_member = await http.get(f"/calendar/member/{uuid4()}.ics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    text = response.text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    events = parse_events(text)
    assert [e["UID"] for e in events] == [
        f"{upcoming.id}@oulu.meetings.mgn",
        f"{called_off.id}@oulu.meetings.mgn",
    ]  # the held past meeting is not upcoming
    first, second = events
    assert first["DTSTART"] == soon.strftime("%Y%m%dT%H%M%SZ")
    assert first["SUMMARY"] == (
        long_theme.strip().replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    )
    assert first["STATUS"] == "CONFIRMED"
    assert second["STATUS"] == "CANCELLED"
    assert all(len(e["DTSTAMP"]) == 16 and e["DTSTAMP"].endswith("Z") for e in events)
    assert parse_events(member_feed.text) == [
        {**e, "DTSTAMP": parse_events(member_feed.text)[i]["DTSTAMP"]} for i, e in enumerate(events)
    ]
    assert missing.status_code == 404
    assert missing_member.status_code == 404

    assert memos.status_code == 200
    assert memos.headers["content-type"].startswith("text/markdown")
    assert "# Memos of Oulu 1" in memos.text
    assert "## 2024-05-14: Pricing" in memos.text
    assert "- price up" in memos.text
    assert MeetingStatus.HELD.value == "held"


async def test_a_member_who_left_gets_an_empty_member_feed_and_a_rejoiner_a_full_one(sessions):
    """The per-member iCal feed of a member who left holds no meetings (the group's feed
    still does); after rejoining the member sees the upcoming meetings again."""
    group_id, (a, b, _c) = await seed(sessions)
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    upcoming = await schedule(sessions, group_id, a, starts=soon)
    app = Starlette(routes=http_routes(sessions, NODE))

    async def feeds() -> tuple[list[dict[str, str]], list[dict[str, str]], str]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://m"
        ) as http:
            member = await http.get(f"/calendar/member/{b}.ics")
            group = await http.get(f"/calendar/group/{group_id}.ics")
        assert (member.status_code, group.status_code) == (200, 200)
        return parse_events(member.text), parse_events(group.text), member.text

    uid = f"{upcoming.id}@oulu.meetings.mgn"
    before, _group, _text = await feeds()
    assert [e["UID"] for e in before] == [uid]

    left = MemberLeft(member_id=b, group_id=group_id, left_on=date(2024, 6, 1), reason="closed")
    assert await apply(sessions, left, b, 2)
    after, group_after, text = await feeds()
    assert after == []
    assert unfold(text)[0] == "BEGIN:VCALENDAR"  # still a valid, empty calendar
    assert [e["UID"] for e in group_after] == [uid]

    back = MemberRejoined(member_id=b, group_id=group_id, rejoined_on=date(2024, 9, 1))
    assert await apply(sessions, back, b, 3)
    rejoined, _group, _text = await feeds()
    assert [e["UID"] for e in rejoined] == [uid]


async def test_every_follow_up_refusal_has_its_code(sessions):
    """Each rule refused through the service layer, on both databases; nothing is emitted."""
    group_id, (a, b, _c) = await seed(sessions)
    _other, (stranger,) = await seed(sessions, members=1)
    planned = await schedule(sessions, group_id, a, starts=PAST + timedelta(days=28))
    held = await held_meeting(sessions, group_id, a, [a, b])
    done = await handlers.close_action(
        CloseAction(
            (await handlers.agree_action(AgreeAction(held.id, b, "x"), uow(sessions), NODE)).id
        ),
        uow(sessions),
        NODE,
    )
    finished = await handlers.start_initiative(
        StartInitiative(held.id, "Booth", (a,)), uow(sessions), NODE
    )
    await handlers.update_initiative(
        UpdateInitiative(finished.id, "abandoned"), uow(sessions), NODE
    )
    live = await handlers.start_initiative(
        StartInitiative(held.id, "Trip", (a,)), uow(sessions), NODE
    )
    before = await outbox(sessions)
    u, n = uow, NODE
    cases = {
        "NOTHING_TO_RESCHEDULE": handlers.reschedule_meeting(
            RescheduleMeeting(planned.id), u(sessions), n
        ),
        "MEETING_ALREADY_HELD": handlers.reschedule_meeting(
            RescheduleMeeting(held.id, theme="x"), u(sessions), n
        ),
        "THEME_TOO_LONG": handlers.reschedule_meeting(
            RescheduleMeeting(planned.id, theme="x" * 301), u(sessions), n
        ),
        "TIMEZONE_REQUIRED": handlers.reschedule_meeting(
            RescheduleMeeting(planned.id, starts_at=datetime(2024, 7, 1, 18)), u(sessions), n
        ),
        "MEMBER_NOT_IN_GROUP": handlers.record_rsvp(
            RecordRsvp(planned.id, stranger, True), u(sessions), n
        ),
        "MEETING_NOT_HELD": handlers.mark_recorded(MarkRecorded(planned.id), u(sessions), n),
        "RECORDING_CONSENT_MISSING": handlers.mark_recorded(MarkRecorded(held.id), u(sessions), n),
        "TEXT_REQUIRED": handlers.publish_memo(PublishMemo(held.id, "  "), u(sessions), n, MASKER),
        "TEXT_TOO_LONG": handlers.publish_memo(
            PublishMemo(held.id, "x" * 20_001), u(sessions), n, MASKER
        ),
        "DATE_BEFORE_START": handlers.agree_action(
            AgreeAction(held.id, a, "x", date(2024, 1, 1)), u(sessions), n
        ),
        "ACTION_ALREADY_CLOSED": handlers.close_action(CloseAction(done.id), u(sessions), n),
        "ACTION_NOT_FOUND": handlers.close_action(CloseAction(uuid4()), u(sessions), n),
        "UNKNOWN_ACTIVITY_TYPE": handlers.record_activity(
            RecordActivity(held.id, "gossip", "x"), u(sessions), n
        ),
        "DUPLICATE_MEMBERS": handlers.record_activity(
            RecordActivity(held.id, "visits", "x", (a, a)), u(sessions), n
        ),
        "MEMBERS_NOT_IN_GROUP": handlers.start_initiative(
            StartInitiative(held.id, "x", (stranger,)), u(sessions), n
        ),
        "INITIATIVE_NEEDS_MEMBERS": handlers.start_initiative(
            StartInitiative(held.id, "x", ()), u(sessions), n
        ),
        "INITIATIVE_FINISHED": handlers.update_initiative(
            UpdateInitiative(finished.id, "active"), u(sessions), n
        ),
        "UNKNOWN_INITIATIVE_STATUS": handlers.update_initiative(
            UpdateInitiative(live.id, "sleeping"), u(sessions), n
        ),
        "INITIATIVE_NOT_FOUND": handlers.update_initiative(
            UpdateInitiative(uuid4(), "active"), u(sessions), n
        ),
        "MEETING_NOT_FOUND": handlers.agenda(uuid4(), u(sessions)),
        "UNKNOWN_GROUP": handlers.suggest_next_host(uuid4(), date(2024, 1, 1), u(sessions), n),
    }
    got = {}
    for code, call in cases.items():
        with pytest.raises(DomainError) as refused:
            await call
        got[code] = refused.value.code
    assert got == {code: code for code in cases}
    assert await outbox(sessions) == before


async def test_concurrent_events_of_one_new_person_do_not_collide(sessions):
    group_id, (a, *_rest) = await seed(sessions)
    person = uuid4()
    registered = decoded(PersonRegistered(person_id=person, member_id=a), person, 1)
    given = decoded(
        ConsentGiven(person_id=person, member_id=a, purpose="audio_recording", given_at=T0),
        person,
        2,
    )
    outcomes = await asyncio.gather(
        handlers.apply_groups_event(registered, uow(sessions)),
        handlers.apply_groups_event(given, uow(sessions)),
        return_exceptions=True,
    )
    assert list(outcomes) == [True, True]
    async with sessions() as session:
        replica = ReplicaStore(session)
        persons = await replica.persons_of([a])
        assert [(p.person_id, p.registered, p.erased) for p in persons] == [(person, True, False)]
        assert await replica.audio_consents([person]) == {person: True}
    assert group_id
