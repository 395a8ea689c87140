"""One error per rule that can be broken; each says what was wrong and how to fix it.

``code`` is machine-readable (the API's ``extensions.code``), ``field`` names the input
field at fault (camelCase, as the API user wrote it) and ``details`` carries extra data
such as the offending member ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from services.meetings.domain.consent import Names, RecordingProblem


class DomainError(Exception):
    code = "DOMAIN_ERROR"
    field: str | None = None

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class ThemeRequired(DomainError):
    code = "THEME_REQUIRED"
    field = "theme"

    def __init__(self) -> None:
        super().__init__("The theme is required: the host names what the meeting is about.")


class ThemeTooLong(DomainError):
    code = "THEME_TOO_LONG"
    field = "theme"

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"The theme has {length} characters; shorten it to at most {limit}.")


class TimezoneRequired(DomainError):
    code = "TIMEZONE_REQUIRED"

    def __init__(self, field: str, value: object) -> None:
        super().__init__(
            f"{field} {value} has no time zone; give an offset, e.g. 2025-03-12T18:00:00+02:00."
        )
        self.field = field


class UnknownGroup(DomainError):
    code = "UNKNOWN_GROUP"
    field = "groupId"

    def __init__(self, group_id: UUID) -> None:
        super().__init__(
            f"Group {group_id} is not known to the meetings service. Check the id; if the "
            "group was created a moment ago, its event may not have arrived yet: retry shortly."
        )


class UnknownHost(DomainError):
    code = "UNKNOWN_HOST"
    field = "hostMemberId"

    def __init__(self, member_id: UUID) -> None:
        super().__init__(
            f"Member {member_id} is not known to the meetings service: the meetings service "
            "may not have received the member yet (the groups service's MemberJoined event). "
            "Check the id, or retry in a moment (query knownMembers to see what has arrived)."
        )


class HostInAnotherGroup(DomainError):
    code = "HOST_IN_ANOTHER_GROUP"
    field = "hostMemberId"

    def __init__(self, member_id: UUID, member_group: UUID, group_id: UUID) -> None:
        super().__init__(
            f"Member {member_id} belongs to group {member_group}, not to group {group_id}; "
            "a meeting is hosted by a member of the group that meets."
        )


class HostNotActive(DomainError):
    code = "HOST_NOT_ACTIVE"
    field = "hostMemberId"

    def __init__(self, member_id: UUID, on: date, period: str) -> None:
        super().__init__(
            f"Member {member_id} is not an active member on {on} ({period}); choose a host "
            "who is an active member (not paused, not departed) on the meeting's date, or "
            "correct the date."
        )


class MeetingNotFound(DomainError):
    code = "MEETING_NOT_FOUND"
    field = "meetingId"

    def __init__(self, meeting_id: UUID) -> None:
        super().__init__(f"Meeting {meeting_id} does not exist in this region; check the id.")


class MeetingAlreadyHeld(DomainError):
    code = "MEETING_ALREADY_HELD"
    field = "meetingId"

    def __init__(self, meeting_id: UUID, action: str) -> None:
        super().__init__(
            f"Meeting {meeting_id} has already been held; it cannot be {action}. "
            "Only a planned meeting can be held or cancelled."
        )


class MeetingAlreadyCancelled(DomainError):
    code = "MEETING_ALREADY_CANCELLED"
    field = "meetingId"

    def __init__(self, meeting_id: UUID, action: str) -> None:
        super().__init__(
            f"Meeting {meeting_id} was cancelled; it cannot be {action}. "
            "Schedule a new meeting instead."
        )


class DuplicateAttendees(DomainError):
    code = "DUPLICATE_ATTENDEES"
    field = "attendeeMemberIds"

    def __init__(self, member_ids: Sequence[UUID]) -> None:
        listed = ", ".join(str(m) for m in member_ids)
        super().__init__(
            f"These members are listed more than once: {listed}; list each attendee once.",
            details={"memberIds": [str(m) for m in member_ids]},
        )


class AttendeesNotActive(DomainError):
    code = "ATTENDEES_NOT_ACTIVE"
    field = "attendeeMemberIds"

    def __init__(self, on: date, problems: Mapping[UUID, str]) -> None:
        listed = "; ".join(f"{member}: {why}" for member, why in problems.items())
        super().__init__(
            f"Attendees must be active members of the group on {on}. Not so: {listed}. "
            "Remove them or correct the date.",
            details={"memberIds": [str(m) for m in problems]},
        )


class CancelReasonRequired(DomainError):
    code = "CANCEL_REASON_REQUIRED"
    field = "reason"

    def __init__(self) -> None:
        super().__init__("Say why the meeting is cancelled (the reason is required).")


class CancelReasonTooLong(DomainError):
    code = "CANCEL_REASON_TOO_LONG"
    field = "reason"

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"The reason has {length} characters; shorten it to at most {limit}.")


class ConcurrentChange(DomainError):
    code = "CONCURRENT_CHANGE"
    field = "meetingId"

    def __init__(self, aggregate_id: UUID, what: str = "Meeting", field: str = "meetingId") -> None:
        super().__init__(
            f"{what} {aggregate_id} was changed by someone else at the same time; "
            "reload it and try again."
        )
        self.field = field


class NothingToReschedule(DomainError):
    code = "NOTHING_TO_RESCHEDULE"
    field = "startsAt"

    def __init__(self) -> None:
        super().__init__(
            "Give a new startsAt, a new theme, or both: the meeting would stay as it is."
        )


class MemberNotInGroup(DomainError):
    code = "MEMBER_NOT_IN_GROUP"
    field = "memberId"

    def __init__(self, member_id: UUID, group_id: UUID, why: str, *, field: str) -> None:
        super().__init__(
            f"Member {member_id} cannot take part in group {group_id}'s meeting: {why}.",
            details={"memberIds": [str(member_id)]},
        )
        self.field = field


class MembersNotInGroup(DomainError):
    code = "MEMBERS_NOT_IN_GROUP"
    field = "memberIds"

    def __init__(self, group_id: UUID, problems: Mapping[UUID, str]) -> None:
        listed = "; ".join(f"{member}: {why}" for member, why in problems.items())
        super().__init__(
            f"Every member listed must belong to group {group_id}. Not so: {listed}. "
            "Remove them or check the ids.",
            details={"memberIds": [str(m) for m in problems]},
        )


class DuplicateMembers(DomainError):
    code = "DUPLICATE_MEMBERS"
    field = "memberIds"

    def __init__(self, member_ids: Sequence[UUID]) -> None:
        listed = ", ".join(str(m) for m in member_ids)
        super().__init__(
            f"These members are listed more than once: {listed}; list each member once.",
            details={"memberIds": [str(m) for m in member_ids]},
        )


class MeetingNotHeld(DomainError):
    code = "MEETING_NOT_HELD"
    field = "meetingId"

    def __init__(self, meeting_id: UUID, status: str, action: str) -> None:
        super().__init__(
            f"Meeting {meeting_id} is {status}; {action} only for a meeting that was held. "
            "Record the meeting as held first."
        )


class AlreadyRecorded(DomainError):
    code = "ALREADY_RECORDED"
    field = "meetingId"

    def __init__(self, meeting_id: UUID) -> None:
        super().__init__(f"Meeting {meeting_id} is already marked as recorded.")


class RecordingConsentMissing(DomainError):
    """Who blocks the recording. Without ``names`` (or with ``names_note`` saying why the
    groups service could not name them) the members are given by id only."""

    code = "RECORDING_CONSENT_MISSING"
    field = "meetingId"

    def __init__(
        self,
        meeting_id: UUID,
        problems: Mapping[UUID, RecordingProblem],
        *,
        names: Names | None = None,
        names_note: str = "",
    ) -> None:
        self.meeting_id = meeting_id
        self.problems = dict(problems)
        known = names or Names()
        entries: list[str] = []
        members: list[dict[str, Any]] = []
        for member_id, problem in problems.items():
            company = known.members.get(member_id, "")
            persons = [
                {"personId": str(p), "name": known.persons.get(p) or None}
                for p in problem.person_ids
            ]
            who = f"{company} (member {member_id})" if company else f"member {member_id}"
            named = [str(p["name"]) for p in persons if p["name"]]
            entries.append(f"{who}: {problem.reason}" + (f" ({', '.join(named)})" if named else ""))
            members.append(
                {
                    "memberId": str(member_id),
                    "companyName": company or None,
                    "reason": problem.reason,
                    "personsWithoutConsent": persons,
                }
            )
        note = f" Names unavailable ({names_note}); members are given by id." if names_note else ""
        super().__init__(
            f"Meeting {meeting_id} may be recorded only if every attendee consented to audio "
            f"recording. Missing: {'; '.join(entries)}.{note} Ask their entrepreneurs for "
            "consent (in the groups service), or do not record.",
            details={
                "memberIds": [str(m) for m in problems],
                "members": members,
                "namesNote": names_note or None,
            },
        )

    def named(self, names: Names | None, note: str = "") -> RecordingConsentMissing:
        """The same refusal, with the names the groups service gave (or why it gave none)."""
        return RecordingConsentMissing(self.meeting_id, self.problems, names=names, names_note=note)


class TextRequired(DomainError):
    code = "TEXT_REQUIRED"

    def __init__(self, field: str, what: str) -> None:
        super().__init__(f"{what} is required; it cannot be empty.")
        self.field = field


class TextTooLong(DomainError):
    code = "TEXT_TOO_LONG"

    def __init__(self, field: str, length: int, limit: int) -> None:
        super().__init__(f"{field} has {length} characters; shorten it to at most {limit}.")
        self.field = field


class ActionNotFound(DomainError):
    code = "ACTION_NOT_FOUND"
    field = "actionId"

    def __init__(self, action_id: UUID) -> None:
        super().__init__(f"Action item {action_id} does not exist in this region; check the id.")


class ActionAlreadyClosed(DomainError):
    code = "ACTION_ALREADY_CLOSED"
    field = "actionId"

    def __init__(self, action_id: UUID, closed_on: date | None) -> None:
        super().__init__(f"Action item {action_id} was already closed on {closed_on}.")


class DateBeforeStart(DomainError):
    code = "DATE_BEFORE_START"

    def __init__(self, field: str, value: date, start: date, what: str) -> None:
        super().__init__(f"{field} {value} is before {what} ({start}); correct the date.")
        self.field = field


class UnknownActivityType(DomainError):
    code = "UNKNOWN_ACTIVITY_TYPE"
    field = "type"

    def __init__(self, value: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"{value!r} is not one of Wenger's 11 activity types; use one of: "
            + ", ".join(allowed)
            + "."
        )


class InitiativeNotFound(DomainError):
    code = "INITIATIVE_NOT_FOUND"
    field = "initiativeId"

    def __init__(self, initiative_id: UUID) -> None:
        super().__init__(f"Initiative {initiative_id} does not exist in this region; check the id.")


class InitiativeFinished(DomainError):
    code = "INITIATIVE_FINISHED"
    field = "initiativeId"

    def __init__(self, initiative_id: UUID, status: str) -> None:
        super().__init__(
            f"Initiative {initiative_id} is {status}; a finished initiative is not updated. "
            "Start a new initiative for new joint work."
        )


class UnknownInitiativeStatus(DomainError):
    code = "UNKNOWN_INITIATIVE_STATUS"
    field = "status"

    def __init__(self, value: str, allowed: Sequence[str]) -> None:
        super().__init__(f"{value!r} is not a status; use one of: {', '.join(allowed)}.")


class InitiativeNeedsMembers(DomainError):
    code = "INITIATIVE_NEEDS_MEMBERS"
    field = "memberIds"

    def __init__(self) -> None:
        super().__init__("An initiative is joint work: list at least one member taking part.")


class UnknownMember(DomainError):
    code = "UNKNOWN_MEMBER"
    field = "memberId"

    def __init__(self, member_id: UUID) -> None:
        super().__init__(
            f"Member {member_id} is not known to the meetings service; check the id, or retry "
            "in a moment if it joined just now."
        )
