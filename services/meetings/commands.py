"""Commands the meetings service accepts, and the node facts its handlers need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Node:
    """Where the service runs: the region (events' origin) and its time zone (meeting dates)."""

    region: str
    tz: tzinfo


@dataclass(frozen=True, slots=True)
class ScheduleMeeting:
    group_id: UUID
    host_member_id: UUID
    theme: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class RecordMeetingHeld:
    meeting_id: UUID
    attendee_member_ids: tuple[UUID, ...]
    held_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CorrectAttendance:
    meeting_id: UUID
    attendee_member_ids: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class CancelMeeting:
    meeting_id: UUID
    reason: str


@dataclass(frozen=True, slots=True)
class RescheduleMeeting:
    meeting_id: UUID
    starts_at: datetime | None = None
    theme: str | None = None


@dataclass(frozen=True, slots=True)
class RecordRsvp:
    meeting_id: UUID
    member_id: UUID
    coming: bool


@dataclass(frozen=True, slots=True)
class MarkRecorded:
    meeting_id: UUID


@dataclass(frozen=True, slots=True)
class PublishMemo:
    meeting_id: UUID
    summary: str
    facilitator_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class AgreeAction:
    meeting_id: UUID
    owner_member_id: UUID
    description: str
    due_on: date | None = None


@dataclass(frozen=True, slots=True)
class CloseAction:
    action_id: UUID
    closed_on: date | None = None  # default: today in the region
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class RecordActivity:
    meeting_id: UUID
    activity_type: str
    example: str
    member_ids: tuple[UUID, ...] = ()
    coder_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class StartInitiative:
    meeting_id: UUID
    title: str
    member_ids: tuple[UUID, ...]
    started_on: date | None = None


@dataclass(frozen=True, slots=True)
class UpdateInitiative:
    initiative_id: UUID
    status: str
    outcome: str | None = None
    member_ids: tuple[UUID, ...] | None = None
    updated_on: date | None = None  # default: today in the region
