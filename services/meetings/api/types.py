"""GraphQL types of the meetings API (built from domain objects, never from ORM rows)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Protocol
from uuid import UUID

import strawberry

from services.meetings import handlers
from services.meetings.api.context import MeetingsContext
from services.meetings.domain import ActionItem as DomainActionItem
from services.meetings.domain import Activity as DomainActivity
from services.meetings.domain import HostSuggestion as DomainHostSuggestion
from services.meetings.domain import Initiative as DomainInitiative
from services.meetings.domain import InitiativeUpdate as DomainInitiativeUpdate
from services.meetings.domain import Meeting as DomainMeeting
from services.meetings.domain import MeetingStatus as DomainStatus
from services.meetings.domain import Membership
from shared.activity_types import ActivityTypeText
from shared.directory import MaskedText as DirectoryMaskedText
from shared.i18n import current_language
from shared.runtime.activity import ActivityType as ActivityType  # re-exported
from shared.runtime.graphql_errors import FieldProblem


@strawberry.enum(description="Lifecycle of a meeting: planned, then held or cancelled.")
class MeetingStatus(Enum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"

    @classmethod
    def from_domain(cls, status: DomainStatus) -> MeetingStatus:
        return cls(status.value)

    def to_domain(self) -> DomainStatus:
        return DomainStatus(self.value)


class HasMember(Protocol):
    member_id: UUID


Info = strawberry.Info[MeetingsContext, None]


async def resolve_company_name(root: HasMember, info: Info) -> str | None:
    return await info.context.names.company(root.member_id)


COMPANY_NAME = "The member's company name from the groups service (null if it does not answer)."


async def resolve_host_name(root: Meeting, info: Info) -> str | None:
    return await info.context.names.company(root.host_member_id)


async def resolve_owner_name(root: ActionItem, info: Info) -> str | None:
    return await info.context.names.company(root.owner_member_id)


async def resolve_warnings(
    root: Meeting, info: strawberry.Info[MeetingsContext, None]
) -> list[FieldProblem]:
    found = await handlers.overlap_warnings(root.domain, info.context.unit_of_work())
    return [FieldProblem.from_error(w) for w in found]


async def _attendee_ids(root: Meeting, info: Info) -> list[UUID]:
    if root.lists_loaded:
        return list(root.domain.attendee_member_ids)
    return await info.context.lists.attendees.load(root.id)


async def resolve_attendee_member_ids(root: Meeting, info: Info) -> list[UUID]:
    return await _attendee_ids(root, info)


async def resolve_attendees(root: Meeting, info: Info) -> list[Attendee]:
    return [Attendee(member_id=m) for m in await _attendee_ids(root, info)]


async def resolve_attendance_count(root: Meeting, info: Info) -> int:
    if root.lists_loaded:
        return root.domain.attendance_count
    return await info.context.lists.attendance_counts.load(root.id)


async def resolve_rsvps(root: Meeting, info: Info) -> list[Rsvp]:
    answers = (
        root.domain.rsvps if root.lists_loaded else await info.context.lists.rsvps.load(root.id)
    )
    return [Rsvp(member_id=m, coming=c) for m, c in answers]


@strawberry.type(description="A monthly meeting of a core group at a member's premises.")
class Meeting:
    id: UUID
    group_id: UUID
    host_member_id: UUID
    host_company_name: str | None = strawberry.field(
        resolver=resolve_host_name,
        description="The host's company name from the groups service (null if it does not "
        "answer); the meeting is at its premises.",
    )
    theme: str
    starts_at: datetime
    status: MeetingStatus
    held_at: datetime | None
    attendee_member_ids: list[UUID] = strawberry.field(resolver=resolve_attendee_member_ids)
    attendees: list[Attendee] = strawberry.field(
        resolver=resolve_attendees,
        description="Who came, with company names (the attendance checklist's names).",
    )
    attendance_count: int = strawberry.field(resolver=resolve_attendance_count)
    cancel_reason: str | None
    rsvps: list[Rsvp] = strawberry.field(
        resolver=resolve_rsvps, description="Latest answer of each member who answered."
    )
    recorded: bool = strawberry.field(description="Audio-recorded (with every attendee's consent).")
    memo: Memo | None
    warnings: list[FieldProblem] = strawberry.field(
        resolver=resolve_warnings,
        description="Worth a second look, not refused: another meeting of the group at an "
        "overlapping time (code MEETINGS_OVERLAP; params other_meeting_id, theme, starts_at). "
        "Ask for it in scheduleMeeting's and rescheduleMeeting's answer.",
    )
    domain: strawberry.Private[DomainMeeting]
    lists_loaded: strawberry.Private[bool]  # False: the domain's lists are empty, not read

    @classmethod
    def from_domain(cls, meeting: DomainMeeting, *, lists_loaded: bool = True) -> Meeting:
        """``lists_loaded=False``: ``meeting`` was read without its attendee and RSVP lists
        (``MeetingRepository.find(with_lists=False)``); the fields that show them read
        them through the request's :class:`~services.meetings.api.lists.MeetingLists`."""
        return cls(
            domain=meeting,
            lists_loaded=lists_loaded,
            id=meeting.id,
            group_id=meeting.group_id,
            host_member_id=meeting.host_member_id,
            theme=meeting.theme,
            starts_at=meeting.starts_at,
            status=MeetingStatus.from_domain(meeting.status),
            held_at=meeting.held_at,
            cancel_reason=meeting.cancel_reason,
            recorded=meeting.recorded,
            memo=Memo.from_domain(meeting) if meeting.memo else None,
        )


@strawberry.type(description="A member's answer to a planned meeting's invitation.")
class Rsvp:
    member_id: UUID
    company_name: str | None = strawberry.field(
        resolver=resolve_company_name, description=COMPANY_NAME
    )
    coming: bool


@strawberry.type(description="A member who came to a meeting.")
class Attendee:
    member_id: UUID
    company_name: str | None = strawberry.field(
        resolver=resolve_company_name, description=COMPANY_NAME
    )


@strawberry.type(description="The facilitator's summary of a held meeting's main conclusions.")
class Memo:
    meeting_id: UUID
    group_id: UUID
    theme: str
    held_at: datetime | None
    summary: str
    facilitator_id: UUID | None
    published_at: datetime | None

    @classmethod
    def from_domain(cls, meeting: DomainMeeting) -> Memo:
        return cls(
            meeting_id=meeting.id,
            group_id=meeting.group_id,
            theme=meeting.theme,
            held_at=meeting.held_at,
            summary=meeting.memo or "",
            facilitator_id=meeting.memo_facilitator_id,
            published_at=meeting.memo_published_at,
        )


@strawberry.enum(description="An agreed follow-up action is open until closed.")
class ActionStatus(Enum):
    OPEN = "open"
    CLOSED = "closed"


@strawberry.type(description="A follow-up action agreed in a meeting: who, what, by when.")
class ActionItem:
    id: UUID
    meeting_id: UUID
    group_id: UUID
    owner_member_id: UUID
    owner_company_name: str | None = strawberry.field(
        resolver=resolve_owner_name, description="The owner's company name (null if unknown)."
    )
    description: str
    agreed_on: date
    due_on: date | None
    status: ActionStatus
    closed_on: date | None
    outcome: str

    @classmethod
    def from_domain(cls, item: DomainActionItem) -> ActionItem:
        return cls(
            id=item.id,
            meeting_id=item.meeting_id,
            group_id=item.group_id,
            owner_member_id=item.owner_member_id,
            description=item.description,
            agreed_on=item.agreed_on,
            due_on=item.due_on,
            status=ActionStatus(item.status.value),
            closed_on=item.closed_on,
            outcome=item.outcome,
        )


@strawberry.type(
    description="One of the 11 CoP activity types, named and described in the caller's "
    "language (fi, sv, en)."
)
class ActivityTypeInfo:
    type: ActivityType
    name: str
    description: str

    @classmethod
    def of(cls, text: ActivityTypeText) -> ActivityTypeInfo:
        language = current_language()
        return cls(
            type=ActivityType(text.code),
            name=text.name.get(language),
            description=text.description.get(language),
        )


@strawberry.type(description="A CoP activity observed in a meeting, with an example text.")
class Activity:
    id: UUID
    meeting_id: UUID
    group_id: UUID
    type: ActivityType
    example: str
    member_ids: list[UUID]
    coder_id: UUID | None

    @classmethod
    def from_domain(cls, activity: DomainActivity) -> Activity:
        return cls(
            id=activity.id,
            meeting_id=activity.meeting_id,
            group_id=activity.group_id,
            type=ActivityType(activity.activity_type),
            example=activity.example,
            member_ids=list(activity.member_ids),
            coder_id=activity.coder_id,
        )


@strawberry.enum(description="Where joint work stands; completed and abandoned are final.")
class InitiativeStatus(Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


@strawberry.type(description="One state of an initiative over time (sequence 1: its start).")
class InitiativeUpdate:
    sequence: int
    status: InitiativeStatus
    outcome: str
    member_ids: list[UUID]
    on: date

    @classmethod
    def from_domain(cls, update: DomainInitiativeUpdate) -> InitiativeUpdate:
        return cls(
            sequence=update.sequence,
            status=InitiativeStatus(update.status),
            outcome=update.outcome,
            member_ids=list(update.member_ids),
            on=update.on,
        )


@strawberry.type(description="Joint business work that started in a meeting and went on.")
class Initiative:
    id: UUID
    group_id: UUID
    origin_meeting_id: UUID | None
    title: str
    started_on: date
    status: InitiativeStatus
    outcome: str
    member_ids: list[UUID]
    history: list[InitiativeUpdate]

    @classmethod
    def from_domain(cls, initiative: DomainInitiative) -> Initiative:
        return cls(
            id=initiative.id,
            group_id=initiative.group_id,
            origin_meeting_id=initiative.origin_meeting_id,
            title=initiative.title,
            started_on=initiative.started_on,
            status=InitiativeStatus(initiative.status),
            outcome=initiative.outcome,
            member_ids=list(initiative.member_ids),
            history=[InitiativeUpdate.from_domain(u) for u in initiative.history],
        )


@strawberry.type(description="A candidate host: who hosted least recently comes first.")
class HostSuggestion:
    member_id: UUID
    company_name: str | None = strawberry.field(
        resolver=resolve_company_name, description=COMPANY_NAME
    )
    last_hosted_on: date | None = strawberry.field(description="Null: never hosted.")
    times_hosted: int
    joined_on: date | None
    reason: str = strawberry.field(
        description="Why the fair rotation suggests this member (never hosted, or hosted "
        "longest ago), in the caller's language."
    )
    reason_code: str = strawberry.field(description="HOST_NEVER_HOSTED or HOST_LONGEST_AGO.")

    @classmethod
    def from_domain(cls, suggestion: DomainHostSuggestion) -> HostSuggestion:
        why = suggestion.reason()
        return cls(
            member_id=suggestion.member_id,
            last_hosted_on=suggestion.last_hosted_on,
            times_hosted=suggestion.times_hosted,
            joined_on=suggestion.joined_on,
            reason=why.render(),
            reason_code=why.code,
        )


@strawberry.type(
    description="A member as far as the meetings service has received it from the groups "
    "service; poll this to see that the replica caught up."
)
class KnownMember:
    member_id: UUID
    company_name: str | None = strawberry.field(
        resolver=resolve_company_name, description=COMPANY_NAME
    )
    group_id: UUID
    joined_on: date
    left_on: date | None
    paused_on: date | None = strawberry.field(description="Start of a pause still in force.")
    active: bool = strawberry.field(description="A member today (in the region's time zone).")

    @classmethod
    def from_domain(cls, member: Membership, today: date) -> KnownMember:
        assert member.joined_on is not None
        return cls(
            member_id=member.member_id,
            group_id=member.group_id,
            joined_on=member.joined_on,
            left_on=member.effective_left_on,
            paused_on=member.effective_paused_on,
            active=member.active_on(today),
        )


@strawberry.input
class ScheduleMeetingInput:
    group_id: UUID
    host_member_id: UUID
    theme: str
    starts_at: datetime = strawberry.field(description="With a time zone offset.")


@strawberry.input
class RecordMeetingHeldInput:
    meeting_id: UUID
    held_at: datetime | None = strawberry.field(
        default=None, description="Defaults to the meeting's startsAt."
    )
    attendee_member_ids: list[UUID] = strawberry.field(default_factory=list)


@strawberry.enum(description="Whose name was masked.")
class NameKind(Enum):
    PERSON = "person"
    COMPANY = "company"


@strawberry.type(description="A name masked in a text, and how often.")
class MaskedName:
    kind: NameKind
    name: str | None = strawberry.field(
        description="The name; null for an erased person's (it is no longer known)."
    )
    occurrences: int


@strawberry.type(
    description="A memo's text as the nation receives it: the region's person names "
    "replaced by [name], member companies' by [company], and what was masked."
)
class MaskedText:
    text: str
    masked: list[MaskedName]

    @classmethod
    def from_domain(cls, found: DirectoryMaskedText) -> MaskedText:
        return cls(
            text=found.text,
            masked=[
                MaskedName(kind=NameKind(m.kind), name=m.name, occurrences=m.occurrences)
                for m in found.masked
            ],
        )


@strawberry.input(
    description="The whole corrected list of who came to a held meeting (it replaces the "
    "recorded one; the nation applies it too)."
)
class CorrectAttendanceInput:
    meeting_id: UUID
    attendee_member_ids: list[UUID]


@strawberry.input
class CancelMeetingInput:
    meeting_id: UUID
    reason: str


@strawberry.input
class RescheduleMeetingInput:
    meeting_id: UUID
    starts_at: datetime | None = strawberry.field(
        default=None, description="The new time, with a time zone offset; null: unchanged."
    )
    theme: str | None = strawberry.field(default=None, description="Null: unchanged.")


@strawberry.input
class RecordRsvpInput:
    meeting_id: UUID
    member_id: UUID
    coming: bool


@strawberry.input
class MarkRecordedInput:
    meeting_id: UUID


@strawberry.input
class PublishMemoInput:
    meeting_id: UUID
    summary: str
    facilitator_id: UUID | None = None


@strawberry.input
class AgreeActionInput:
    meeting_id: UUID
    owner_member_id: UUID
    description: str
    due_on: date | None = None


@strawberry.input
class CloseActionInput:
    action_id: UUID
    closed_on: date | None = strawberry.field(default=None, description="Default: today.")
    outcome: str = ""


@strawberry.input
class RecordActivityInput:
    meeting_id: UUID
    type: ActivityType
    example: str
    member_ids: list[UUID] = strawberry.field(default_factory=list)
    coder_id: UUID | None = strawberry.field(
        default=None, description="The researcher who classified it."
    )


@strawberry.input
class StartInitiativeInput:
    meeting_id: UUID = strawberry.field(description="The held meeting it started in.")
    title: str
    member_ids: list[UUID]
    started_on: date | None = strawberry.field(default=None, description="Default: the meeting.")


@strawberry.input
class UpdateInitiativeInput:
    initiative_id: UUID
    status: InitiativeStatus
    outcome: str | None = strawberry.field(default=None, description="Null: unchanged.")
    member_ids: list[UUID] | None = strawberry.field(default=None, description="Null: unchanged.")
    updated_on: date | None = strawberry.field(default=None, description="Default: today.")
