"""Refusals of the meetings service: scheduling, holding, attendance, RSVPs, recording.

Follow-ups, activities and initiatives are in ``meetings_work.py``. A member the replica
has not received is :class:`shared.errors.replica.UnknownMember`; a concurrent change is the
one :class:`shared.errors.ConcurrentChange`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from shared.errors import DomainError
from shared.errors.dates import EXAMPLE_MOMENT
from shared.i18n import N_


class ThemeRequired(DomainError):
    code = "THEME_REQUIRED"
    default_field = "theme"
    message = N_("The theme is required: the host names what the meeting is about.")


class ThemeTooLong(DomainError):
    code = "THEME_TOO_LONG"
    default_field = "theme"
    message = N_("The theme has {length} characters; shorten it to at most {limit}.")

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(length=length, limit=limit)


class TimezoneRequired(DomainError):
    code = "TIMEZONE_REQUIRED"
    message = N_(
        "{value} has no time zone; write it as {example} (Finnish time) or with an "
        "offset, 2026-12-07T18:00+02:00."
    )

    def __init__(self, field: str, value: str) -> None:
        super().__init__(field=field, value=value, example=EXAMPLE_MOMENT)


class UnknownGroup(DomainError):
    code = "UNKNOWN_GROUP"
    default_field = "group_id"
    message = N_(
        "Group {group_id} is not known to the meetings service. Check the id; a group "
        "created a moment ago arrives within seconds, so try again shortly."
    )

    def __init__(self, group_id: UUID) -> None:
        super().__init__(group_id=group_id)


# -- who may take part -------------------------------------------------------------


class MemberOfAnotherGroup(DomainError):
    code = "MEMBER_OF_ANOTHER_GROUP"
    default_field = "member_id"
    message = N_("Member {member_id} belongs to group {member_group_id}, not to group {group_id}.")

    def __init__(self, member_id: UUID, member_group_id: UUID, group_id: UUID) -> None:
        super().__init__(member_id=member_id, member_group_id=member_group_id, group_id=group_id)


class MemberNotActive(DomainError):
    """A member of the group, but not active on ``day`` (a subclass says why)."""

    code = "MEMBER_NOT_ACTIVE"
    default_field = "member_id"
    message = N_("Member {member_id} is not an active member on {day}.")

    def __init__(
        self,
        member_id: UUID,
        day: date,
        *,
        joined_on: date | None = None,
        paused_on: date | None = None,
        left_on: date | None = None,
    ) -> None:
        super().__init__(
            member_id=member_id, day=day, joined_on=joined_on, paused_on=paused_on, left_on=left_on
        )


class MemberNotYetJoined(MemberNotActive):
    message = N_("Member {member_id} is not an active member on {day}: it joined on {joined_on}.")


class MemberPausedOn(MemberNotActive):
    message = N_(
        "Member {member_id} is not an active member on {day}: it has been paused since {paused_on}."
    )


class MemberLeftOn(MemberNotActive):
    message = N_("Member {member_id} is not an active member on {day}: it left on {left_on}.")


class UnknownHost(DomainError):
    code = "UNKNOWN_HOST"
    default_field = "host_member_id"
    message = N_(
        "Member {member_id} is not known to the meetings service yet: check the id; a "
        "member added a moment ago arrives within seconds (query knownMembers to see what "
        "has arrived)."
    )

    def __init__(self, member_id: UUID) -> None:
        super().__init__(member_id=member_id)


class HostInAnotherGroup(DomainError):
    code = "HOST_IN_ANOTHER_GROUP"
    default_field = "host_member_id"
    message = N_(
        "Member {member_id} belongs to group {member_group_id}, not to group {group_id}; "
        "a meeting is hosted by a member of the group that meets."
    )

    def __init__(self, member_id: UUID, member_group_id: UUID, group_id: UUID) -> None:
        super().__init__(member_id=member_id, member_group_id=member_group_id, group_id=group_id)


class HostNotActive(DomainError):
    """``problem``: the member's :class:`MemberNotActive` (or why it is not known)."""

    code = "HOST_NOT_ACTIVE"
    default_field = "host_member_id"
    message = N_(
        "The host must be an active member on the meeting's date. {problem} Choose another "
        "host or correct the date."
    )

    def __init__(self, member_id: UUID, problem: DomainError) -> None:
        super().__init__(member_id=member_id, problem=problem)


class DuplicateAttendees(DomainError):
    code = "DUPLICATE_ATTENDEES"
    default_field = "attendee_member_ids"
    message = N_("These members are listed more than once: {member_ids}; list each attendee once.")

    def __init__(self, member_ids: Sequence[UUID]) -> None:
        super().__init__(member_ids=list(member_ids))


class AttendeesNotActive(DomainError):
    """``problems``: each member's refusal (unknown, of another group, not active)."""

    code = "ATTENDEES_NOT_ACTIVE"
    default_field = "attendee_member_ids"
    message = N_(
        "Attendees must be active members of the group on {day}. Not so: {problems} Remove "
        "them or correct the date."
    )

    def __init__(self, day: date, problems: dict[UUID, DomainError]) -> None:
        super().__init__(day=day, member_ids=list(problems), problems=list(problems.values()))


class MemberNotInGroup(DomainError):
    """One member who cannot take part (``problem`` says why); ``field`` the input."""

    code = "MEMBER_NOT_IN_GROUP"
    default_field = "member_id"
    message = N_("Member {member_id} cannot take part in this group's meeting. {problem}")

    def __init__(self, member_id: UUID, problem: DomainError, *, field: str) -> None:
        super().__init__(field=field, member_id=member_id, member_ids=[member_id], problem=problem)


class MembersNotInGroup(DomainError):
    code = "MEMBERS_NOT_IN_GROUP"
    default_field = "member_ids"
    message = N_(
        "Every member listed must belong to group {group_id}. Not so: {problems} Remove them "
        "or check the ids."
    )

    def __init__(self, group_id: UUID, problems: dict[UUID, DomainError]) -> None:
        super().__init__(
            group_id=group_id, member_ids=list(problems), problems=list(problems.values())
        )


class DuplicateMembers(DomainError):
    code = "DUPLICATE_MEMBERS"
    default_field = "member_ids"
    message = N_("These members are listed more than once: {member_ids}; list each member once.")

    def __init__(self, member_ids: Sequence[UUID]) -> None:
        super().__init__(member_ids=list(member_ids))


# -- a meeting's lifecycle ---------------------------------------------------------


class MeetingNotFound(DomainError):
    code = "MEETING_NOT_FOUND"
    default_field = "meeting_id"
    message = N_("Meeting {meeting_id} does not exist in this region; check the id.")

    def __init__(self, meeting_id: UUID) -> None:
        super().__init__(meeting_id=meeting_id)


class MeetingAlreadyHeld(DomainError):
    code = "MEETING_ALREADY_HELD"
    default_field = "meeting_id"
    message = N_(
        "Meeting {meeting_id} has already been held; only a planned meeting can be held, "
        "moved, answered or cancelled."
    )

    def __init__(self, meeting_id: UUID) -> None:
        super().__init__(meeting_id=meeting_id)


class MeetingAlreadyCancelled(DomainError):
    code = "MEETING_ALREADY_CANCELLED"
    default_field = "meeting_id"
    message = N_(
        "Meeting {meeting_id} was cancelled; it cannot be changed. Schedule a new meeting instead."
    )

    def __init__(self, meeting_id: UUID) -> None:
        super().__init__(meeting_id=meeting_id)


class MeetingNotStarted(DomainError):
    code = "MEETING_NOT_STARTED"
    default_field = "meeting_id"
    message = N_(
        "Meeting {meeting_id} starts on {starts_at}; it can be recorded as held only once it "
        "has started."
    )

    def __init__(self, meeting_id: UUID, starts_at: datetime) -> None:
        super().__init__(meeting_id=meeting_id, starts_at=starts_at)


class MeetingNotHeld(DomainError):
    """Something only a held meeting has (a memo, follow-ups, a recording)."""

    code = "MEETING_NOT_HELD"
    default_field = "meeting_id"
    message = N_(
        "Meeting {meeting_id} has not been held yet; record it as held first (once it has started)."
    )

    def __init__(self, meeting_id: UUID, status: str) -> None:
        super().__init__(meeting_id=meeting_id, status=status)


class CancelledMeetingNotHeld(MeetingNotHeld):
    message = N_("Meeting {meeting_id} was cancelled; it was never held.")


class NothingToReschedule(DomainError):
    code = "NOTHING_TO_RESCHEDULE"
    default_field = "starts_at"
    message = N_("Give a new start time, a new theme, or both: the meeting would stay as it is.")


class CancelReasonRequired(DomainError):
    code = "CANCEL_REASON_REQUIRED"
    default_field = "reason"
    message = N_("Say why the meeting is cancelled (the reason is required).")


class CancelReasonTooLong(DomainError):
    code = "CANCEL_REASON_TOO_LONG"
    default_field = "reason"
    message = N_("The reason has {length} characters; shorten it to at most {limit}.")

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(length=length, limit=limit)


class AttendanceUnchanged(DomainError):
    code = "ATTENDANCE_UNCHANGED"
    default_field = "attendee_member_ids"
    message = N_(
        "The attendance of meeting {meeting_id} is already exactly this; nothing to correct."
    )

    def __init__(self, meeting_id: UUID) -> None:
        super().__init__(meeting_id=meeting_id)


# -- warnings (returned, not raised) -------------------------------------------------


class MeetingsOverlap(DomainError):
    """Not a refusal: the group has another meeting at an overlapping time."""

    code = "MEETINGS_OVERLAP"
    default_field = "starts_at"
    message = N_(
        "The group already has a meeting at an overlapping time: {theme} on {starts_at}. "
        "Check that both are meant."
    )

    def __init__(self, other_meeting_id: UUID, theme: str, starts_at: datetime) -> None:
        super().__init__(other_meeting_id=other_meeting_id, theme=theme, starts_at=starts_at)


# -- why a host is suggested (not refusals: the reason shown with a suggestion) -----


class RotationReason(DomainError):
    """Why the fair rotation suggests a member as the next host."""


class NeverHosted(RotationReason):
    code = "HOST_NEVER_HOSTED"
    message = N_(
        "Has not hosted a meeting yet (a member since {joined_on}); the rotation asks "
        "those who have not hosted first."
    )

    def __init__(self, joined_on: date | None) -> None:
        super().__init__(joined_on=joined_on)


class HostedLongestAgo(RotationReason):
    code = "HOST_LONGEST_AGO"
    message = N_(
        "Hosted last on {last_hosted_on} ({times_hosted} times in all); the rotation asks "
        "who hosted longest ago."
    )

    def __init__(self, last_hosted_on: date, times_hosted: int) -> None:
        super().__init__(last_hosted_on=last_hosted_on, times_hosted=times_hosted)


# -- recording -----------------------------------------------------------------------


class AlreadyRecorded(DomainError):
    code = "ALREADY_RECORDED"
    default_field = "meeting_id"
    message = N_("Meeting {meeting_id} is already marked as recorded.")

    def __init__(self, meeting_id: UUID) -> None:
        super().__init__(meeting_id=meeting_id)


class MemberWithoutConsent(DomainError):
    """One attending member who blocks a recording. ``company_name`` and ``person_names``
    come from the groups service when it answered (empty: shown by id)."""

    code = "MEMBER_WITHOUT_CONSENT"
    default_field = "member_id"
    message = N_(
        "{company}: {missing} of {persons} contact persons have not consented to audio "
        "recording ({names})."
    )

    def __init__(
        self,
        member_id: UUID,
        *,
        company_name: str = "",
        persons: int = 0,
        person_ids: Sequence[UUID] = (),
        person_names: Sequence[str] = (),
    ) -> None:
        super().__init__(
            member_id=member_id,
            company=company_name or str(member_id),
            company_name=company_name or None,
            persons=persons,
            missing=len(person_ids),
            person_ids=list(person_ids),
            names=list(person_names) or [str(p) for p in person_ids],
        )
        self.member_id = member_id


class MemberWithoutPerson(MemberWithoutConsent):
    message = N_("{company} has no registered contact person who could consent.")


class RecordingConsentMissing(DomainError):
    """``members``: one :class:`MemberWithoutConsent` per blocking attendee; ``names_note``
    says why names are missing (the groups service did not answer), else empty."""

    code = "RECORDING_CONSENT_MISSING"
    default_field = "meeting_id"
    message = N_(
        "Meeting {meeting_id} may be recorded only if every attendee consented to audio "
        "recording. Missing: {members} Ask the entrepreneurs for consent, or do not record."
    )

    def __init__(
        self, meeting_id: UUID, members: Sequence[MemberWithoutConsent], names_note: str = ""
    ) -> None:
        super().__init__(
            meeting_id=meeting_id,
            member_ids=[m.params["member_id"] for m in members],  # type: ignore[misc]
            members=list(members),
            names_note=names_note or None,
        )
        self.meeting_id = meeting_id
        self.members = list(members)
