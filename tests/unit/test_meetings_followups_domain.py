"""Rules of the meeting's follow-ups, pure domain: rescheduling, RSVPs, recording consent,
memos, actions, CoP activities, initiatives, host rotation, pauses, and the .ics writer."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from services.meetings.api.types import ActivityType
from services.meetings.calendar import escape_text, fold, render_calendar, render_memo_series
from services.meetings.domain import (
    ActionItem,
    ActionStatus,
    Activity,
    ConsentState,
    Initiative,
    KnownGroup,
    Meeting,
    MeetingStatus,
    Membership,
    Person,
    RecordingProblem,
    recording_problems,
    suggest_hosts,
)
from shared.activity_types import ACTIVITY_TYPE_TEXTS
from shared.contracts import (
    ACTIVITY_TYPES,
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    InitiativeStarted,
    InitiativeUpdated,
    MeetingRecorded,
    MeetingRescheduled,
    MemoPublished,
    RsvpRecorded,
)
from shared.directory import MemberCard
from shared.errors import meetings as errors
from shared.errors import meetings_work as work_errors

TZ = ZoneInfo("Europe/Helsinki")
GROUP, OTHER = uuid4(), uuid4()
HOST, GUEST, OUTSIDER = uuid4(), uuid4(), uuid4()
STARTS = datetime(2024, 5, 14, 18, tzinfo=TZ)
MEETING_DAY = date(2024, 5, 14)
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def member(member_id: UUID, group_id: UUID = GROUP, **kw) -> Membership:
    base = {"joined_on": date(2020, 1, 1), "joined_sequence": 1}
    return Membership(member_id=member_id, group_id=group_id, **{**base, **kw})


MEMBERS = {HOST: member(HOST), GUEST: member(GUEST), OUTSIDER: member(OUTSIDER, OTHER)}


def planned() -> Meeting:
    meeting, _ = Meeting.schedule(
        meeting_id=uuid4(),
        group_id=GROUP,
        group=KnownGroup(GROUP, "Oulu 1", date(2015, 1, 1)),
        host_member_id=HOST,
        host=MEMBERS[HOST],
        theme="Pricing",
        starts_at=STARTS,
        tz=TZ,
    )
    return meeting


def held(attendees: tuple[UUID, ...] = (HOST, GUEST)) -> Meeting:
    meeting, _ = planned().hold(
        now=NOW, held_at=None, attendee_member_ids=attendees, members=MEMBERS, tz=TZ
    )
    return meeting


def cancelled() -> Meeting:
    return planned().cancel("Flu")[0]


# -- pause and rejoin --------------------------------------------------------------

JOIN = ("joined", 1, date(2020, 1, 1))
PAUSE = ("paused", 2, date(2022, 3, 31))
REJOIN = ("rejoined", 3, date(2022, 9, 1))
LEAVE = ("left", 4, date(2024, 1, 31))
REJOIN_AFTER_LEAVE = ("rejoined", 5, date(2024, 6, 1))


def _apply(state: Membership, step: tuple[str, int, date]) -> Membership:
    kind, sequence, day = step
    if kind == "joined":
        return state.joined(group_id=GROUP, joined_on=day, sequence=sequence)
    if kind == "left":
        return state.left(left_on=day, sequence=sequence)
    if kind == "paused":
        return state.paused(paused_on=day, sequence=sequence)
    return state.rejoined(rejoined_on=day, sequence=sequence)


def _run(steps) -> Membership:
    state = Membership(member_id=HOST, group_id=GROUP)
    for step in steps:
        state = _apply(state, step)
    return state


def test_a_paused_member_is_inactive_until_it_rejoins():
    state = _run([JOIN, PAUSE, REJOIN])
    assert state.active_on(date(2022, 3, 31))  # the day of pausing still counts
    assert not state.active_on(date(2022, 4, 1))
    assert not state.active_on(date(2022, 8, 31))
    assert state.active_on(date(2022, 9, 1))
    paused_now = _run([JOIN, PAUSE])
    assert paused_now.effective_paused_on == date(2022, 3, 31)
    assert not paused_now.active_on(date(2030, 1, 1))
    assert state.effective_paused_on is None


def test_a_departed_member_who_rejoins_is_active_again():
    state = _run([JOIN, PAUSE, REJOIN, LEAVE, REJOIN_AFTER_LEAVE])
    assert not state.active_on(date(2024, 3, 1))
    assert state.active_on(date(2024, 6, 1))
    assert state.effective_left_on is None


@pytest.mark.parametrize("order", list(itertools.permutations([JOIN, PAUSE, REJOIN, LEAVE])))
def test_pauses_merge_in_any_arrival_order(order):
    assert _run(order) == _run([JOIN, PAUSE, REJOIN, LEAVE])


def test_stale_pause_or_rejoin_changes_nothing():
    state = _run([JOIN, PAUSE, REJOIN])
    assert _apply(state, PAUSE) == state
    assert _apply(state, REJOIN) == state


# -- rescheduling --------------------------------------------------------------------


def test_reschedule_moves_time_and_theme_only_while_planned():
    meeting = planned()
    later = STARTS + timedelta(days=7)
    moved, event = meeting.reschedule(starts_at=later, theme=" Export ", host=MEMBERS[HOST], tz=TZ)
    assert (moved.starts_at, moved.theme, moved.version) == (later.astimezone(UTC), "Export", 2)
    assert event == MeetingRescheduled(
        meeting_id=meeting.id, group_id=GROUP, starts_at=later, theme="Export"
    )
    only_theme, _ = meeting.reschedule(starts_at=None, theme="Hiring", host=MEMBERS[HOST], tz=TZ)
    assert (only_theme.starts_at, only_theme.theme) == (meeting.starts_at, "Hiring")
    with pytest.raises(errors.MeetingAlreadyHeld):
        held().reschedule(starts_at=later, theme=None, host=MEMBERS[HOST], tz=TZ)
    with pytest.raises(errors.MeetingAlreadyCancelled):
        cancelled().reschedule(starts_at=later, theme=None, host=MEMBERS[HOST], tz=TZ)


def test_reschedule_refusals():
    meeting = planned()
    with pytest.raises(errors.NothingToReschedule):
        meeting.reschedule(starts_at=None, theme=None, host=MEMBERS[HOST], tz=TZ)
    with pytest.raises(errors.ThemeRequired):
        meeting.reschedule(starts_at=None, theme="  ", host=MEMBERS[HOST], tz=TZ)
    with pytest.raises(errors.TimezoneRequired):
        meeting.reschedule(
            starts_at=datetime(2024, 6, 1, 18), theme=None, host=MEMBERS[HOST], tz=TZ
        )
    paused_host = member(HOST, paused_on=date(2024, 5, 20), paused_sequence=2)
    with pytest.raises(errors.HostNotActive):
        meeting.reschedule(
            starts_at=STARTS + timedelta(days=30), theme=None, host=paused_host, tz=TZ
        )


# -- RSVP ------------------------------------------------------------------------------


def test_rsvp_per_member_latest_answer_wins():
    meeting = planned()
    answered, event = meeting.rsvp(member_id=GUEST, coming=True, member=MEMBERS[GUEST], tz=TZ)
    assert event == RsvpRecorded(
        meeting_id=meeting.id, group_id=GROUP, member_id=GUEST, coming=True
    )
    answered, _ = answered.rsvp(member_id=HOST, coming=True, member=MEMBERS[HOST], tz=TZ)
    answered, _ = answered.rsvp(member_id=GUEST, coming=False, member=MEMBERS[GUEST], tz=TZ)
    assert answered.rsvps == ((HOST, True), (GUEST, False))
    assert answered.version == 4


def test_rsvp_refusals():
    with pytest.raises(errors.MemberNotInGroup) as refused:
        planned().rsvp(member_id=OUTSIDER, coming=True, member=MEMBERS[OUTSIDER], tz=TZ)
    assert refused.value.json_params()["member_ids"] == [str(OUTSIDER)]
    assert refused.value.params["problem"].code == "MEMBER_OF_ANOTHER_GROUP"  # type: ignore[union-attr]
    with pytest.raises(errors.MemberNotInGroup):
        planned().rsvp(member_id=uuid4(), coming=True, member=None, tz=TZ)
    with pytest.raises(errors.MeetingAlreadyHeld):
        held().rsvp(member_id=GUEST, coming=True, member=MEMBERS[GUEST], tz=TZ)
    with pytest.raises(errors.MeetingAlreadyCancelled):
        cancelled().rsvp(member_id=GUEST, coming=True, member=MEMBERS[GUEST], tz=TZ)


# -- recording consent ----------------------------------------------------------------


def test_consent_latest_statement_wins_and_withdrawal_wins_a_tie():
    t = datetime(2024, 1, 1, tzinfo=UTC)
    state = ConsentState(True, t)
    assert state.apply(given=False, at=t - timedelta(seconds=1)) == state
    assert state.apply(given=False, at=t) == ConsentState(False, t)
    assert ConsentState(False, t).apply(given=True, at=t) == ConsentState(False, t)
    assert state.apply(given=False, at=t + timedelta(1)).given is False


def test_recording_problems_name_each_member_without_full_consent():
    p1, p2, p3 = uuid4(), uuid4(), uuid4()
    persons = [
        Person(p1, HOST, registered=True, erased=False),
        Person(p2, GUEST, registered=True, erased=False),
        Person(p3, GUEST, registered=True, erased=False),
        Person(uuid4(), GUEST, registered=True, erased=True),  # erased: not counted
        Person(uuid4(), HOST, registered=False, erased=False),  # consent before registration
    ]
    problems = recording_problems([HOST, GUEST, OUTSIDER], persons, {p1: True, p2: True})
    assert set(problems) == {GUEST, OUTSIDER}
    assert problems[OUTSIDER] == RecordingProblem()
    assert problems[GUEST] == RecordingProblem(2, (p3,))
    assert problems[GUEST].refusal(GUEST).render("en") == (
        f"{GUEST}: 1 of 2 contact persons have not consented to audio recording ({p3})."
    )
    assert recording_problems([HOST, GUEST], persons, {p1: True, p2: True, p3: True}) == {}


def test_mark_recorded_only_held_once_and_with_every_attendees_consent():
    meeting = held()
    with pytest.raises(errors.RecordingConsentMissing) as refused:
        meeting.mark_recorded({GUEST: RecordingProblem()})
    assert refused.value.code == "RECORDING_CONSENT_MISSING"
    assert refused.value.json_params()["member_ids"] == [str(GUEST)]
    assert f"{GUEST} has no registered contact person" in refused.value.render("en")
    recorded, event = meeting.mark_recorded({})
    assert recorded.recorded
    assert recorded.version == 3
    assert event == MeetingRecorded(meeting_id=meeting.id, group_id=GROUP)
    with pytest.raises(errors.AlreadyRecorded):
        recorded.mark_recorded({})
    with pytest.raises(errors.MeetingNotHeld):
        planned().mark_recorded({})


# -- memo ------------------------------------------------------------------------------


def test_memo_is_published_for_a_held_meeting_and_can_be_corrected():
    at = datetime(2024, 5, 15, tzinfo=UTC)
    facilitator = uuid4()
    meeting, event = held().publish_memo(
        summary=" Price higher. Ask Åsa Öberg. ",
        shared_summary="Price higher. Ask [name].",
        facilitator_id=facilitator,
        at=at,
    )
    assert (meeting.memo, meeting.memo_facilitator_id, meeting.memo_published_at) == (
        "Price higher. Ask Åsa Öberg.",
        facilitator,
        at,
    )
    assert event == MemoPublished(  # the copy that leaves the region: names masked
        meeting_id=meeting.id,
        group_id=GROUP,
        summary="Price higher. Ask [name].",
        facilitator_id=facilitator,
    )
    corrected, _ = meeting.publish_memo(
        summary="Price much higher.",
        shared_summary="Price much higher.",
        facilitator_id=None,
        at=at,
    )
    assert corrected.memo == "Price much higher."
    with pytest.raises(work_errors.TextRequired):
        held().publish_memo(summary=" ", shared_summary=" ", facilitator_id=None, at=at)
    with pytest.raises(work_errors.TextTooLong):
        held().publish_memo(
            summary="x" * 20_001, shared_summary="x" * 20_001, facilitator_id=None, at=at
        )
    with pytest.raises(errors.MeetingNotHeld):
        planned().publish_memo(summary="x", shared_summary="x", facilitator_id=None, at=at)


# -- actions -------------------------------------------------------------------------


def agree(meeting: Meeting | None = None, **kw) -> tuple[ActionItem, ActionItemAgreed]:
    args = {
        "action_id": uuid4(),
        "meeting": meeting or held(),
        "owner_member_id": GUEST,
        "owner": MEMBERS[GUEST],
        "description": "Send the offer template",
        "due_on": date(2024, 6, 1),
        "tz": TZ,
    }
    return ActionItem.agree(**{**args, **kw})


def test_agree_then_close_an_action():
    item, event = agree()
    assert (item.status, item.agreed_on, item.version) == (ActionStatus.OPEN, MEETING_DAY, 1)
    assert event.owner_member_id == GUEST
    assert event.due_on == date(2024, 6, 1)
    closed, closed_event = item.close(closed_on=date(2024, 6, 2), outcome=" Sent ")
    assert (closed.status, closed.outcome, closed.version) == (ActionStatus.CLOSED, "Sent", 2)
    assert closed_event == ActionItemClosed(
        action_id=item.id, group_id=GROUP, closed_on=date(2024, 6, 2), outcome="Sent"
    )
    with pytest.raises(work_errors.ActionAlreadyClosed):
        closed.close(closed_on=date(2024, 6, 3), outcome="")
    with pytest.raises(work_errors.DateBeforeStart):
        item.close(closed_on=date(2024, 5, 1), outcome="")


def test_action_refusals():
    with pytest.raises(errors.MeetingNotHeld):
        agree(planned())
    with pytest.raises(errors.MemberNotInGroup) as refused:
        agree(owner_member_id=OUTSIDER, owner=MEMBERS[OUTSIDER])
    assert refused.value.field == "owner_member_id"
    with pytest.raises(work_errors.TextRequired):
        agree(description="")
    with pytest.raises(work_errors.DateBeforeStart):
        agree(due_on=date(2024, 5, 1))


# -- CoP activities ------------------------------------------------------------------


def test_the_api_enum_is_wengers_eleven_types():
    assert tuple(t.value for t in ActivityType) == ACTIVITY_TYPES
    assert tuple(ACTIVITY_TYPE_TEXTS) == ACTIVITY_TYPES
    assert all(t.description.fi and t.description.sv and t.description.en
               for t in ACTIVITY_TYPE_TEXTS.values())  # fmt: skip
    assert len(ACTIVITY_TYPES) == 11


def record(meeting: Meeting | None = None, **kw) -> tuple[Activity, ActivityRecorded]:
    args = {
        "activity_id": uuid4(),
        "meeting": meeting or held(),
        "activity_type": "reusing_assets",
        "example": "Two members shared a festival sales booth and logistics.",
        "member_ids": (HOST, GUEST),
        "members": MEMBERS,
        "coder_id": None,
    }
    return Activity.record(**{**args, **kw})


def test_record_an_activity():
    coder = uuid4()
    activity, event = record(coder_id=coder)
    assert activity.member_ids == (HOST, GUEST)
    assert event.activity_type == "reusing_assets"
    assert event.coder_id == coder


def test_activity_refusals():
    with pytest.raises(work_errors.UnknownActivityType):
        record(activity_type="gossip")
    with pytest.raises(work_errors.TextRequired):
        record(example=" ")
    with pytest.raises(work_errors.TextTooLong):
        record(example="x" * 2001)
    with pytest.raises(errors.MembersNotInGroup) as refused:
        record(member_ids=(HOST, OUTSIDER, UUID(int=7)))
    assert refused.value.json_params()["member_ids"] == [str(OUTSIDER), str(UUID(int=7))]
    with pytest.raises(errors.DuplicateMembers):
        record(member_ids=(HOST, HOST))
    with pytest.raises(errors.MeetingNotHeld):
        record(planned())


# -- initiatives -----------------------------------------------------------------------


def start(meeting: Meeting | None = None, **kw) -> tuple[Initiative, InitiativeStarted]:
    args = {
        "initiative_id": uuid4(),
        "meeting": meeting or held(),
        "title": "Joint sales road trip",
        "member_ids": (HOST, GUEST),
        "members": MEMBERS,
        "started_on": None,
        "tz": TZ,
    }
    return Initiative.start(**{**args, **kw})


def test_initiative_history_keeps_every_update():
    initiative, event = start()
    assert (initiative.started_on, initiative.status) == (MEETING_DAY, "active")
    assert event.origin_meeting_id == initiative.origin_meeting_id
    paused, _ = initiative.update(
        status="paused", outcome=None, member_ids=None, members=MEMBERS, updated_on=date(2024, 7, 1)
    )
    done, event2 = paused.update(
        status="completed",
        outcome="12 new customers",
        member_ids=(GUEST,),
        members=MEMBERS,
        updated_on=date(2024, 9, 1),
    )
    assert isinstance(event2, InitiativeUpdated)
    assert [(u.sequence, u.status, u.member_ids) for u in done.history] == [
        (1, "active", (HOST, GUEST)),
        (2, "paused", (HOST, GUEST)),
        (3, "completed", (GUEST,)),
    ]
    assert (done.outcome, done.version) == ("12 new customers", 3)
    with pytest.raises(work_errors.InitiativeFinished):
        done.update(
            status="active",
            outcome=None,
            member_ids=None,
            members=MEMBERS,
            updated_on=date(2025, 1, 1),
        )


def test_initiative_refusals():
    initiative, _ = start()
    with pytest.raises(errors.MeetingNotHeld):
        start(planned())
    with pytest.raises(work_errors.InitiativeNeedsMembers):
        start(member_ids=())
    with pytest.raises(errors.MembersNotInGroup):
        start(member_ids=(OUTSIDER,))
    with pytest.raises(work_errors.TextRequired):
        start(title="")
    with pytest.raises(work_errors.DateBeforeStart):
        start(started_on=date(2024, 1, 1))

    def update(**kw):
        args = {
            "status": "active",
            "outcome": None,
            "member_ids": None,
            "members": MEMBERS,
            "updated_on": date(2024, 6, 1),
        }
        return initiative.update(**{**args, **kw})

    with pytest.raises(work_errors.UnknownInitiativeStatus):
        update(status="sleeping")
    with pytest.raises(work_errors.DateBeforeStart):
        update(updated_on=date(2024, 5, 1))
    with pytest.raises(work_errors.InitiativeNeedsMembers):
        update(member_ids=())
    with pytest.raises(errors.MembersNotInGroup):
        update(member_ids=(OUTSIDER,))
    with pytest.raises(work_errors.TextTooLong):
        update(outcome="x" * 2001)


# -- host rotation ---------------------------------------------------------------------


def test_suggest_hosts_least_recent_first_never_hosted_first_inactive_never():
    a, b, c, paused, gone = (UUID(int=i) for i in range(1, 6))
    members = [
        member(a),
        member(b),
        member(c, joined_on=date(2021, 1, 1)),
        member(paused, paused_on=date(2024, 1, 1), paused_sequence=2),
        member(gone, left_on=date(2023, 12, 31), left_sequence=2),
    ]
    hosted = {a: [date(2024, 3, 1)], b: [date(2023, 1, 1), date(2024, 1, 1)]}
    got = suggest_hosts(members, hosted, date(2024, 6, 1))
    assert [(s.member_id, s.last_hosted_on, s.times_hosted) for s in got] == [
        (c, None, 0),
        (b, date(2024, 1, 1), 2),
        (a, date(2024, 3, 1), 1),
    ]


# -- iCalendar ----------------------------------------------------------------------------


def test_text_escaping_and_folding_at_75_octets():
    assert escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
    line = "SUMMARY:" + "ä" * 100
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    assert pieces[0] + "".join(p[1:] for p in pieces[1:]) == line


def test_calendar_lists_meetings_with_cancelled_ones_marked():
    meeting, gone = planned(), cancelled()
    text = render_calendar([meeting, gone], region="oulu", name="Oulu 1", now=STARTS)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20240514T150000Z" in text  # 18.00 in Helsinki, as UTC
    assert "DTEND:20240514T180000Z" in text
    assert f"LOCATION:host member {HOST}" in text  # no names given: the id
    assert "STATUS:CONFIRMED" in text
    assert "STATUS:CANCELLED" in text
    assert f"UID:{meeting.id}@oulu.meetings.mgn" in text


def test_calendar_names_the_host_company_and_its_address_as_location():
    card = MemberCard(HOST, "Paja, Oy", {}, address="Rantakatu 1, 90100 Oulu")
    text = render_calendar([planned()], region="oulu", name="Oulu 1", hosts={HOST: card})
    unfolded = text.replace("\r\n ", "")
    assert "LOCATION:Paja\\, Oy\\, Rantakatu 1\\, 90100 Oulu\r\n" in unfolded
    assert "premises of Paja\\, Oy." in unfolded


def test_memo_series_markdown_in_given_order():
    first = held().publish_memo(
        summary="One", shared_summary="One", facilitator_id=None, at=STARTS
    )[0]
    text = render_memo_series("Oulu 1", [first], TZ)
    assert f"Host: member {HOST}. Attendance: 2." in text
    named = render_memo_series("Oulu 1", [first], TZ, hosts={HOST: MemberCard(HOST, "Paja Oy", {})})
    assert "Host: Paja Oy. Attendance: 2." in named
    assert text.startswith("# Memos of Oulu 1")
    assert "## 2024-05-14: Pricing" in text
    assert "One" in text
    assert "No memos" in render_memo_series("Oulu 1", [], TZ)


def test_meeting_status_values_unchanged():
    assert [s.value for s in MeetingStatus] == ["planned", "held", "cancelled"]


async def test_the_api_lists_the_activity_types_described_in_the_callers_language():
    from services.meetings.api import schema
    from shared.i18n import use_language

    with use_language("sv"):
        result = await schema.execute("{ activityTypes { type name description } }")
    assert result.errors is None
    listed = result.data["activityTypes"]  # type: ignore[index]
    assert [t["type"] for t in listed] == [t.upper() for t in ACTIVITY_TYPES]
    assert listed[0]["name"] == "Problemlösning"
    assert listed[9]["description"] == ACTIVITY_TYPE_TEXTS["visits"].description.sv
