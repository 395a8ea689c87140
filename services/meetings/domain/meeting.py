"""The meeting aggregate: planned → held | cancelled, hosted by an active group member."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from uuid import UUID

from services.meetings.domain.consent import RecordingProblem
from services.meetings.domain.membership import KnownGroup, Membership, local_date
from shared.contracts import (
    AttendanceCorrected,
    MeetingCancelled,
    MeetingHeld,
    MeetingRecorded,
    MeetingRescheduled,
    MeetingScheduled,
    MemoPublished,
    RsvpRecorded,
)
from shared.errors import DomainError
from shared.errors import meetings as errors
from shared.errors import meetings_work as work_errors
from shared.errors.replica import UnknownMember

THEME_MAX = 300
REASON_MAX = 500
MEMO_MAX = 20_000
MEETING_LENGTH = timedelta(hours=3)  # two meetings closer than this overlap


class MeetingStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


def _aware_utc(value: datetime, field_name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise errors.TimezoneRequired(field_name, value.isoformat())
    return value.astimezone(UTC)


def _theme(theme: str) -> str:
    cleaned = theme.strip()
    if not cleaned:
        raise errors.ThemeRequired()
    if len(cleaned) > THEME_MAX:
        raise errors.ThemeTooLong(len(cleaned), THEME_MAX)
    return cleaned


@dataclass(frozen=True, slots=True)
class Meeting:
    """``version`` is the sequence of the meeting's latest event (1 scheduled, 2 held/cancelled)."""

    id: UUID
    group_id: UUID
    host_member_id: UUID
    theme: str
    starts_at: datetime  # UTC
    status: MeetingStatus = MeetingStatus.PLANNED
    version: int = 1
    held_at: datetime | None = None
    attendee_member_ids: tuple[UUID, ...] = field(default=())
    cancel_reason: str | None = None
    rsvps: tuple[tuple[UUID, bool], ...] = field(default=())  # (member, coming), in order
    recorded: bool = False
    memo: str | None = None
    memo_facilitator_id: UUID | None = None
    memo_published_at: datetime | None = None

    @property
    def attendance_count(self) -> int:
        return len(self.attendee_member_ids)

    @classmethod
    def schedule(
        cls,
        *,
        meeting_id: UUID,
        group_id: UUID,
        group: KnownGroup | None,
        host_member_id: UUID,
        host: Membership | None,
        theme: str,
        starts_at: datetime,
        tz: tzinfo,
    ) -> tuple[Meeting, MeetingScheduled]:
        """Plan a meeting at the host's premises; past dates are allowed (history loads)."""
        clean_theme = _theme(theme)
        starts_utc = _aware_utc(starts_at, "starts_at")
        if group is None:
            raise errors.UnknownGroup(group_id)
        if host is None or not host.has_joined:
            raise errors.UnknownHost(host_member_id)
        if host.group_id != group_id:
            raise errors.HostInAnotherGroup(host_member_id, host.group_id, group_id)
        day = local_date(starts_utc, tz)
        if not host.active_on(day):
            raise errors.HostNotActive(host_member_id, not_active(host, day))
        meeting = cls(
            id=meeting_id,
            group_id=group_id,
            host_member_id=host_member_id,
            theme=clean_theme,
            starts_at=starts_utc,
        )
        event = MeetingScheduled(
            meeting_id=meeting_id,
            group_id=group_id,
            host_member_id=host_member_id,
            theme=clean_theme,
            starts_at=starts_utc,
        )
        return meeting, event

    def _require_planned(self) -> None:
        if self.status is MeetingStatus.HELD:
            raise errors.MeetingAlreadyHeld(self.id)
        if self.status is MeetingStatus.CANCELLED:
            raise errors.MeetingAlreadyCancelled(self.id)

    def hold(
        self,
        *,
        held_at: datetime | None,
        attendee_member_ids: Sequence[UUID],
        members: Mapping[UUID, Membership],
        tz: tzinfo,
        now: datetime,
    ) -> tuple[Meeting, MeetingHeld]:
        """Record that the meeting took place; ``held_at`` defaults to ``starts_at``.

        Only once its start has passed (``now``); every attendee must be an active member
        of the group on the day it was held.
        """
        self._require_planned()
        if now < self.starts_at:
            raise errors.MeetingNotStarted(self.id, self.starts_at)
        held_utc = self.starts_at if held_at is None else _aware_utc(held_at, "held_at")
        attendees = self._check_attendees(attendee_member_ids, members, tz, held_utc)
        held = replace(
            self,
            status=MeetingStatus.HELD,
            version=self.version + 1,
            held_at=held_utc,
            attendee_member_ids=attendees,
        )
        event = MeetingHeld(
            meeting_id=self.id,
            group_id=self.group_id,
            held_at=held_utc,
            attendee_member_ids=attendees,
        )
        return held, event

    def correct_attendance(
        self,
        *,
        attendee_member_ids: Sequence[UUID],
        members: Mapping[UUID, Membership],
        tz: tzinfo,
    ) -> tuple[Meeting, AttendanceCorrected]:
        """Correct who came to a held meeting: the whole new list, by the same rules as
        holding it (each once, each an active member of the group that day)."""
        require_held(self)
        assert self.held_at is not None
        attendees = self._check_attendees(attendee_member_ids, members, tz, self.held_at)
        if set(attendees) == set(self.attendee_member_ids):
            raise errors.AttendanceUnchanged(self.id)
        before = set(self.attendee_member_ids)
        corrected = replace(self, attendee_member_ids=attendees, version=self.version + 1)
        event = AttendanceCorrected(
            meeting_id=self.id,
            group_id=self.group_id,
            held_at=self.held_at,
            attendee_member_ids=attendees,
            added_member_ids=tuple(m for m in attendees if m not in before),
            removed_member_ids=tuple(m for m in self.attendee_member_ids if m not in attendees),
        )
        return corrected, event

    def _check_attendees(
        self,
        attendee_member_ids: Sequence[UUID],
        members: Mapping[UUID, Membership],
        tz: tzinfo,
        held_at: datetime,
    ) -> tuple[UUID, ...]:
        repeated = [m for m, n in Counter(attendee_member_ids).items() if n > 1]
        if repeated:
            raise errors.DuplicateAttendees(repeated)
        day = local_date(held_at, tz)
        problems = {
            member_id: why
            for member_id in attendee_member_ids
            if (why := member_problem(self.group_id, member_id, members.get(member_id), day))
        }
        if problems:
            raise errors.AttendeesNotActive(day, problems)
        return tuple(attendee_member_ids)

    def cancel(self, reason: str) -> tuple[Meeting, MeetingCancelled]:
        """Call off a planned meeting, saying why."""
        self._require_planned()
        cleaned = reason.strip()
        if not cleaned:
            raise errors.CancelReasonRequired()
        if len(cleaned) > REASON_MAX:
            raise errors.CancelReasonTooLong(len(cleaned), REASON_MAX)
        cancelled = replace(
            self, status=MeetingStatus.CANCELLED, version=self.version + 1, cancel_reason=cleaned
        )
        event = MeetingCancelled(meeting_id=self.id, group_id=self.group_id, reason=cleaned)
        return cancelled, event

    def day(self, tz: tzinfo) -> date:
        """The meeting's calendar date in the region (held date once held)."""
        return local_date(self.held_at or self.starts_at, tz)

    def reschedule(
        self,
        *,
        starts_at: datetime | None,
        theme: str | None,
        host: Membership | None,
        tz: tzinfo,
    ) -> tuple[Meeting, MeetingRescheduled]:
        """Move a planned meeting and/or change its theme; the host must be active then."""
        self._require_planned()
        if starts_at is None and theme is None:
            raise errors.NothingToReschedule()
        new_theme = self.theme if theme is None else _theme(theme)
        new_start = self.starts_at if starts_at is None else _aware_utc(starts_at, "starts_at")
        day = local_date(new_start, tz)
        if host is None or not host.has_joined:
            raise errors.HostNotActive(self.host_member_id, UnknownMember(self.host_member_id))
        if not host.active_on(day):
            raise errors.HostNotActive(self.host_member_id, not_active(host, day))
        moved = replace(self, starts_at=new_start, theme=new_theme, version=self.version + 1)
        event = MeetingRescheduled(
            meeting_id=self.id, group_id=self.group_id, starts_at=new_start, theme=new_theme
        )
        return moved, event

    def rsvp(
        self, *, member_id: UUID, coming: bool, member: Membership | None, tz: tzinfo
    ) -> tuple[Meeting, RsvpRecorded]:
        """A member says it will (or will not) come; a later answer replaces an earlier one."""
        self._require_planned()
        day = local_date(self.starts_at, tz)
        why = member_problem(self.group_id, member_id, member, day)
        if why:
            raise errors.MemberNotInGroup(member_id, why, field="member_id")
        answers = (*tuple((m, c) for m, c in self.rsvps if m != member_id), (member_id, coming))
        answered = replace(self, rsvps=answers, version=self.version + 1)
        event = RsvpRecorded(
            meeting_id=self.id, group_id=self.group_id, member_id=member_id, coming=coming
        )
        return answered, event

    def _require_held(self) -> None:
        require_held(self)

    def mark_recorded(
        self, consenting: Mapping[UUID, RecordingProblem]
    ) -> tuple[Meeting, MeetingRecorded]:
        """Mark the held meeting as audio-recorded. ``consenting`` maps each attendee who has
        *not* consented to why (absent: consented)."""
        self._require_held()
        if self.recorded:
            raise errors.AlreadyRecorded(self.id)
        missing = [why.refusal(m) for m in self.attendee_member_ids if (why := consenting.get(m))]
        if missing:
            raise errors.RecordingConsentMissing(self.id, missing)
        recorded = replace(self, recorded=True, version=self.version + 1)
        return recorded, MeetingRecorded(meeting_id=self.id, group_id=self.group_id)

    def publish_memo(
        self, *, summary: str, shared_summary: str, facilitator_id: UUID | None, at: datetime
    ) -> tuple[Meeting, MemoPublished]:
        """Publish (or correct: the latest replaces) the summary of a held meeting. The
        region keeps ``summary``; the event, which leaves the region, carries
        ``shared_summary`` (the summary with the region's names masked)."""
        self._require_held()
        text = clean_text(summary, field="summary", limit=MEMO_MAX)
        shared = clean_text(shared_summary, field="summary", limit=MEMO_MAX)
        published = replace(
            self,
            memo=text,
            memo_facilitator_id=facilitator_id,
            memo_published_at=at,
            version=self.version + 1,
        )
        event = MemoPublished(
            meeting_id=self.id,
            group_id=self.group_id,
            summary=shared,
            facilitator_id=facilitator_id,
        )
        return published, event


def overlaps(meeting: Meeting, others: Sequence[Meeting]) -> list[errors.MeetingsOverlap]:
    """Warnings (not refusals) for other meetings of the group, not cancelled, that start
    less than :data:`MEETING_LENGTH` before or after ``meeting``."""
    if meeting.status is MeetingStatus.CANCELLED:
        return []
    return [
        errors.MeetingsOverlap(other.id, other.theme, other.starts_at)
        for other in sorted(others, key=lambda m: m.starts_at)
        if other.id != meeting.id
        and other.group_id == meeting.group_id
        and other.status is not MeetingStatus.CANCELLED
        and abs(other.starts_at - meeting.starts_at) < MEETING_LENGTH
    ]


def require_held(meeting: Meeting) -> None:
    """Refuse what only a held meeting has (a memo, follow-ups, a recording)."""
    if meeting.status is MeetingStatus.CANCELLED:
        raise errors.CancelledMeetingNotHeld(meeting.id, meeting.status.value)
    if meeting.status is not MeetingStatus.HELD:
        raise errors.MeetingNotHeld(meeting.id, meeting.status.value)


def clean_text(value: str, *, field: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise work_errors.TextRequired(field)
    if len(cleaned) > limit:
        raise work_errors.TextTooLong(field, len(cleaned), limit)
    return cleaned


def not_active(member: Membership, day: date) -> errors.MemberNotActive:
    """Why ``member`` (of the group) is not active on ``day``."""
    dates = {
        "joined_on": member.joined_on,
        "paused_on": member.effective_paused_on,
        "left_on": member.effective_left_on,
    }
    if member.joined_on is not None and day < member.joined_on:
        return errors.MemberNotYetJoined(member.member_id, day, **dates)
    if member.effective_left_on is not None and day > member.effective_left_on:
        return errors.MemberLeftOn(member.member_id, day, **dates)
    if member.effective_paused_on is not None and day > member.effective_paused_on:
        return errors.MemberPausedOn(member.member_id, day, **dates)
    return errors.MemberNotActive(member.member_id, day, **dates)


def member_problem(
    group_id: UUID, member_id: UUID, member: Membership | None, day: date | None = None
) -> DomainError | None:
    """Why ``member`` cannot take part in the group (``day``: also active that day)."""
    if member is None or not member.has_joined:
        return UnknownMember(member_id)
    if member.group_id != group_id:
        return errors.MemberOfAnotherGroup(member_id, member.group_id, group_id)
    if day is not None and not member.active_on(day):
        return not_active(member, day)
    return None


def check_members(
    group_id: UUID,
    member_ids: Sequence[UUID],
    members: Mapping[UUID, Membership],
    day: date | None = None,
) -> tuple[UUID, ...]:
    """The listed members, each once and each of the group (else a refusal naming them)."""
    repeated = [m for m, n in Counter(member_ids).items() if n > 1]
    if repeated:
        raise errors.DuplicateMembers(repeated)
    problems = {
        m: why for m in member_ids if (why := member_problem(group_id, m, members.get(m), day))
    }
    if problems:
        raise errors.MembersNotInGroup(group_id, problems)
    return tuple(member_ids)
