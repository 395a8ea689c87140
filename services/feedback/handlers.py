"""The service layer: applying other services' events, answering surveys, interviews."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from uuid import UUID, uuid4

from services.feedback.domain import (
    Comments,
    Interview,
    PaperAnswer,
    Response,
    Summary,
    Survey,
    check_paper_responses,
    collect_comments,
    hash_token,
    parse_answers,
    summarize,
)
from services.feedback.repository import FeedbackRepository
from shared.contracts import (
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    AttendanceCorrected,
    ConsentGiven,
    ConsentWithdrawn,
    DecodedEvent,
    Event,
    FacilitatorAssigned,
    FacilitatorRemoved,
    GroupCreated,
    InitiativeStarted,
    InitiativeUpdated,
    InterviewRekeyed,
    MeetingCancelled,
    MeetingHeld,
    MeetingRecorded,
    MeetingRescheduled,
    MeetingScheduled,
    MemberDetailsChanged,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    MemberRejoined,
    MemoPublished,
    PersonErased,
    PersonRegistered,
    RsvpRecorded,
    make_envelope,
)
from shared.contracts.feedback import person_key
from shared.errors.feedback import (
    PersonNotOfMember,
    SurveyIsClosed,
    SurveyNotFound,
    UnknownLink,
    UnknownPerson,
)
from shared.errors.replica import UnknownMember
from shared.runtime import UnitOfWork

log = logging.getLogger(__name__)

UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True, slots=True)
class Node:
    """Where the service runs and its survey rules."""

    region: str
    tz: tzinfo
    survey_days: int = 14
    reminder_days_before: int = 3


def utcnow() -> datetime:
    return datetime.now(UTC)


def _emit(uow: UnitOfWork, node: Node, event: Event, aggregate_id: UUID, sequence: int) -> None:
    uow.emit(make_envelope(event, region=node.region, aggregate_id=aggregate_id, sequence=sequence))


# -- events from meetings and groups -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Applying:
    """What applying one event needs besides the event."""

    repo: FeedbackRepository
    uow: UnitOfWork
    node: Node
    now: datetime


async def _meeting_held(at: _Applying, event: MeetingHeld) -> None:
    await _open_survey(at.repo, at.uow, at.node, event, at.now)


async def _attendance_corrected(at: _Applying, event: AttendanceCorrected) -> None:
    """Members added to a held meeting's attendance join its survey's attendees (their
    paper answers count) and are invited while it is open;
    removed ones keep their invitations and answers (the survey asks about the meeting, and
    what was sent or answered is not taken back)."""
    survey = await at.repo.survey_by_meeting(event.meeting_id)
    if survey is None:
        return  # no survey: the meeting was never held here
    added = sorted(set(event.attendee_member_ids) - set(await at.repo.attendees(survey.id)))
    if not added:
        return
    await at.repo.lock_members(added)
    await at.repo.add_attendees(survey.id, added)  # also closed: their paper answers count
    if not survey.is_open(at.now):
        return  # closed: nobody is mailed any more
    invited = 0
    for person in await at.repo.persons_of(added):
        if await at.repo.invitation_exists(survey.id, person.person_id):
            continue
        invitation_id = await at.repo.add_invitation(survey.id, person, at.now)
        at.repo.queue_mail(
            invitation_id=invitation_id,
            survey_id=survey.id,
            person_id=person.person_id,
            kind="invitation",
            now=at.now,
        )
        invited += 1
    if invited:
        await at.repo.save_survey(survey.with_invited(survey.invited + invited))


async def _meeting_cancelled(at: _Applying, event: MeetingCancelled) -> None:
    survey = await at.repo.survey_by_meeting(event.meeting_id)
    if survey is not None and survey.status.value == "open":
        await _close(at.repo, at.uow, at.node, survey, at.now)


async def _registered(at: _Applying, event: PersonRegistered) -> None:
    await _person_registered(at.repo, event, at.now)


async def _erased(at: _Applying, event: PersonErased) -> None:
    """The person's data goes; their interviews stay, unlinked: each one's key is dropped
    nationally too (InterviewRekeyed without a key)."""
    for interview, version in await at.repo.erase_person(event.person_id):
        _emit(at.uow, at.node, InterviewRekeyed(interview_id=interview), interview, version)


async def _joined(at: _Applying, event: MemberJoined) -> None:
    await at.repo.lock_members([event.member_id])  # known: may be interviewed


async def _left(at: _Applying, event: MemberLeft) -> None:
    await at.repo.lock_members([event.member_id])
    member = await at.repo.member(event.member_id)
    assert member is not None
    member.left_on = event.left_on


# The meetings and groups services' events feedback applies, and those it does not need.
APPLIED: dict[type[Event], Callable[[_Applying, Any], Awaitable[None]]] = {
    MeetingHeld: _meeting_held,
    MeetingCancelled: _meeting_cancelled,
    AttendanceCorrected: _attendance_corrected,
    PersonRegistered: _registered,
    PersonErased: _erased,
    MemberJoined: _joined,
    MemberLeft: _left,
}
NOT_APPLIED: frozenset[type[Event]] = frozenset(
    {
        # A member's edited details: feedback keeps only who belongs where and when; the
        # contacts' names and addresses are asked from the groups service when mailing.
        MemberDetailsChanged,
        MeetingScheduled,
        MeetingRescheduled,
        RsvpRecorded,
        MeetingRecorded,
        MemoPublished,
        ActionItemAgreed,
        ActionItemClosed,
        ActivityRecorded,
        InitiativeStarted,
        InitiativeUpdated,
        GroupCreated,
        FacilitatorAssigned,
        FacilitatorRemoved,
        MemberPaused,
        MemberRejoined,
        ConsentGiven,
        ConsentWithdrawn,
    }
)


async def apply_events(
    events: Sequence[DecodedEvent],
    uow: UnitOfWork,
    node: Node,
    now: datetime | None = None,
    *,
    mail_queued: Callable[[], None] | None = None,
) -> int:
    """Apply a batch of meetings/groups events, each at most once, in one transaction with
    the record of them; return how many were new (the rest duplicates). Event types the
    service does not need are recorded and otherwise ignored. ``mail_queued`` is called
    after the commit if the batch queued mail (the mail worker's wake-up: a batch of
    membership events queues none, and waking the worker for it cost three transactions)."""
    now = now or utcnow()
    async with uow:
        repo = FeedbackRepository(uow.session)
        fresh = await repo.admit_all([e.envelope for e in events])
        # the members the batch's membership events name, created and locked at once
        await repo.lock_members(
            [
                event.member_id
                for event in (events[position].event for position in fresh)
                if isinstance(event, MemberJoined | MemberLeft | PersonRegistered)
            ]
        )
        applying = _Applying(repo, uow, node, now)
        for position in fresh:
            envelope, event = events[position].envelope, events[position].event
            apply = APPLIED.get(type(event))
            if apply is None:
                log.debug("feedback ignores %s %s", envelope.type, envelope.event_id)
            else:
                await apply(applying, event)
        await uow.commit()
    if repo.mail_queued and mail_queued is not None:
        mail_queued()
    return len(fresh)


async def apply_event(
    decoded: DecodedEvent, uow: UnitOfWork, node: Node, now: datetime | None = None
) -> bool:
    """:func:`apply_events` for one event: False for a duplicate."""
    return bool(await apply_events([decoded], uow, node, now))


async def _open_survey(
    repo: FeedbackRepository, uow: UnitOfWork, node: Node, event: MeetingHeld, now: datetime
) -> None:
    if await repo.survey_by_meeting(event.meeting_id) is not None:
        return  # the same meeting held twice cannot happen; a re-published event can
    attendees = sorted(set(event.attendee_member_ids))
    await repo.lock_members(attendees)
    persons = await repo.persons_of(attendees)
    survey, opened = Survey.open(
        survey_id=uuid4(),
        meeting_id=event.meeting_id,
        group_id=event.group_id,
        held_at=event.held_at,
        now=now,
        survey_days=node.survey_days,
        reminder_days_before=node.reminder_days_before,
        invited=len(persons),
    )
    await repo.add_survey(survey, attendees)
    _emit(uow, node, opened, survey.id, survey.version)
    if not survey.is_open(now):
        # A meeting recorded longer ago than the survey period: nobody is mailed.
        await _close(repo, uow, node, survey, now)
        return
    for person in persons:
        invitation_id = await repo.add_invitation(survey.id, person, now)
        repo.queue_mail(
            invitation_id=invitation_id,
            survey_id=survey.id,
            person_id=person.person_id,
            kind="invitation",
            now=now,
        )


async def _person_registered(
    repo: FeedbackRepository, event: PersonRegistered, now: datetime
) -> None:
    await repo.lock_members([event.member_id])
    await repo.put_person(event.person_id, event.member_id, event.language)
    (person,) = [
        p for p in await repo.persons_of([event.member_id]) if p.person_id == event.person_id
    ]
    # A person registered after a meeting was recorded is still invited while it is open.
    for survey in await repo.open_surveys_of_member(event.member_id):
        if not survey.is_open(now) or await repo.invitation_exists(survey.id, event.person_id):
            continue
        invitation_id = await repo.add_invitation(survey.id, person, now)
        repo.queue_mail(
            invitation_id=invitation_id,
            survey_id=survey.id,
            person_id=event.person_id,
            kind="invitation",
            now=now,
        )
        await repo.save_survey(survey.with_invited(survey.invited + 1))


async def _close(
    repo: FeedbackRepository, uow: UnitOfWork, node: Node, survey: Survey, now: datetime
) -> Survey:
    closed, event = survey.close(now=now, responses=await repo.response_count(survey.id))
    await repo.save_survey(closed)
    _emit(uow, node, event, closed.id, closed.version)
    return closed


# -- periodic work -------------------------------------------------------------------------


async def close_due_surveys(uows: UowFactory, node: Node, now: datetime | None = None) -> int:
    """Close every open survey past its closing time (emits SurveyClosed each)."""
    now = now or utcnow()
    async with uows() as uow:
        due = await FeedbackRepository(uow.session).due_to_close(now)
    closed = 0
    for survey_id in due:
        async with uows() as uow:
            repo = FeedbackRepository(uow.session)
            survey = await repo.survey(survey_id, lock=True)
            if survey is None or not survey.is_due_to_close(now):
                continue
            await _close(repo, uow, node, survey, now)
            await uow.commit()
            closed += 1
    return closed


async def send_region_keys(
    uows: UowFactory, node: Node, now: datetime | None = None, batch: int = 500
) -> int:
    """Send, once, the region's panel key of every interview recorded as version 1 (before
    keys were made in the region, when the gateway keyed it with its own secret): an
    InterviewRekeyed with the key, so the nation replaces the gateway's and each person has
    one key in the panel, whichever version their interviews were recorded in. An interview
    whose person was erased lost its key nationally then; it is only marked. Returns the
    number of keys sent."""
    now = now or utcnow()
    sent = 0
    while True:
        async with uows() as uow:
            repo = FeedbackRepository(uow.session)
            found = await repo.interviews_keyed_nationally(batch)
            if not found:
                return sent
            secret = await repo.panel_secret(now)
            for interview, person, version in found:
                if person is not None:
                    rekeyed = InterviewRekeyed(
                        interview_id=interview, person_key=person_key(secret, person)
                    )
                    version += 1
                    _emit(uow, node, rekeyed, interview, version)
                    sent += 1
                await repo.mark_keyed_in_region(interview, version)
            await uow.commit()


async def queue_reminders(uows: UowFactory, now: datetime | None = None) -> int:
    """Queue one reminder per unanswered invitation of surveys whose reminder time came."""
    now = now or utcnow()
    queued = 0
    async with uows() as uow:
        repo = FeedbackRepository(uow.session)
        for survey in await repo.due_for_reminders(now):
            for invitation in await repo.unanswered_invitations(survey.id):
                assert invitation.person_id is not None
                repo.queue_mail(
                    invitation_id=invitation.id,
                    survey_id=survey.id,
                    person_id=invitation.person_id,
                    kind="reminder",
                    now=now,
                )
                queued += 1
            survey.reminders_queued = True
        await uow.commit()
    return queued


# -- the survey form -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormState:
    survey: Survey
    invitation_id: UUID
    language: str
    response: Response | None


async def open_form(
    token: str, uow: UnitOfWork, node: Node, now: datetime | None = None
) -> FormState:
    """What the page shows for a link; closes the survey if its time has passed."""
    now = now or utcnow()
    async with uow:
        repo = FeedbackRepository(uow.session)
        invitation = await repo.invitation_by_token_hash(hash_token(token))
        if invitation is None:
            raise UnknownLink()
        survey = await repo.survey(invitation.survey_id)
        assert survey is not None
        if survey.is_due_to_close(now):
            survey = await repo.survey(invitation.survey_id, lock=True)
            assert survey is not None
            if survey.is_due_to_close(now):
                survey = await _close(repo, uow, node, survey, now)
                await uow.commit()
        response = await repo.response_of(invitation.id)
        if not survey.is_open(now):
            raise SurveyIsClosed(
                survey.closed_at or survey.closes_at,
                answered=response is not None,
                language=invitation.language,
            )
        return FormState(survey, invitation.id, invitation.language, response)


async def submit_response(
    token: str, form: Mapping[str, str], uow: UnitOfWork, node: Node, now: datetime | None = None
) -> FormState:
    """Save the first answer or an edit; emits ResponseSubmitted (scores only)."""
    now = now or utcnow()
    answers = parse_answers(form)
    async with uow:
        repo = FeedbackRepository(uow.session)
        invitation = await repo.invitation_by_token_hash(hash_token(token))
        if invitation is None:
            raise UnknownLink()
        await repo.lock_invitation(invitation.id)
        survey = await repo.survey(invitation.survey_id)
        assert survey is not None
        previous = await repo.response_of(invitation.id)
        if not survey.is_open(now):
            raise SurveyIsClosed(
                survey.closed_at or survey.closes_at,
                answered=previous is not None,
                language=invitation.language,
            )
        response, event = Response.submit(
            response_id=uuid4(),
            survey=survey,
            invitation_id=invitation.id,
            answers=answers,
            now=now,
            previous=previous,
        )
        await repo.save_response(response)
        _emit(uow, node, event, response.id, response.version)
        await uow.commit()
        return FormState(survey, invitation.id, invitation.language, response)


# -- summaries and interviews --------------------------------------------------------------


async def survey_summary(uow: UnitOfWork, meeting_id: UUID) -> tuple[Survey, Summary]:
    async with uow:
        repo = FeedbackRepository(uow.session)
        survey = await repo.survey_by_meeting(meeting_id)
        if survey is None:
            raise SurveyNotFound(meeting_id)
        return survey, summarize(await repo.scores(survey.id), invited=survey.invited)


async def survey_comments(uow: UnitOfWork, meeting_id: UUID) -> tuple[Survey, Comments]:
    async with uow:
        repo = FeedbackRepository(uow.session)
        survey = await repo.survey_by_meeting(meeting_id)
        if survey is None:
            raise SurveyNotFound(meeting_id)
        return survey, collect_comments(await repo.free_texts(survey.id))


async def record_paper_responses(
    meeting_id: UUID,
    answers: Sequence[PaperAnswer],
    uow: UnitOfWork,
    node: Node,
    now: datetime | None = None,
) -> Survey:
    """Record answers collected outside the web form after the survey closed (e.g. an
    agency's paper forms or older survey tool); one ResponseSubmitted each, all or none."""
    now = now or utcnow()
    async with uow:
        repo = FeedbackRepository(uow.session)
        survey = await repo.survey_by_meeting(meeting_id)
        if survey is None:
            raise SurveyNotFound(meeting_id)
        survey = await repo.survey(survey.id, lock=True)
        assert survey is not None
        parsed = check_paper_responses(
            survey,
            answers,
            attendees=await repo.attendees(survey.id),
            answered=await repo.answered_members(survey.id),
            now=now,
        )
        for answer, scores in zip(answers, parsed, strict=True):
            invitation_id = await repo.add_paper_invitation(survey.id, answer.member_id, now)
            response, event = Response.from_paper(
                response_id=uuid4(),
                survey=survey,
                invitation_id=invitation_id,
                answers=scores,
                now=now,
            )
            await repo.save_response(response)
            _emit(uow, node, event, response.id, response.version)
        await uow.commit()
    return survey


@dataclass(frozen=True, slots=True)
class RecordInterview:
    member_id: UUID
    person_id: UUID
    interviewed_on: date
    intends_to_grow: str
    planned_hires: int
    barriers: tuple[str, ...] = ()
    barrier_other: str = ""


async def record_interview(
    cmd: RecordInterview, uow: UnitOfWork, node: Node, now: datetime | None = None
) -> Interview:
    """Record an interview of one entrepreneur (``person_id``) of a member, validated against
    the replica of the groups service's members and persons."""
    now = now or utcnow()
    async with uow:
        repo = FeedbackRepository(uow.session)
        interview, event = Interview.record(
            interview_id=uuid4(),
            member_id=cmd.member_id,
            person_id=cmd.person_id,
            person_key=person_key(await repo.panel_secret(now), cmd.person_id),
            interviewed_on=cmd.interviewed_on,
            intends_to_grow=cmd.intends_to_grow,
            planned_hires=cmd.planned_hires,
            barriers=cmd.barriers,
            barrier_other=cmd.barrier_other,
            now=now,
        )
        if await repo.member(cmd.member_id) is None:
            raise UnknownMember(cmd.member_id)
        person = await repo.person(cmd.person_id)
        if person is None:
            raise UnknownPerson(cmd.person_id)
        if person.member_id != cmd.member_id:
            raise PersonNotOfMember(
                person_id=cmd.person_id,
                member_id=cmd.member_id,
                member_id_of_person=person.member_id,
            )
        repo.add_interview(interview)
        _emit(uow, node, event, interview.id, 1)
        await uow.commit()
    return interview


async def interviews(
    uow: UnitOfWork, member_id: UUID, person_id: UUID | None = None
) -> list[Interview]:
    async with uow:
        return await FeedbackRepository(uow.session).interviews(member_id, person_id)
