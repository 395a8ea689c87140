"""The service layer: one function per command, plus applying the groups service's events."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

from services.meetings.commands import (
    AgreeAction,
    CancelMeeting,
    CloseAction,
    CorrectAttendance,
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
from services.meetings.domain import (
    MEETING_LENGTH,
    ActionItem,
    Activity,
    HostSuggestion,
    Initiative,
    KnownGroup,
    Meeting,
    Names,
    RecordingProblem,
    local_date,
    overlaps,
    recording_problems,
    suggest_hosts,
)
from services.meetings.replica import ReplicaStore
from services.meetings.repository import (
    ActionRepository,
    ActivityRepository,
    InitiativeRepository,
    MeetingRepository,
)
from shared.contracts import (
    ConsentGiven,
    ConsentWithdrawn,
    DecodedEvent,
    Envelope,
    Event,
    FacilitatorAssigned,
    FacilitatorRemoved,
    GroupCreated,
    MemberDetailsChanged,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    MemberRejoined,
    PersonErased,
    PersonRegistered,
    make_envelope,
)
from shared.directory import DirectoryError, GroupsDirectory, MaskedText
from shared.errors.meetings import (
    MeetingNotFound,
    MeetingsOverlap,
    RecordingConsentMissing,
    UnknownGroup,
)
from shared.errors.meetings_work import (
    ActionNotFound,
    InitiativeNotFound,
    MemoMaskingUnavailable,
)
from shared.runtime import UnitOfWork

log = logging.getLogger(__name__)


async def schedule_meeting(cmd: ScheduleMeeting, uow: UnitOfWork, node: Node) -> Meeting:
    async with uow:
        replica = ReplicaStore(uow.session)
        meeting, event = Meeting.schedule(
            meeting_id=uuid4(),
            group_id=cmd.group_id,
            group=await replica.group(cmd.group_id),
            host_member_id=cmd.host_member_id,
            host=await replica.member(cmd.host_member_id),
            theme=cmd.theme,
            starts_at=cmd.starts_at,
            tz=node.tz,
        )
        MeetingRepository(uow.session).add(meeting)
        uow.emit(make_envelope(event, region=node.region, aggregate_id=meeting.id, sequence=1))
        await uow.commit()
    return meeting


async def _load(repo: MeetingRepository, meeting_id: UUID) -> Meeting:
    meeting = await repo.get(meeting_id)
    if meeting is None:
        raise MeetingNotFound(meeting_id)
    return meeting


async def record_meeting_held(cmd: RecordMeetingHeld, uow: UnitOfWork, node: Node) -> Meeting:
    async with uow:
        repo = MeetingRepository(uow.session)
        meeting = await _load(repo, cmd.meeting_id)
        members = await ReplicaStore(uow.session).members(cmd.attendee_member_ids)
        held, event = meeting.hold(
            held_at=cmd.held_at,
            attendee_member_ids=cmd.attendee_member_ids,
            members=members,
            tz=node.tz,
            now=datetime.now(UTC),
        )
        await repo.save(held, expected_version=meeting.version)
        uow.emit(
            make_envelope(event, region=node.region, aggregate_id=held.id, sequence=held.version)
        )
        await uow.commit()
    return held


async def correct_attendance(cmd: CorrectAttendance, uow: UnitOfWork, node: Node) -> Meeting:
    async with uow:
        repo = MeetingRepository(uow.session)
        meeting = await _load(repo, cmd.meeting_id)
        members = await ReplicaStore(uow.session).members(cmd.attendee_member_ids)
        corrected, event = meeting.correct_attendance(
            attendee_member_ids=cmd.attendee_member_ids, members=members, tz=node.tz
        )
        return await _change_meeting(uow, node, meeting, corrected, event, repo)


async def overlap_warnings(meeting: Meeting, uow: UnitOfWork) -> list[MeetingsOverlap]:
    """Other meetings of the group at an overlapping time (warnings, not refusals)."""
    async with uow:
        around = await MeetingRepository(uow.session).around(
            meeting.group_id, meeting.starts_at, MEETING_LENGTH
        )
    return overlaps(meeting, around)


async def cancel_meeting(cmd: CancelMeeting, uow: UnitOfWork, node: Node) -> Meeting:
    async with uow:
        repo = MeetingRepository(uow.session)
        meeting = await _load(repo, cmd.meeting_id)
        cancelled, event = meeting.cancel(cmd.reason)
        await repo.save(cancelled, expected_version=meeting.version)
        uow.emit(
            make_envelope(
                event, region=node.region, aggregate_id=cancelled.id, sequence=cancelled.version
            )
        )
        await uow.commit()
    return cancelled


async def _group_created(replica: ReplicaStore, event: GroupCreated, _: Envelope) -> None:
    await replica.put_group(KnownGroup(event.group_id, event.name, event.founded_on))


async def _member_joined(replica: ReplicaStore, event: MemberJoined, envelope: Envelope) -> None:
    current = await replica.locked_member(event.member_id, event.group_id)
    await replica.put_member(
        current.joined(
            group_id=event.group_id, joined_on=event.joined_on, sequence=envelope.sequence
        )
    )


async def _member_left(replica: ReplicaStore, event: MemberLeft, envelope: Envelope) -> None:
    current = await replica.locked_member(event.member_id, event.group_id)
    await replica.put_member(current.left(left_on=event.left_on, sequence=envelope.sequence))


async def _member_paused(replica: ReplicaStore, event: MemberPaused, envelope: Envelope) -> None:
    current = await replica.locked_member(event.member_id, event.group_id)
    await replica.put_member(current.paused(paused_on=event.paused_on, sequence=envelope.sequence))


async def _member_rejoined(
    replica: ReplicaStore, event: MemberRejoined, envelope: Envelope
) -> None:
    current = await replica.locked_member(event.member_id, event.group_id)
    await replica.put_member(
        current.rejoined(rejoined_on=event.rejoined_on, sequence=envelope.sequence)
    )


async def _person_registered(replica: ReplicaStore, event: PersonRegistered, _: Envelope) -> None:
    await replica.register_person(event.person_id, event.member_id)


async def _consent_given(replica: ReplicaStore, event: ConsentGiven, _: Envelope) -> None:
    await replica.state_consent(
        event.person_id, event.member_id, event.purpose, given=True, at=event.given_at
    )


async def _consent_withdrawn(replica: ReplicaStore, event: ConsentWithdrawn, _: Envelope) -> None:
    await replica.state_consent(
        event.person_id, event.member_id, event.purpose, given=False, at=event.withdrawn_at
    )


async def _person_erased(replica: ReplicaStore, event: PersonErased, _: Envelope) -> None:
    await replica.erase_person(event.person_id, event.member_id)


MEMBERSHIP_EVENTS = (MemberJoined, MemberLeft, MemberPaused, MemberRejoined)
ReplicaApply = Callable[[ReplicaStore, Any, Envelope], Awaitable[None]]
# The groups service's events the replica keeps, and those it deliberately does not need.
REPLICATED: dict[type[Event], ReplicaApply] = {
    GroupCreated: _group_created,
    MemberJoined: _member_joined,
    MemberLeft: _member_left,
    MemberPaused: _member_paused,
    MemberRejoined: _member_rejoined,
    PersonRegistered: _person_registered,
    ConsentGiven: _consent_given,
    ConsentWithdrawn: _consent_withdrawn,
    PersonErased: _person_erased,
}
# MemberDetailsChanged: the replica keeps memberships by id only; company names and the
# host's address are asked from the groups service when a page or a calendar needs them.
NOT_REPLICATED: frozenset[type[Event]] = frozenset(
    {FacilitatorAssigned, FacilitatorRemoved, MemberDetailsChanged}
)


async def apply_groups_events(events: Sequence[DecodedEvent], uow: UnitOfWork) -> int:
    """Apply a batch of groups-service events to the replica, each at most once, in one
    transaction with the record of them; return how many were new (the rest duplicates).
    Event types the replica does not need are recorded and otherwise ignored."""
    async with uow:
        replica = ReplicaStore(uow.session)
        fresh = await replica.admit_all([e.envelope for e in events])
        # every member the batch changes, created and locked at once (not one by one)
        await replica.lock_members(
            {
                event.member_id: event.group_id
                for event in (events[position].event for position in fresh)
                if isinstance(event, MEMBERSHIP_EVENTS)
            }
        )
        for position in fresh:
            envelope, event = events[position].envelope, events[position].event
            apply = REPLICATED.get(type(event))
            if apply is None:
                log.debug("replica ignores %s %s", envelope.type, envelope.event_id)
            else:
                await apply(replica, event, envelope)
        await replica.write_members()
        await uow.commit()
    return len(fresh)


async def apply_groups_event(decoded: DecodedEvent, uow: UnitOfWork) -> bool:
    """:func:`apply_groups_events` for one event: False for a duplicate."""
    return bool(await apply_groups_events([decoded], uow))


def _today(node: Node) -> date:
    return local_date(datetime.now(UTC), node.tz)


async def _change_meeting(
    uow: UnitOfWork,
    node: Node,
    meeting: Meeting,
    changed: Meeting,
    event: Event,
    repo: MeetingRepository,
) -> Meeting:
    await repo.save(changed, expected_version=meeting.version)
    uow.emit(
        make_envelope(event, region=node.region, aggregate_id=changed.id, sequence=changed.version)
    )
    await uow.commit()
    return changed


async def reschedule_meeting(cmd: RescheduleMeeting, uow: UnitOfWork, node: Node) -> Meeting:
    async with uow:
        repo = MeetingRepository(uow.session)
        meeting = await _load(repo, cmd.meeting_id)
        host = await ReplicaStore(uow.session).member(meeting.host_member_id)
        moved, event = meeting.reschedule(
            starts_at=cmd.starts_at, theme=cmd.theme, host=host, tz=node.tz
        )
        return await _change_meeting(uow, node, meeting, moved, event, repo)


async def record_rsvp(cmd: RecordRsvp, uow: UnitOfWork, node: Node) -> Meeting:
    async with uow:
        repo = MeetingRepository(uow.session)
        meeting = await _load(repo, cmd.meeting_id)
        member = await ReplicaStore(uow.session).member(cmd.member_id)
        answered, event = meeting.rsvp(
            member_id=cmd.member_id, coming=cmd.coming, member=member, tz=node.tz
        )
        return await _change_meeting(uow, node, meeting, answered, event, repo)


async def recording_consent(
    uow: UnitOfWork, member_ids: tuple[UUID, ...]
) -> dict[UUID, RecordingProblem]:
    """Members among ``member_ids`` without recording consent, with why."""
    replica = ReplicaStore(uow.session)
    persons = await replica.persons_of(member_ids)
    audio = await replica.audio_consents(p.person_id for p in persons)
    return recording_problems(member_ids, persons, audio)


async def mark_recorded(
    cmd: MarkRecorded, uow: UnitOfWork, node: Node, directory: GroupsDirectory | None = None
) -> Meeting:
    """Mark a held meeting recorded. A refusal names who blocks it: names come from the
    groups ``directory``, asked after the transaction; if it is absent or does not answer,
    the refusal gives member ids and says why."""
    problems: dict[UUID, RecordingProblem] = {}
    try:
        async with uow:
            repo = MeetingRepository(uow.session)
            meeting = await _load(repo, cmd.meeting_id)
            problems = await recording_consent(uow, meeting.attendee_member_ids)
            recorded, event = meeting.mark_recorded(problems)
            return await _change_meeting(uow, node, meeting, recorded, event, repo)
    except RecordingConsentMissing as refusal:
        names, note = await member_names(directory, problems)
        members = [problem.refusal(member_id, names) for member_id, problem in problems.items()]
        raise RecordingConsentMissing(refusal.meeting_id, members, note) from None


async def member_names(
    directory: GroupsDirectory | None, member_ids: Iterable[UUID]
) -> tuple[Names | None, str]:
    """Company and person names of the members from the groups service, or None and why
    not (names are asked when needed and never stored)."""
    if directory is None:
        return None, "no groups service configured: MGN_MEETINGS_GROUPS_URL"
    try:
        cards = await directory.members(member_ids)
    except DirectoryError as exc:
        log.warning("no names from the groups service: %s", exc)
        return None, str(exc)
    names = Names(
        members={m: c.company_name for m, c in cards.items() if c.company_name},
        persons={p: n for c in cards.values() for p, n in c.person_names.items() if n},
    )
    return names, ""


class NameMasker(Protocol):
    """Masks the region's person and company names in a text (the groups service)."""

    async def mask_names(self, text: str) -> MaskedText: ...


async def masked(text: str, masker: NameMasker | None) -> MaskedText:
    """``text`` as it may leave the region: the region's names masked by the groups
    service; :class:`MemoMaskingUnavailable` when it cannot be asked (nothing unmasked
    ever leaves)."""
    if not text.strip():
        return MaskedText(text="", masked=())
    if masker is None:
        raise MemoMaskingUnavailable("no groups service configured: MGN_MEETINGS_GROUPS_URL")
    try:
        return await masker.mask_names(text.strip())
    except DirectoryError as exc:
        log.warning("memo not published, names not masked: %s", exc)
        raise MemoMaskingUnavailable(str(exc)) from None


async def publish_memo(
    cmd: PublishMemo, uow: UnitOfWork, node: Node, masker: NameMasker | None
) -> Meeting:
    """Publish a memo: the region keeps its text; the event that leaves the region carries
    the text with the region's names masked (asked before the transaction opens)."""
    shared = await masked(cmd.summary, masker)
    async with uow:
        repo = MeetingRepository(uow.session)
        meeting = await _load(repo, cmd.meeting_id)
        published, event = meeting.publish_memo(
            summary=cmd.summary,
            shared_summary=shared.text,
            facilitator_id=cmd.facilitator_id,
            at=datetime.now(UTC),
        )
        return await _change_meeting(uow, node, meeting, published, event, repo)


async def memo_mask_preview(
    text: str | None, meeting_id: UUID | None, uow: UnitOfWork, masker: NameMasker | None
) -> MaskedText:
    """What of ``text`` (or of the meeting's published memo) would be masked."""
    if text is None:
        async with uow:
            meeting = await _load(MeetingRepository(uow.session), meeting_id or uuid4())
        text = meeting.memo or ""
    return await masked(text, masker)


async def agree_action(cmd: AgreeAction, uow: UnitOfWork, node: Node) -> ActionItem:
    async with uow:
        meeting = await _load(MeetingRepository(uow.session), cmd.meeting_id)
        owner = await ReplicaStore(uow.session).member(cmd.owner_member_id)
        item, event = ActionItem.agree(
            action_id=uuid4(),
            meeting=meeting,
            owner_member_id=cmd.owner_member_id,
            owner=owner,
            description=cmd.description,
            due_on=cmd.due_on,
            tz=node.tz,
        )
        ActionRepository(uow.session).add(item)
        uow.emit(make_envelope(event, region=node.region, aggregate_id=item.id, sequence=1))
        await uow.commit()
    return item


async def close_action(cmd: CloseAction, uow: UnitOfWork, node: Node) -> ActionItem:
    async with uow:
        repo = ActionRepository(uow.session)
        item = await repo.get(cmd.action_id)
        if item is None:
            raise ActionNotFound(cmd.action_id)
        closed, event = item.close(closed_on=cmd.closed_on or _today(node), outcome=cmd.outcome)
        await repo.save(closed, expected_version=item.version)
        uow.emit(
            make_envelope(event, region=node.region, aggregate_id=item.id, sequence=closed.version)
        )
        await uow.commit()
    return closed


async def record_activity(cmd: RecordActivity, uow: UnitOfWork, node: Node) -> Activity:
    async with uow:
        meeting = await _load(MeetingRepository(uow.session), cmd.meeting_id)
        members = await ReplicaStore(uow.session).members(cmd.member_ids)
        activity, event = Activity.record(
            activity_id=uuid4(),
            meeting=meeting,
            activity_type=cmd.activity_type,
            example=cmd.example,
            member_ids=cmd.member_ids,
            members=members,
            coder_id=cmd.coder_id,
        )
        await ActivityRepository(uow.session).add(activity)
        uow.emit(make_envelope(event, region=node.region, aggregate_id=activity.id, sequence=1))
        await uow.commit()
    return activity


async def start_initiative(cmd: StartInitiative, uow: UnitOfWork, node: Node) -> Initiative:
    async with uow:
        meeting = await _load(MeetingRepository(uow.session), cmd.meeting_id)
        members = await ReplicaStore(uow.session).members(cmd.member_ids)
        initiative, event = Initiative.start(
            initiative_id=uuid4(),
            meeting=meeting,
            title=cmd.title,
            member_ids=cmd.member_ids,
            members=members,
            started_on=cmd.started_on,
            tz=node.tz,
        )
        InitiativeRepository(uow.session).add(initiative)
        uow.emit(make_envelope(event, region=node.region, aggregate_id=initiative.id, sequence=1))
        await uow.commit()
    return initiative


async def update_initiative(cmd: UpdateInitiative, uow: UnitOfWork, node: Node) -> Initiative:
    async with uow:
        repo = InitiativeRepository(uow.session)
        initiative = await repo.get(cmd.initiative_id)
        if initiative is None:
            raise InitiativeNotFound(cmd.initiative_id)
        members = await ReplicaStore(uow.session).members(cmd.member_ids or ())
        updated, event = initiative.update(
            status=cmd.status,
            outcome=cmd.outcome,
            member_ids=cmd.member_ids,
            members=members,
            updated_on=cmd.updated_on or _today(node),
        )
        await repo.save(updated, expected_version=initiative.version)
        uow.emit(
            make_envelope(
                event, region=node.region, aggregate_id=updated.id, sequence=updated.version
            )
        )
        await uow.commit()
    return updated


# -- queries -----------------------------------------------------------------------


async def suggest_next_host(
    group_id: UUID, on: date, uow: UnitOfWork, node: Node
) -> list[HostSuggestion]:
    """Active members on ``on``, who hosted least recently first (never hosted first).

    Hosting counts every meeting not cancelled that starts by the end of ``on``.
    """
    async with uow:
        replica = ReplicaStore(uow.session)
        if await replica.group(group_id) is None:
            raise UnknownGroup(group_id)
        members = await replica.group_members(group_id)
        end = datetime.combine(on + timedelta(days=1), time(), tzinfo=node.tz)
        hosted = await MeetingRepository(uow.session).hosting_dates(group_id, end)
    days = {m: [local_date(t, node.tz) for t in times] for m, times in hosted.items()}
    return suggest_hosts(members, days, on)


async def agenda(meeting_id: UUID, uow: UnitOfWork) -> list[ActionItem]:
    """Open actions of the meeting's group agreed in earlier meetings."""
    async with uow:
        found = await MeetingRepository(uow.session).schedule_of(meeting_id)
        if found is None:
            raise MeetingNotFound(meeting_id)
        group_id, starts_at = found  # the meeting's place in time, not the whole meeting
        return await ActionRepository(uow.session).open_before(group_id, starts_at)
