"""Query and Mutation: parse input -> command -> handler -> GraphQL type.

Resolvers are plain typed functions attached with ``strawberry.field(resolver=...)``
(the decorator form is untyped for mypy --strict).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import strawberry

from services.meetings import handlers
from services.meetings.api.context import MeetingsContext
from services.meetings.api.types import (
    ActionItem,
    Activity,
    ActivityTypeInfo,
    AgreeActionInput,
    CancelMeetingInput,
    CloseActionInput,
    CorrectAttendanceInput,
    HostSuggestion,
    Initiative,
    KnownMember,
    MarkRecordedInput,
    MaskedText,
    Meeting,
    MeetingStatus,
    Memo,
    PublishMemoInput,
    RecordActivityInput,
    RecordMeetingHeldInput,
    RecordRsvpInput,
    RescheduleMeetingInput,
    ScheduleMeetingInput,
    StartInitiativeInput,
    UpdateInitiativeInput,
)
from services.meetings.commands import (
    AgreeAction,
    CancelMeeting,
    CloseAction,
    CorrectAttendance,
    MarkRecorded,
    PublishMemo,
    RecordActivity,
    RecordMeetingHeld,
    RecordRsvp,
    RescheduleMeeting,
    ScheduleMeeting,
    StartInitiative,
    UpdateInitiative,
)
from services.meetings.domain import local_date
from services.meetings.replica import ReplicaStore
from services.meetings.repository import (
    ActionRepository,
    ActivityRepository,
    InitiativeRepository,
    MeetingRepository,
)
from shared.activity_types import ACTIVITY_TYPE_TEXTS
from shared.runtime.graphql_errors import Schema
from shared.runtime.scalars import SCALARS_WITH_TIMES

MAX_PAGE = 500
Info = strawberry.Info[MeetingsContext, None]


async def resolve_meeting(info: Info, id: UUID) -> Meeting | None:
    async with info.context.sessions() as session:
        found = await MeetingRepository(session).get(id)  # one meeting: its lists at once
    return None if found is None else Meeting.from_domain(found)


async def resolve_meetings(
    info: Info,
    group_id: UUID | None = None,
    status: MeetingStatus | None = None,
    first: int = 100,
    offset: int = 0,
    starts_from: Annotated[
        datetime | None, strawberry.argument(description="Only those starting at it or later.")
    ] = None,
    starts_before: Annotated[
        datetime | None, strawberry.argument(description="Only those starting before it.")
    ] = None,
    ids: Annotated[
        list[UUID] | None, strawberry.argument(description="Only these meetings.")
    ] = None,
) -> list[Meeting]:
    async with info.context.sessions() as session:
        found = await MeetingRepository(session).find(
            group_id=group_id,
            status=status.to_domain() if status else None,
            limit=max(0, min(first, MAX_PAGE)),
            offset=max(0, offset),
            starts_from=starts_from,
            starts_before=starts_before,
            ids=ids,
            with_lists=False,
        )
    return [Meeting.from_domain(m, lists_loaded=False) for m in found]


async def resolve_known_members(info: Info, group_id: UUID) -> list[KnownMember]:
    async with info.context.sessions() as session:
        members = await ReplicaStore(session).group_members(group_id)
    tz = info.context.node.tz
    today = local_date(datetime.now(tz), tz)
    return [KnownMember.from_domain(m, today) for m in members]


async def schedule_meeting(info: Info, input: ScheduleMeetingInput) -> Meeting:
    cmd = ScheduleMeeting(
        group_id=input.group_id,
        host_member_id=input.host_member_id,
        theme=input.theme,
        starts_at=input.starts_at,
    )
    ctx = info.context
    return Meeting.from_domain(await handlers.schedule_meeting(cmd, ctx.unit_of_work(), ctx.node))


async def record_meeting_held(info: Info, input: RecordMeetingHeldInput) -> Meeting:
    cmd = RecordMeetingHeld(
        meeting_id=input.meeting_id,
        held_at=input.held_at,
        attendee_member_ids=tuple(input.attendee_member_ids),
    )
    ctx = info.context
    return Meeting.from_domain(
        await handlers.record_meeting_held(cmd, ctx.unit_of_work(), ctx.node)
    )


async def correct_attendance(info: Info, input: CorrectAttendanceInput) -> Meeting:
    cmd = CorrectAttendance(
        meeting_id=input.meeting_id, attendee_member_ids=tuple(input.attendee_member_ids)
    )
    ctx = info.context
    return Meeting.from_domain(await handlers.correct_attendance(cmd, ctx.unit_of_work(), ctx.node))


async def cancel_meeting(info: Info, input: CancelMeetingInput) -> Meeting:
    cmd = CancelMeeting(meeting_id=input.meeting_id, reason=input.reason)
    ctx = info.context
    return Meeting.from_domain(await handlers.cancel_meeting(cmd, ctx.unit_of_work(), ctx.node))


async def resolve_suggest_next_host(info: Info, group_id: UUID, on: date) -> list[HostSuggestion]:
    ctx = info.context
    found = await handlers.suggest_next_host(group_id, on, ctx.unit_of_work(), ctx.node)
    return [HostSuggestion.from_domain(s) for s in found]


async def resolve_agenda(info: Info, meeting_id: UUID) -> list[ActionItem]:
    found = await handlers.agenda(meeting_id, info.context.unit_of_work())
    return [ActionItem.from_domain(a) for a in found]


async def resolve_actions(info: Info, meeting_id: UUID) -> list[ActionItem]:
    async with info.context.sessions() as session:
        found = await ActionRepository(session).of_meeting(meeting_id)
    return [ActionItem.from_domain(a) for a in found]


async def resolve_open_actions(info: Info, group_ids: list[UUID]) -> list[ActionItem]:
    async with info.context.sessions() as session:
        found = await ActionRepository(session).open_of_groups(group_ids[:MAX_PAGE])
    return [ActionItem.from_domain(a) for a in found]


async def resolve_memo_series(info: Info, group_id: UUID) -> list[Memo]:
    async with info.context.sessions() as session:
        found = await MeetingRepository(session).with_memos(group_id)
    return [Memo.from_domain(m) for m in found]


async def resolve_activities(info: Info, meeting_id: UUID) -> list[Activity]:
    async with info.context.sessions() as session:
        found = await ActivityRepository(session).of_meeting(meeting_id)
    return [Activity.from_domain(a) for a in found]


async def resolve_initiative(info: Info, id: UUID) -> Initiative | None:
    async with info.context.sessions() as session:
        found = await InitiativeRepository(session).get(id)
    return None if found is None else Initiative.from_domain(found)


async def resolve_initiatives(info: Info, group_id: UUID) -> list[Initiative]:
    async with info.context.sessions() as session:
        found = await InitiativeRepository(session).of_group(group_id)
    return [Initiative.from_domain(i) for i in found]


async def reschedule_meeting(info: Info, input: RescheduleMeetingInput) -> Meeting:
    cmd = RescheduleMeeting(
        meeting_id=input.meeting_id, starts_at=input.starts_at, theme=input.theme
    )
    ctx = info.context
    return Meeting.from_domain(await handlers.reschedule_meeting(cmd, ctx.unit_of_work(), ctx.node))


async def record_rsvp(info: Info, input: RecordRsvpInput) -> Meeting:
    cmd = RecordRsvp(meeting_id=input.meeting_id, member_id=input.member_id, coming=input.coming)
    ctx = info.context
    return Meeting.from_domain(await handlers.record_rsvp(cmd, ctx.unit_of_work(), ctx.node))


async def mark_recorded(info: Info, input: MarkRecordedInput) -> Meeting:
    ctx = info.context
    cmd = MarkRecorded(input.meeting_id)
    return Meeting.from_domain(
        await handlers.mark_recorded(cmd, ctx.unit_of_work(), ctx.node, ctx.directory)
    )


async def publish_memo(info: Info, input: PublishMemoInput) -> Meeting:
    cmd = PublishMemo(
        meeting_id=input.meeting_id, summary=input.summary, facilitator_id=input.facilitator_id
    )
    ctx = info.context
    return Meeting.from_domain(
        await handlers.publish_memo(cmd, ctx.unit_of_work(), ctx.node, ctx.directory)
    )


async def resolve_memo_mask_preview(
    info: Info, text: str | None = None, meeting_id: UUID | None = None
) -> MaskedText:
    ctx = info.context
    found = await handlers.memo_mask_preview(text, meeting_id, ctx.unit_of_work(), ctx.directory)
    return MaskedText.from_domain(found)


async def agree_action(info: Info, input: AgreeActionInput) -> ActionItem:
    cmd = AgreeAction(
        meeting_id=input.meeting_id,
        owner_member_id=input.owner_member_id,
        description=input.description,
        due_on=input.due_on,
    )
    ctx = info.context
    return ActionItem.from_domain(await handlers.agree_action(cmd, ctx.unit_of_work(), ctx.node))


async def close_action(info: Info, input: CloseActionInput) -> ActionItem:
    cmd = CloseAction(action_id=input.action_id, closed_on=input.closed_on, outcome=input.outcome)
    ctx = info.context
    return ActionItem.from_domain(await handlers.close_action(cmd, ctx.unit_of_work(), ctx.node))


async def record_activity(info: Info, input: RecordActivityInput) -> Activity:
    cmd = RecordActivity(
        meeting_id=input.meeting_id,
        activity_type=input.type.value,
        example=input.example,
        member_ids=tuple(input.member_ids),
        coder_id=input.coder_id,
    )
    ctx = info.context
    return Activity.from_domain(await handlers.record_activity(cmd, ctx.unit_of_work(), ctx.node))


async def start_initiative(info: Info, input: StartInitiativeInput) -> Initiative:
    cmd = StartInitiative(
        meeting_id=input.meeting_id,
        title=input.title,
        member_ids=tuple(input.member_ids),
        started_on=input.started_on,
    )
    ctx = info.context
    return Initiative.from_domain(
        await handlers.start_initiative(cmd, ctx.unit_of_work(), ctx.node)
    )


async def update_initiative(info: Info, input: UpdateInitiativeInput) -> Initiative:
    cmd = UpdateInitiative(
        initiative_id=input.initiative_id,
        status=input.status.value,
        outcome=input.outcome,
        member_ids=None if input.member_ids is None else tuple(input.member_ids),
        updated_on=input.updated_on,
    )
    ctx = info.context
    return Initiative.from_domain(
        await handlers.update_initiative(cmd, ctx.unit_of_work(), ctx.node)
    )


def resolve_activity_types() -> list[ActivityTypeInfo]:
    return [ActivityTypeInfo.of(text) for text in ACTIVITY_TYPE_TEXTS.values()]


@strawberry.type
class Query:
    meeting: Meeting | None = strawberry.field(
        resolver=resolve_meeting, description="One meeting by id, or null."
    )
    meetings: list[Meeting] = strawberry.field(
        resolver=resolve_meetings, description=f"Meetings, newest first; at most {MAX_PAGE} a page."
    )
    known_members: list[KnownMember] = strawberry.field(
        resolver=resolve_known_members,
        description="Members of a group whose joining the meetings service has received.",
    )
    suggest_next_host: list[HostSuggestion] = strawberry.field(
        resolver=resolve_suggest_next_host,
        description="Members active on `on`, who hosted least recently first (never hosted "
        "first); the first is the suggestion. Paused and departed members are left out.",
    )
    agenda: list[ActionItem] = strawberry.field(
        resolver=resolve_agenda,
        description="Open follow-up actions of the meeting's group agreed in earlier meetings.",
    )
    actions: list[ActionItem] = strawberry.field(
        resolver=resolve_actions, description="Follow-up actions agreed in a meeting."
    )
    open_actions: list[ActionItem] = strawberry.field(
        resolver=resolve_open_actions,
        description=f"The open follow-up actions of the groups (at most {MAX_PAGE} groups), "
        "due dates first, earliest first (a console's home page: one request for all).",
    )
    memo_series: list[Memo] = strawberry.field(
        resolver=resolve_memo_series,
        description="A group's published memos in date order (also GET /groups/<id>/memos.md).",
    )
    memo_mask_preview: MaskedText = strawberry.field(
        resolver=resolve_memo_mask_preview,
        description="What the nation will read of a memo: `text` (a draft) or, without it, "
        "the published memo of `meetingId`, with the region's person names replaced by "
        "[name] and member companies' by [company], and what was masked. The region keeps "
        "the original. MEMO_MASKING_UNAVAILABLE when the groups service cannot be asked.",
    )
    activity_types: list[ActivityTypeInfo] = strawberry.field(
        resolver=resolve_activity_types,
        description="The 11 CoP activity types with a name and a description each, in the "
        "caller's language (Accept-Language), in the order of the contract.",
    )
    activities: list[Activity] = strawberry.field(
        resolver=resolve_activities, description="CoP activities recorded for a meeting."
    )
    initiative: Initiative | None = strawberry.field(
        resolver=resolve_initiative, description="One initiative by id, with its history."
    )
    initiatives: list[Initiative] = strawberry.field(
        resolver=resolve_initiatives, description="A group's initiatives, oldest first."
    )


@strawberry.type
class Mutation:
    schedule_meeting: Meeting = strawberry.mutation(
        resolver=schedule_meeting, description="Plan a meeting."
    )
    record_meeting_held: Meeting = strawberry.mutation(
        resolver=record_meeting_held,
        description="Record that a planned meeting took place, and who came; only once its "
        "start has passed (MEETING_NOT_STARTED, params.starts_at).",
    )
    correct_attendance: Meeting = strawberry.mutation(
        resolver=correct_attendance,
        description="Correct who came to a held meeting after the fact: the whole new list, "
        "checked as when it was held (AttendanceCorrected; the nation's counts follow).",
    )
    cancel_meeting: Meeting = strawberry.mutation(
        resolver=cancel_meeting,
        description="Call a planned meeting off, saying why.",
    )
    reschedule_meeting: Meeting = strawberry.mutation(
        resolver=reschedule_meeting,
        description="Move a planned meeting and/or change its theme.",
    )
    record_rsvp: Meeting = strawberry.mutation(
        resolver=record_rsvp,
        description="A member says it is coming or not to a planned meeting.",
    )
    mark_recorded: Meeting = strawberry.mutation(
        resolver=mark_recorded,
        description="Mark a held meeting as audio-recorded; refused unless every attendee "
        "consented (RECORDING_CONSENT_MISSING names who has not: extensions.params.memberIds, "
        "and extensions.params.members, one MEMBER_WITHOUT_CONSENT each with companyName and "
        "the persons' names from the groups service, or params.namesNote saying why names are "
        "missing).",
    )
    publish_memo: Meeting = strawberry.mutation(
        resolver=publish_memo,
        description="Publish the facilitator's summary of a held meeting (again: corrects it). "
        "The region keeps the text as written; the copy that leaves the region has the "
        "region's names masked (see memoMaskPreview); MEMO_MASKING_UNAVAILABLE, and nothing "
        "published, when the groups service cannot be asked.",
    )
    agree_action: ActionItem = strawberry.mutation(
        resolver=agree_action,
        description="A follow-up action agreed in a held meeting; on later agendas until closed.",
    )
    close_action: ActionItem = strawberry.mutation(
        resolver=close_action, description="Close an open action."
    )
    record_activity: Activity = strawberry.mutation(
        resolver=record_activity,
        description="Record a CoP activity of a held meeting, classified by Wenger's types.",
    )
    start_initiative: Initiative = strawberry.mutation(
        resolver=start_initiative,
        description="Joint work that started in a held meeting.",
    )
    update_initiative: Initiative = strawberry.mutation(
        resolver=update_initiative,
        description="A new status (and outcome, members) of an initiative; all kept as history.",
    )


schema = Schema(query=Query, mutation=Mutation, scalar_overrides=SCALARS_WITH_TIMES)
