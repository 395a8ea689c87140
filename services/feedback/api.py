"""GraphQL API: survey summaries (k-anonymous), growth-intention interviews, the mail queue.

Resolvers are plain typed functions attached with ``strawberry.field(resolver=...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from uuid import UUID

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.feedback import handlers
from services.feedback.domain import Comments as DomainComments
from services.feedback.domain import Interview as DomainInterview
from services.feedback.domain import PaperAnswer
from services.feedback.domain import Summary as DomainSummary
from services.feedback.domain import Survey as DomainSurvey
from services.feedback.handlers import Node, RecordInterview
from services.feedback.orm import MailRow
from services.feedback.repository import FeedbackRepository
from services.feedback.survey_list import SurveyPage, resolve_surveys
from services.feedback.texts import _
from shared.contracts import K_ANONYMITY
from shared.contracts.feedback import GROWTH_BARRIERS
from shared.runtime import UnitOfWork
from shared.runtime.graphql_errors import Schema
from shared.runtime.scalars import SCALARS

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class FeedbackContext:
    sessions: async_sessionmaker[AsyncSession]
    unit_of_work: Callable[[], UnitOfWork]
    node: Node


Info = strawberry.Info[FeedbackContext, None]


@strawberry.enum(description="Does the entrepreneur intend to grow the business?")
class GrowthIntention(Enum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


@strawberry.enum(description="A barrier to growth named in an interview (GROWTH_BARRIERS).")
class GrowthBarrier(Enum):
    FINANCING = "financing"
    FINDING_EMPLOYEES = "finding_employees"
    TIME = "time"
    MARKET_DEMAND = "market_demand"
    COMPETENCE = "competence"
    REGULATION = "regulation"
    OWNER_WELLBEING = "owner_wellbeing"
    LOCATION = "location"
    OTHER = "other"


assert tuple(b.value for b in GrowthBarrier) == GROWTH_BARRIERS, "GrowthBarrier out of date"


@strawberry.type(description="Recommendation scores (0-10) of at least k responses.")
class RecommendScore:
    mean: float
    promoters: int = strawberry.field(description="Answers 9-10.")
    passives: int = strawberry.field(description="Answers 7-8.")
    detractors: int = strawberry.field(description="Answers 0-6.")
    nps: float = strawberry.field(description="% promoters minus % detractors.")


@strawberry.type(
    description="A meeting's survey results. Means and the recommend score appear only "
    f"from k = {K_ANONYMITY} responses up (k-anonymity); below that `enoughResponses` is "
    "false and `note` says so."
)
class SurveySummary:
    survey_id: UUID
    meeting_id: UUID
    group_id: UUID
    open: bool
    closes_at: datetime
    invited: int
    responses: int
    k: int
    enough_responses: bool
    note: str | None
    overall_mean: float | None
    usefulness_mean: float | None
    recommend: RecommendScore | None

    @classmethod
    def from_domain(cls, survey: DomainSurvey, summary: DomainSummary) -> SurveySummary:
        r = summary.recommend
        return cls(
            survey_id=survey.id,
            meeting_id=survey.meeting_id,
            group_id=survey.group_id,
            open=survey.is_open(handlers.utcnow()),
            closes_at=survey.closes_at,
            invited=summary.invited,
            responses=summary.responses,
            k=summary.k,
            enough_responses=summary.enough,
            note=None if summary.enough else _("not enough responses (k={k})", k=summary.k),
            overall_mean=summary.overall_mean,
            usefulness_mean=summary.usefulness_mean,
            recommend=None
            if r is None
            else RecommendScore(
                mean=r.mean,
                promoters=r.promoters,
                passives=r.passives,
                detractors=r.detractors,
                nps=r.nps,
            ),
        )


@strawberry.type(
    description="The free-text answers of a meeting's survey for the agency, unattributed "
    "(no person, response or time; sorted) and only from k = "
    f"{K_ANONYMITY} responses up: below that the lists are null and `note` says so."
)
class SurveyComments:
    survey_id: UUID
    meeting_id: UUID
    responses: int
    k: int
    enough_responses: bool
    note: str | None
    takeaways: list[str] | None = strawberry.field(description="'What did you take away'.")
    changes: list[str] | None = strawberry.field(description="'What would you change'.")

    @classmethod
    def from_domain(cls, survey: DomainSurvey, comments: DomainComments) -> SurveyComments:
        return cls(
            survey_id=survey.id,
            meeting_id=survey.meeting_id,
            responses=comments.responses,
            k=comments.k,
            enough_responses=comments.enough,
            note=None if comments.enough else _("not enough responses (k={k})", k=comments.k),
            takeaways=None if comments.takeaways is None else list(comments.takeaways),
            changes=None if comments.changes is None else list(comments.changes),
        )


@strawberry.type(description="A growth-intention interview of a member's entrepreneur.")
class Interview:
    id: UUID
    member_id: UUID
    person_id: UUID | None = strawberry.field(
        description="The entrepreneur interviewed (null: recorded before persons were named, "
        "or the person was erased)."
    )
    interviewed_on: date
    intends_to_grow: GrowthIntention
    planned_hires: int
    barriers: list[str] = strawberry.field(description="Values of GROWTH_BARRIERS.")
    barrier_other: str
    recorded_at: datetime

    @classmethod
    def from_domain(cls, interview: DomainInterview) -> Interview:
        return cls(
            id=interview.id,
            member_id=interview.member_id,
            person_id=interview.person_id,
            interviewed_on=interview.interviewed_on,
            intends_to_grow=GrowthIntention(interview.intends_to_grow),
            planned_hires=interview.planned_hires,
            barriers=list(interview.barriers),
            barrier_other=interview.barrier_other,
            recorded_at=interview.recorded_at,
        )


@strawberry.type(description="A mail in the outbox: invitation or reminder, and its fate.")
class Mail:
    id: UUID
    survey_id: UUID
    person_id: UUID | None
    kind: str
    status: str = strawberry.field(description="pending, retrying, sent or failed")
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: MailRow) -> Mail:
        return cls(
            id=row.id,
            survey_id=row.survey_id,
            person_id=row.person_id,
            kind=row.kind,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )


@strawberry.input
class RecordInterviewInput:
    member_id: UUID
    person_id: UUID = strawberry.field(
        description="The entrepreneur interviewed: a registered contact person of the member."
    )
    interviewed_on: date
    intends_to_grow: GrowthIntention
    planned_hires: int = 0
    barriers: list[GrowthBarrier] = strawberry.field(default_factory=list)
    barrier_other: str = strawberry.field(
        default="", description="Free text; needed with the barrier OTHER (which it implies)."
    )


@strawberry.input(description="One attending member's answers from a paper form.")
class PaperResponseInput:
    member_id: UUID
    overall: int = strawberry.field(description="1-5")
    usefulness: int = strawberry.field(description="1-5")
    recommend: int = strawberry.field(description="0-10")
    takeaway: str = ""
    change: str = ""


@strawberry.input
class RecordPaperResponsesInput:
    meeting_id: UUID
    responses: list[PaperResponseInput]


async def record_paper_responses(info: Info, input: RecordPaperResponsesInput) -> SurveySummary:
    answers = [
        PaperAnswer(
            member_id=r.member_id,
            form={
                "overall": str(r.overall),
                "usefulness": str(r.usefulness),
                "recommend": str(r.recommend),
                "takeaway": r.takeaway,
                "change": r.change,
            },
        )
        for r in input.responses
    ]
    ctx = info.context
    await handlers.record_paper_responses(input.meeting_id, answers, ctx.unit_of_work(), ctx.node)
    survey, summary = await handlers.survey_summary(ctx.unit_of_work(), input.meeting_id)
    return SurveySummary.from_domain(survey, summary)


async def resolve_survey_summary(info: Info, meeting_id: UUID) -> SurveySummary:
    survey, summary = await handlers.survey_summary(info.context.unit_of_work(), meeting_id)
    return SurveySummary.from_domain(survey, summary)


async def resolve_survey_comments(info: Info, meeting_id: UUID) -> SurveyComments:
    survey, comments = await handlers.survey_comments(info.context.unit_of_work(), meeting_id)
    return SurveyComments.from_domain(survey, comments)


async def resolve_interviews(
    info: Info, member_id: UUID, person_id: UUID | None = None
) -> list[Interview]:
    found = await handlers.interviews(info.context.unit_of_work(), member_id, person_id)
    return [Interview.from_domain(i) for i in found]


async def resolve_mail_queue(
    info: Info,
    status: str | None = None,
    first: int = 100,
    offset: int = 0,
    survey_id: UUID | None = None,
) -> list[Mail]:
    async with info.context.sessions() as session:
        query = FeedbackRepository(session).mail_query(
            status, max(0, min(first, MAX_PAGE)), max(0, offset), survey_id
        )
        rows = await session.scalars(query)
        return [Mail.from_row(r) for r in rows]


async def record_interview(info: Info, input: RecordInterviewInput) -> Interview:
    cmd = RecordInterview(
        member_id=input.member_id,
        person_id=input.person_id,
        interviewed_on=input.interviewed_on,
        intends_to_grow=input.intends_to_grow.value,
        planned_hires=input.planned_hires,
        barriers=tuple(b.value for b in input.barriers),
        barrier_other=input.barrier_other,
    )
    ctx = info.context
    return Interview.from_domain(await handlers.record_interview(cmd, ctx.unit_of_work(), ctx.node))


@strawberry.type
class Query:
    survey_summary: SurveySummary = strawberry.field(
        resolver=resolve_survey_summary,
        description=f"A meeting's survey results, k-anonymous (k = {K_ANONYMITY}).",
    )
    survey_comments: SurveyComments = strawberry.field(
        resolver=resolve_survey_comments,
        description="A meeting's free-text answers, unattributed, k-anonymous "
        f"(k = {K_ANONYMITY}).",
    )
    interviews: list[Interview] = strawberry.field(
        resolver=resolve_interviews,
        description="A member's growth-intention interviews, oldest first; with personId "
        "only that entrepreneur's (their intentions over time).",
    )
    mail_queue: list[Mail] = strawberry.field(
        resolver=resolve_mail_queue,
        description=f"The mail outbox, newest first; at most {MAX_PAGE} a page; with "
        "surveyId only that survey's mails.",
    )
    surveys: SurveyPage = strawberry.field(
        resolver=resolve_surveys,
        description="Surveys of the groups (all without groupIds), newest meeting first, "
        "with their counts of invited, answered and mails; openOnly: those still open. "
        f"At most {MAX_PAGE} a page.",
    )


@strawberry.type
class Mutation:
    record_interview: Interview = strawberry.mutation(
        resolver=record_interview,
        description="Record a growth-intention interview; emits InterviewRecorded.",
    )
    record_paper_responses: SurveySummary = strawberry.mutation(
        resolver=record_paper_responses,
        description="After a survey closed: record answers collected on paper (or in an "
        "older tool), one per attending member, all valid or none; emits ResponseSubmitted "
        "each (scores only).",
    )


schema = Schema(query=Query, mutation=Mutation, scalar_overrides=SCALARS)
