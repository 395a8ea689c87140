"""Events of the meetings service: the monthly meetings of a core group."""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.contracts.base import Event


class MeetingScheduled(Event):
    """A meeting was planned at a member's premises (aggregate: the meeting)."""

    TYPE = "meetings.meeting.scheduled"

    meeting_id: UUID
    group_id: UUID
    host_member_id: UUID
    theme: str = Field(min_length=1, max_length=300)
    starts_at: AwareDatetime


class MeetingHeld(Event):
    """A meeting took place; ``attendee_member_ids`` are the members who came."""

    TYPE = "meetings.meeting.held"

    meeting_id: UUID
    group_id: UUID
    held_at: AwareDatetime
    attendee_member_ids: tuple[UUID, ...] = ()

    @property
    def attendance_count(self) -> int:
        return len(self.attendee_member_ids)


class AttendanceCorrected(Event):
    """The attendance of a held meeting was corrected after the fact (aggregate: the
    meeting). ``attendee_member_ids`` is the whole corrected list, replacing the one of
    ``MeetingHeld`` or of an earlier correction (the newest sequence wins); ``held_at``
    repeats the meeting's time so the event stands on its own."""

    TYPE = "meetings.meeting.attendance_corrected"
    VERSION = 1

    meeting_id: UUID
    group_id: UUID
    held_at: AwareDatetime
    attendee_member_ids: tuple[UUID, ...] = ()
    added_member_ids: tuple[UUID, ...] = ()
    removed_member_ids: tuple[UUID, ...] = ()

    @property
    def attendance_count(self) -> int:
        return len(self.attendee_member_ids)


class MeetingCancelled(Event):
    """A planned meeting will not take place (aggregate: the meeting)."""

    TYPE = "meetings.meeting.cancelled"

    meeting_id: UUID
    group_id: UUID
    reason: str = Field(default="", max_length=500)


# Wenger's 11 typical community-of-practice activities, the researchers' classification.
ActivityType = Literal[
    "problem_solving",
    "requests_for_information",
    "seeking_experience",
    "reusing_assets",
    "coordination_and_strategy",
    "building_an_argument",
    "growing_confidence",
    "discussing_developments",
    "documentation_projects",
    "visits",
    "mapping_knowledge_and_identifying_gaps",
]
ACTIVITY_TYPES: tuple[str, ...] = get_args(ActivityType)
InitiativeStatus = Literal["active", "paused", "completed", "abandoned"]


class MeetingRescheduled(Event):
    """A planned meeting moved (and possibly changed theme); aggregate: the meeting."""

    TYPE = "meetings.meeting.rescheduled"

    meeting_id: UUID
    group_id: UUID
    starts_at: AwareDatetime
    theme: str = Field(min_length=1, max_length=300)


class RsvpRecorded(Event):
    """A member said it will (or will not) come to a planned meeting."""

    TYPE = "meetings.meeting.rsvp_recorded"

    meeting_id: UUID
    group_id: UUID
    member_id: UUID
    coming: bool


class MeetingRecorded(Event):
    """The meeting was audio-recorded (allowed only with every attendee's consent)."""

    TYPE = "meetings.meeting.recorded"

    meeting_id: UUID
    group_id: UUID


class MemoPublished(Event):
    """The facilitator's summary of the main conclusions, published to the network."""

    TYPE = "meetings.meeting.memo_published"

    meeting_id: UUID
    group_id: UUID
    summary: str = Field(min_length=1, max_length=20_000)
    facilitator_id: UUID | None = None


class ActionItemAgreed(Event):
    """A follow-up action agreed in a meeting (aggregate: the action item)."""

    TYPE = "meetings.action.agreed"

    action_id: UUID
    meeting_id: UUID
    group_id: UUID
    owner_member_id: UUID
    description: str = Field(min_length=1, max_length=1000)
    due_on: date | None = None


class ActionItemClosed(Event):
    TYPE = "meetings.action.closed"

    action_id: UUID
    group_id: UUID
    closed_on: date
    outcome: str = Field(default="", max_length=1000)


class ActivityRecorded(Event):
    """One CoP activity observed in a meeting, classified by a researcher (``coder_id``);
    two coders classifying the same meeting give the data for their agreement."""

    TYPE = "meetings.activity.recorded"

    activity_id: UUID
    meeting_id: UUID
    group_id: UUID
    activity_type: ActivityType
    example: str = Field(min_length=1, max_length=2000)
    member_ids: tuple[UUID, ...] = ()
    coder_id: UUID | None = None


class InitiativeStarted(Event):
    """Joint work that started in a meeting (aggregate: the initiative)."""

    TYPE = "meetings.initiative.started"

    initiative_id: UUID
    group_id: UUID
    origin_meeting_id: UUID | None = None
    title: str = Field(min_length=1, max_length=300)
    member_ids: tuple[UUID, ...] = ()
    started_on: date


class InitiativeUpdated(Event):
    TYPE = "meetings.initiative.updated"

    initiative_id: UUID
    group_id: UUID
    status: InitiativeStatus
    outcome: str = Field(default="", max_length=2000)
    member_ids: tuple[UUID, ...] = ()
    updated_on: date
