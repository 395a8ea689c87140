"""The meetings domain, pure: every rule and every refusal."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from services.meetings.domain import (
    KnownGroup,
    Meeting,
    MeetingStatus,
    Membership,
    local_date,
    overlaps,
)
from shared.contracts import AttendanceCorrected, MeetingCancelled, MeetingHeld, MeetingScheduled
from shared.errors import DomainError
from shared.errors import meetings as errors
from shared.errors import meetings_work as work_errors

HELSINKI = ZoneInfo("Europe/Helsinki")
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
GROUP = uuid4()
OTHER_GROUP = uuid4()
STARTS = datetime(2024, 5, 14, 18, 0, tzinfo=HELSINKI)


def group(group_id: UUID = GROUP) -> KnownGroup:
    return KnownGroup(group_id, "Oulu core group 1", date(2015, 1, 10))


def member(
    group_id: UUID = GROUP,
    joined_on: date | None = date(2020, 1, 1),
    left_on: date | None = None,
) -> Membership:
    return Membership(
        member_id=uuid4(),
        group_id=group_id,
        joined_on=joined_on,
        left_on=left_on,
        joined_sequence=1 if joined_on else 0,
        left_sequence=2 if left_on else 0,
    )


def schedule(
    default_host: Membership | None = None, **overrides
) -> tuple[Meeting, MeetingScheduled]:
    """``Meeting.schedule`` with valid defaults; ``overrides`` replace any argument."""
    host = default_host or member()
    kwargs = {
        "meeting_id": uuid4(),
        "group_id": GROUP,
        "group": group(),
        "host_member_id": host.member_id,
        "host": host,
        "theme": "Pricing our services",
        "starts_at": STARTS,
        "tz": HELSINKI,
        **overrides,
    }
    return Meeting.schedule(**kwargs)


def planned(host: Membership | None = None) -> Meeting:
    return schedule(host)[0]


# -- scheduling -------------------------------------------------------------------


def test_schedule_plans_a_meeting_and_raises_meeting_scheduled():
    host = member()
    meeting, event = schedule(host, theme="  Pricing our services  ")
    assert meeting.status is MeetingStatus.PLANNED
    assert meeting.version == 1
    assert meeting.theme == "Pricing our services"
    assert meeting.starts_at == STARTS
    assert meeting.starts_at.tzinfo is UTC
    assert isinstance(event, MeetingScheduled)
    assert event.meeting_id == meeting.id
    assert event.group_id == GROUP
    assert event.host_member_id == host.member_id
    assert event.theme == "Pricing our services"
    assert event.starts_at == STARTS


def test_schedule_allows_historical_dates():
    host = member(joined_on=date(2015, 3, 1))
    meeting, _ = schedule(host, starts_at=datetime(2015, 3, 12, 18, tzinfo=HELSINKI))
    assert meeting.starts_at.year == 2015


@pytest.mark.parametrize("theme", ["", "   "])
def test_theme_is_required(theme):
    with pytest.raises(errors.ThemeRequired) as caught:
        schedule(theme=theme)
    assert caught.value.code == "THEME_REQUIRED"
    assert caught.value.field == "theme"


def test_theme_at_most_300_characters():
    schedule(theme="x" * 300)
    with pytest.raises(errors.ThemeTooLong, match="301 characters"):
        schedule(theme="x" * 301)


def test_starts_at_needs_a_time_zone():
    with pytest.raises(errors.TimezoneRequired) as caught:
        schedule(starts_at=datetime(2024, 5, 14, 18, 0))
    assert caught.value.code == "TIMEZONE_REQUIRED"
    assert caught.value.field == "starts_at"


def test_unknown_group():
    with pytest.raises(errors.UnknownGroup) as caught:
        schedule(group=None)
    assert caught.value.code == "UNKNOWN_GROUP"
    assert caught.value.field == "group_id"


def test_unknown_host_says_the_member_may_not_have_arrived_yet():
    host_id = uuid4()
    with pytest.raises(errors.UnknownHost) as caught:
        schedule(host_member_id=host_id, host=None)
    assert caught.value.code == "UNKNOWN_HOST"
    assert caught.value.field == "host_member_id"
    assert "arrives within seconds" in str(caught.value)
    assert str(host_id) in str(caught.value)


def test_host_whose_joining_has_not_arrived_is_unknown():
    only_left = Membership(
        uuid4(), GROUP, joined_on=None, left_on=date(2024, 1, 1), left_sequence=2
    )
    with pytest.raises(errors.UnknownHost):
        schedule(only_left)


def test_host_in_another_group():
    with pytest.raises(errors.HostInAnotherGroup) as caught:
        schedule(member(group_id=OTHER_GROUP))
    assert caught.value.code == "HOST_IN_ANOTHER_GROUP"
    assert str(OTHER_GROUP) in str(caught.value)


@pytest.mark.parametrize(
    ("joined_on", "left_on"),
    [
        (date(2024, 5, 15), None),  # joined the day after
        (date(2020, 1, 1), date(2024, 5, 13)),  # left the day before
    ],
)
def test_host_not_active_on_the_meetings_date(joined_on, left_on):
    with pytest.raises(errors.HostNotActive) as caught:
        schedule(member(joined_on=joined_on, left_on=left_on))
    assert caught.value.code == "HOST_NOT_ACTIVE"
    assert "14.5.2024" in caught.value.render("fi")
    assert caught.value.params["problem"].code == "MEMBER_NOT_ACTIVE"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("joined_on", "left_on"),
    [(date(2024, 5, 14), None), (date(2020, 1, 1), date(2024, 5, 14))],
)
def test_joining_or_leaving_on_the_day_counts_as_active(joined_on, left_on):
    schedule(member(joined_on=joined_on, left_on=left_on))


def test_the_date_is_the_regions_calendar_date():
    late_utc = datetime(2024, 5, 31, 22, 30, tzinfo=UTC)  # 1 June 01:30 in Helsinki
    assert local_date(late_utc, HELSINKI) == date(2024, 6, 1)
    schedule(member(joined_on=date(2024, 6, 1)), starts_at=late_utc)
    offset = datetime(2024, 6, 1, 1, 30, tzinfo=timezone(timedelta(hours=3)))
    with pytest.raises(errors.HostNotActive):
        schedule(member(joined_on=date(2024, 6, 2)), starts_at=offset)


# -- holding ----------------------------------------------------------------------


def test_hold_records_attendance_and_raises_meeting_held():
    host, guest = member(), member()
    meeting = planned(host)
    held, event = meeting.hold(
        now=NOW,
        held_at=None,
        attendee_member_ids=[host.member_id, guest.member_id],
        members={m.member_id: m for m in (host, guest)},
        tz=HELSINKI,
    )
    assert held.status is MeetingStatus.HELD
    assert held.version == 2
    assert held.held_at == meeting.starts_at  # default
    assert held.attendee_member_ids == (host.member_id, guest.member_id)
    assert held.attendance_count == 2
    assert isinstance(event, MeetingHeld)
    assert event.attendee_member_ids == (host.member_id, guest.member_id)
    assert event.held_at == meeting.starts_at
    assert meeting.status is MeetingStatus.PLANNED  # the original is unchanged


def test_hold_at_another_time_checks_that_date():
    host = member()
    late_joiner = member(joined_on=date(2024, 5, 20))
    held_at = datetime(2024, 5, 21, 18, tzinfo=HELSINKI)
    held, _ = planned(host).hold(
        now=NOW,
        held_at=held_at,
        attendee_member_ids=[late_joiner.member_id],
        members={late_joiner.member_id: late_joiner},
        tz=HELSINKI,
    )
    assert held.held_at == held_at


def test_hold_needs_a_time_zone():
    with pytest.raises(errors.TimezoneRequired) as caught:
        planned().hold(
            now=NOW,
            held_at=datetime(2024, 5, 14, 18),
            attendee_member_ids=[],
            members={},
            tz=HELSINKI,
        )
    assert caught.value.field == "held_at"


def test_duplicate_attendees_are_refused():
    host = member()
    with pytest.raises(errors.DuplicateAttendees) as caught:
        planned(host).hold(
            now=NOW,
            held_at=None,
            attendee_member_ids=[host.member_id, host.member_id],
            members={host.member_id: host},
            tz=HELSINKI,
        )
    assert caught.value.code == "DUPLICATE_ATTENDEES"
    assert caught.value.json_params()["member_ids"] == [str(host.member_id)]


def test_attendees_must_be_active_members_of_the_group_and_all_offenders_are_listed():
    host = member()
    unknown = uuid4()
    elsewhere = member(group_id=OTHER_GROUP)
    gone = member(left_on=date(2023, 12, 31))
    not_yet = member(joined_on=date(2024, 6, 1))
    members = {m.member_id: m for m in (host, elsewhere, gone, not_yet)}
    offenders = [unknown, elsewhere.member_id, gone.member_id, not_yet.member_id]
    with pytest.raises(errors.AttendeesNotActive) as caught:
        planned(host).hold(
            now=NOW,
            held_at=None,
            attendee_member_ids=[host.member_id, *offenders],
            members=members,
            tz=HELSINKI,
        )
    error = caught.value
    assert error.code == "ATTENDEES_NOT_ACTIVE"
    assert error.field == "attendee_member_ids"
    assert error.json_params()["member_ids"] == [str(m) for m in offenders]
    codes = [p["code"] for p in error.json_params()["problems"]]
    assert codes == [
        "UNKNOWN_MEMBER",
        "MEMBER_OF_ANOTHER_GROUP",
        "MEMBER_NOT_ACTIVE",
        "MEMBER_NOT_ACTIVE",
    ]
    assert str(host.member_id) not in str(error)
    assert "is not known here yet" in str(error)
    assert f"belongs to group {OTHER_GROUP}" in str(error)
    assert "it left on 31.12.2023" in error.render("fi") or "31.12.2023" in error.render("fi")
    assert "it joined on 01/06/2024" in str(error)


def test_only_a_planned_meeting_can_be_held():
    host = member()
    meeting = planned(host)
    held, _ = meeting.hold(now=NOW, held_at=None, attendee_member_ids=[], members={}, tz=HELSINKI)
    with pytest.raises(errors.MeetingAlreadyHeld) as caught:
        held.hold(now=NOW, held_at=None, attendee_member_ids=[], members={}, tz=HELSINKI)
    assert caught.value.code == "MEETING_ALREADY_HELD"
    cancelled, _ = meeting.cancel("The host fell ill")
    with pytest.raises(errors.MeetingAlreadyCancelled) as caught2:
        cancelled.hold(now=NOW, held_at=None, attendee_member_ids=[], members={}, tz=HELSINKI)
    assert caught2.value.code == "MEETING_ALREADY_CANCELLED"


# -- cancelling -------------------------------------------------------------------


def test_cancel_a_planned_meeting_with_a_reason():
    meeting = planned()
    cancelled, event = meeting.cancel("  The host fell ill ")
    assert cancelled.status is MeetingStatus.CANCELLED
    assert cancelled.version == 2
    assert cancelled.cancel_reason == "The host fell ill"
    assert isinstance(event, MeetingCancelled)
    assert event.reason == "The host fell ill"
    assert event.meeting_id == meeting.id
    assert event.group_id == GROUP


def test_cancel_needs_a_reason_of_at_most_500_characters():
    with pytest.raises(errors.CancelReasonRequired) as caught:
        planned().cancel("  ")
    assert caught.value.code == "CANCEL_REASON_REQUIRED"
    planned().cancel("x" * 500)
    with pytest.raises(errors.CancelReasonTooLong):
        planned().cancel("x" * 501)


def test_cancelling_a_held_or_cancelled_meeting_is_refused():
    meeting = planned()
    held, _ = meeting.hold(now=NOW, held_at=None, attendee_member_ids=[], members={}, tz=HELSINKI)
    with pytest.raises(errors.MeetingAlreadyHeld, match="only a planned meeting"):
        held.cancel("too late")
    cancelled, _ = meeting.cancel("once")
    with pytest.raises(errors.MeetingAlreadyCancelled):
        cancelled.cancel("twice")


# -- the replica's merge rules ----------------------------------------------------

MEMBER = uuid4()


def _apply(state: Membership, step: tuple[str, int, date]) -> Membership:
    kind, sequence, day = step
    if kind == "joined":
        return state.joined(group_id=GROUP, joined_on=day, sequence=sequence)
    return state.left(left_on=day, sequence=sequence)


def _run(steps) -> Membership:
    state = Membership(member_id=MEMBER, group_id=GROUP)
    for step in steps:
        state = _apply(state, step)
    return state


JOIN = ("joined", 1, date(2020, 1, 1))
LEAVE = ("left", 2, date(2022, 6, 30))
REJOIN = ("joined", 3, date(2023, 9, 1))


def test_join_then_leave():
    state = _run([JOIN, LEAVE])
    assert state.has_joined
    assert state.effective_left_on == date(2022, 6, 30)
    assert state.active_on(date(2021, 1, 1))
    assert not state.active_on(date(2023, 1, 1))
    assert not state.active_on(date(2019, 12, 31))


def test_leave_arriving_before_join_ends_in_a_left_member():
    early = _run([LEAVE])
    assert not early.has_joined
    assert not early.active_on(date(2021, 1, 1))
    assert _run([LEAVE, JOIN]) == _run([JOIN, LEAVE])


def test_duplicates_and_stale_events_change_nothing():
    state = _run([JOIN, LEAVE])
    assert _apply(state, JOIN) == state
    assert _apply(state, LEAVE) == state


@pytest.mark.parametrize("order", list(itertools.permutations([JOIN, LEAVE, REJOIN])))
def test_any_arrival_order_gives_the_same_state(order):
    state = _run(order)
    assert state == _run([JOIN, LEAVE, REJOIN])
    # Rejoined: active from the new joining on; the old leave no longer counts.
    assert state.effective_left_on is None
    assert state.active_on(date(2024, 1, 1))
    assert not state.active_on(date(2023, 1, 1))


def test_a_member_moving_groups_takes_the_latest_joinings_group():
    moved = _run([JOIN, LEAVE]).joined(group_id=OTHER_GROUP, joined_on=date(2023, 1, 1), sequence=3)
    assert moved.group_id == OTHER_GROUP
    assert moved.active_on(date(2023, 2, 1))


def test_every_error_has_a_distinct_code():
    classes = [
        cls
        for module in (errors, work_errors)
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, DomainError)
        and "code" in cls.__dict__
        and cls.__module__ == module.__name__
    ]
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes))
    assert all(code.isupper() for code in codes)
    assert all(DomainError.by_code[cls.code] is cls for cls in classes)


# -- held only once started; attendance corrected; overlaps ------------------------


def test_a_meeting_is_held_only_once_its_start_has_passed():
    meeting = planned()
    with pytest.raises(errors.MeetingNotStarted) as caught:
        meeting.hold(
            now=STARTS - timedelta(minutes=1),
            held_at=None,
            attendee_member_ids=[],
            members={},
            tz=HELSINKI,
        )
    assert caught.value.json_params() == {
        "meeting_id": str(meeting.id),
        "starts_at": STARTS.isoformat(),
    }
    assert "14.5.2024 klo 18.00" in caught.value.render("fi")
    held, _ = meeting.hold(
        now=STARTS, held_at=None, attendee_member_ids=[], members={}, tz=HELSINKI
    )
    assert held.status is MeetingStatus.HELD


def test_attendance_is_corrected_with_the_whole_new_list():
    host, guest, late = member(), member(), member()
    members = {m.member_id: m for m in (host, guest, late)}
    held, _ = planned(host).hold(
        now=NOW,
        held_at=None,
        attendee_member_ids=[host.member_id, guest.member_id],
        members=members,
        tz=HELSINKI,
    )
    fixed, event = held.correct_attendance(
        attendee_member_ids=[host.member_id, late.member_id], members=members, tz=HELSINKI
    )
    assert fixed.attendee_member_ids == (host.member_id, late.member_id)
    assert fixed.version == held.version + 1
    assert isinstance(event, AttendanceCorrected)
    assert event.held_at == held.held_at
    assert event.attendee_member_ids == (host.member_id, late.member_id)
    assert (event.added_member_ids, event.removed_member_ids) == (
        (late.member_id,),
        (guest.member_id,),
    )
    with pytest.raises(errors.AttendanceUnchanged):
        fixed.correct_attendance(
            attendee_member_ids=[late.member_id, host.member_id], members=members, tz=HELSINKI
        )
    with pytest.raises(errors.AttendeesNotActive):
        fixed.correct_attendance(attendee_member_ids=[uuid4()], members=members, tz=HELSINKI)
    with pytest.raises(errors.DuplicateAttendees):
        fixed.correct_attendance(
            attendee_member_ids=[late.member_id] * 2, members=members, tz=HELSINKI
        )
    with pytest.raises(errors.MeetingNotHeld):
        planned(host).correct_attendance(attendee_member_ids=[], members=members, tz=HELSINKI)
    cancelled, _ = planned(host).cancel("Snow")
    with pytest.raises(errors.CancelledMeetingNotHeld):
        cancelled.correct_attendance(attendee_member_ids=[], members=members, tz=HELSINKI)


def test_overlapping_meetings_of_the_group_are_warned_about_not_refused():
    host = member()
    meeting = planned(host)
    near, _ = schedule(host, starts_at=STARTS + timedelta(hours=2, minutes=59))
    far, _ = schedule(host, starts_at=STARTS + timedelta(hours=3))
    gone, _ = schedule(host, starts_at=STARTS)
    gone, _ = gone.cancel("Double booked")
    other_group = replace(near, id=uuid4(), group_id=OTHER_GROUP)
    (warning,) = overlaps(meeting, [meeting, near, far, gone, other_group])
    assert warning.code == "MEETINGS_OVERLAP"
    assert warning.json_params()["other_meeting_id"] == str(near.id)
    assert "14.5.2024 klo 20.59" in warning.render("fi")
    assert overlaps(gone, [meeting]) == []
