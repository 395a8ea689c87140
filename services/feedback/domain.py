"""The feedback domain: surveys after held meetings, responses, growth-intention interviews.

Plain Python, no I/O (import-linter keeps it so). Aggregates return the contract events
they raise.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import Enum
from typing import cast
from uuid import UUID

from shared.contracts import (
    K_ANONYMITY,
    InterviewRecorded,
    ResponseSubmitted,
    SurveyClosed,
    SurveyOpened,
)
from shared.contracts.feedback import GROWTH_BARRIERS, GrowthBarrier, GrowthIntention
from shared.errors import DomainError
from shared.errors.feedback import (
    BarrierOtherMissing,
    BarrierOtherTooLong,
    InterviewInFuture,
    InvalidAnswers,
    InvalidPaperResponses,
    NoPaperResponses,
    PaperAnswerOutOfRange,
    PaperAnswerRequired,
    PaperAnswerTooLong,
    PaperResponseNotAttended,
    PaperResponseTwice,
    PlannedHiresOutOfRange,
    SurveyIsClosed,
    SurveyStillOpen,
    UnknownBarriers,
    UnknownGrowthIntention,
)

TEXT_MAX = 2000
BARRIER_OTHER_MAX = 500
PLANNED_HIRES_MAX = 1000
INTENTIONS: tuple[str, ...] = ("yes", "no", "unsure")


# -- links ------------------------------------------------------------------------------


def new_token() -> str:
    """An unguessable personal link token (256 random bits); only its hash is stored."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 of the token: enough for 256-bit random tokens (no dictionary to attack)."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- surveys ----------------------------------------------------------------------------


class SurveyStatus(Enum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Survey:
    id: UUID
    meeting_id: UUID
    group_id: UUID
    held_at: datetime
    opened_at: datetime
    closes_at: datetime
    reminder_at: datetime
    status: SurveyStatus
    invited: int
    version: int
    closed_at: datetime | None = None

    @classmethod
    def open(
        cls,
        *,
        survey_id: UUID,
        meeting_id: UUID,
        group_id: UUID,
        held_at: datetime,
        now: datetime,
        survey_days: int,
        reminder_days_before: int,
        invited: int,
    ) -> tuple[Survey, SurveyOpened]:
        """Open the survey of a held meeting: it closes ``survey_days`` after the meeting."""
        closes_at = held_at + timedelta(days=survey_days)
        survey = cls(
            id=survey_id,
            meeting_id=meeting_id,
            group_id=group_id,
            held_at=held_at,
            opened_at=now,
            closes_at=closes_at,
            reminder_at=closes_at - timedelta(days=reminder_days_before),
            status=SurveyStatus.OPEN,
            invited=invited,
            version=1,
        )
        event = SurveyOpened(
            survey_id=survey_id,
            meeting_id=meeting_id,
            group_id=group_id,
            invited=invited,
            closes_at=closes_at,
        )
        return survey, event

    def is_open(self, now: datetime) -> bool:
        return self.status is SurveyStatus.OPEN and now < self.closes_at

    def is_due_to_close(self, now: datetime) -> bool:
        return self.status is SurveyStatus.OPEN and now >= self.closes_at

    def ensure_accepting(self, now: datetime) -> None:
        if not self.is_open(now):
            raise SurveyIsClosed(self.closed_at or self.closes_at)

    def with_invited(self, invited: int) -> Survey:
        return replace(self, invited=invited)

    def close(self, *, now: datetime, responses: int) -> tuple[Survey, SurveyClosed]:
        closed = replace(
            self,
            status=SurveyStatus.CLOSED,
            closed_at=min(now, self.closes_at),
            version=self.version + 1,
        )
        event = SurveyClosed(
            survey_id=self.id,
            meeting_id=self.meeting_id,
            group_id=self.group_id,
            invited=self.invited,
            responses=responses,
        )
        return closed, event


# -- answers and responses --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answers:
    overall: int
    usefulness: int
    recommend: int
    takeaway: str = ""
    change: str = ""


SCORE_FIELDS: dict[str, tuple[int, int]] = {
    "overall": (1, 5),
    "usefulness": (1, 5),
    "recommend": (0, 10),
}
TEXT_FIELDS: tuple[str, ...] = ("takeaway", "change")


def parse_answers(form: Mapping[str, str]) -> Answers:
    """Validate a submitted form; raise :class:`InvalidAnswers` naming every bad field."""
    errors: dict[str, str] = {}
    scores: dict[str, int] = {}
    for name, (low, high) in SCORE_FIELDS.items():
        raw = (form.get(name) or "").strip()
        if not raw:
            errors[name] = "required"
            continue
        try:
            value = int(raw)
        except ValueError:
            errors[name] = "out_of_range"
            continue
        if not low <= value <= high:
            errors[name] = "out_of_range"
            continue
        scores[name] = value
    texts: dict[str, str] = {}
    for name in TEXT_FIELDS:
        text = (form.get(name) or "").replace("\r\n", "\n").strip()
        if len(text) > TEXT_MAX:
            errors[name] = "too_long"
        texts[name] = text
    if errors:
        raise InvalidAnswers(errors)
    return Answers(
        overall=scores["overall"],
        usefulness=scores["usefulness"],
        recommend=scores["recommend"],
        takeaway=texts["takeaway"],
        change=texts["change"],
    )


@dataclass(frozen=True, slots=True)
class Response:
    id: UUID
    survey_id: UUID
    invitation_id: UUID
    answers: Answers
    version: int
    submitted_at: datetime
    updated_at: datetime

    @classmethod
    def from_paper(
        cls,
        *,
        response_id: UUID,
        survey: Survey,
        invitation_id: UUID,
        answers: Answers,
        now: datetime,
    ) -> tuple[Response, ResponseSubmitted]:
        """A response recorded by the agency after closing (see check_paper_responses)."""
        response = cls(response_id, survey.id, invitation_id, answers, 1, now, now)
        event = ResponseSubmitted(
            response_id=response_id,
            survey_id=survey.id,
            meeting_id=survey.meeting_id,
            group_id=survey.group_id,
            overall=answers.overall,
            usefulness=answers.usefulness,
            recommend=answers.recommend,
        )
        return response, event

    @classmethod
    def submit(
        cls,
        *,
        response_id: UUID,
        survey: Survey,
        invitation_id: UUID,
        answers: Answers,
        now: datetime,
        previous: Response | None = None,
    ) -> tuple[Response, ResponseSubmitted]:
        """A first answer or an edit (allowed while the survey is open)."""
        survey.ensure_accepting(now)
        if previous is None:
            response = cls(response_id, survey.id, invitation_id, answers, 1, now, now)
        else:
            response = replace(
                previous, answers=answers, version=previous.version + 1, updated_at=now
            )
        event = ResponseSubmitted(
            response_id=response.id,
            survey_id=survey.id,
            meeting_id=survey.meeting_id,
            group_id=survey.group_id,
            overall=answers.overall,
            usefulness=answers.usefulness,
            recommend=answers.recommend,
        )
        return response, event


@dataclass(frozen=True, slots=True)
class PaperAnswer:
    member_id: UUID
    form: Mapping[str, str]  # the same fields as the web form


def check_paper_responses(
    survey: Survey,
    answers: Sequence[PaperAnswer],
    *,
    attendees: Iterable[UUID],
    answered: Iterable[UUID],
    now: datetime,
) -> list[Answers]:
    """Answers an agency collected on paper (or in an earlier system) for a meeting whose
    survey has closed: one per attending member at most, all valid, or nothing at all."""
    if survey.is_open(now):
        raise SurveyStillOpen(meeting_id=survey.meeting_id, closes_at=survey.closes_at)
    came, done = set(attendees), set(answered)
    problems: list[DomainError] = []
    parsed: list[Answers] = []
    seen: set[UUID] = set()
    if not answers:
        problems.append(NoPaperResponses())
    for number, answer in enumerate(answers, start=1):
        member = answer.member_id
        if member not in came:
            problems.append(PaperResponseNotAttended(response=number, member_id=member))
        elif member in seen or member in done:
            problems.append(PaperResponseTwice(response=number, member_id=member))
        seen.add(member)
        try:
            parsed.append(parse_answers(answer.form))
        except InvalidAnswers as invalid:
            problems.extend(_paper_problem(number, f, p) for f, p in invalid.errors.items())
    if problems:
        raise InvalidPaperResponses(problems)
    return parsed


def _paper_problem(number: int, question: str, problem: str) -> DomainError:
    if problem == "required":
        return PaperAnswerRequired(field=question, response=number, question=question)
    if problem == "too_long":
        return PaperAnswerTooLong(field=question, response=number, question=question, max=TEXT_MAX)
    low, high = SCORE_FIELDS[question]
    return PaperAnswerOutOfRange(
        field=question, response=number, question=question, low=low, high=high
    )


# -- k-anonymous summary ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scores:
    overall: int
    usefulness: int
    recommend: int


@dataclass(frozen=True, slots=True)
class RecommendSummary:
    mean: float
    promoters: int
    passives: int
    detractors: int
    nps: float  # % promoters (9-10) minus % detractors (0-6)


@dataclass(frozen=True, slots=True)
class Summary:
    invited: int
    responses: int
    k: int
    overall_mean: float | None
    usefulness_mean: float | None
    recommend: RecommendSummary | None

    @property
    def enough(self) -> bool:
        return self.responses >= self.k


def summarize(scores: Sequence[Scores], *, invited: int, k: int = K_ANONYMITY) -> Summary:
    """Counts always; means and the recommend score only from ``k`` responses up."""
    n = len(scores)
    if n < k:
        return Summary(invited, n, k, None, None, None)
    promoters = sum(1 for s in scores if s.recommend >= 9)
    detractors = sum(1 for s in scores if s.recommend <= 6)
    recommend = RecommendSummary(
        mean=round(sum(s.recommend for s in scores) / n, 2),
        promoters=promoters,
        passives=n - promoters - detractors,
        detractors=detractors,
        nps=round(100.0 * (promoters - detractors) / n, 1),
    )
    return Summary(
        invited=invited,
        responses=n,
        k=k,
        overall_mean=round(sum(s.overall for s in scores) / n, 2),
        usefulness_mean=round(sum(s.usefulness for s in scores) / n, 2),
        recommend=recommend,
    )


@dataclass(frozen=True, slots=True)
class Comments:
    """The free texts of a survey, unattributed: withheld below ``k`` responses."""

    responses: int
    k: int
    takeaways: tuple[str, ...] | None
    changes: tuple[str, ...] | None

    @property
    def enough(self) -> bool:
        return self.responses >= self.k


def collect_comments(texts: Sequence[tuple[str, str]], *, k: int = K_ANONYMITY) -> Comments:
    """``texts`` are (takeaway, change) per response. From ``k`` responses up: the non-empty
    texts, sorted so that their order tells nothing about who wrote them or when."""
    n = len(texts)
    if n < k:
        return Comments(n, k, None, None)
    takeaways = tuple(sorted(t.strip() for t, _ in texts if t.strip()))
    changes = tuple(sorted(c.strip() for _, c in texts if c.strip()))
    return Comments(n, k, takeaways, changes)


# -- growth-intention interviews --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interview:
    id: UUID
    member_id: UUID
    person_id: UUID | None  # None: recorded before persons were named, or the person erased
    interviewed_on: date
    intends_to_grow: str
    planned_hires: int
    barriers: tuple[str, ...]
    barrier_other: str
    recorded_at: datetime

    @classmethod
    def record(
        cls,
        *,
        interview_id: UUID,
        member_id: UUID,
        person_id: UUID,
        person_key: str,
        interviewed_on: date,
        intends_to_grow: str,
        planned_hires: int,
        barriers: Iterable[str],
        barrier_other: str,
        now: datetime,
    ) -> tuple[Interview, InterviewRecorded]:
        """The interview and its event. The event names the person by ``person_key`` (the
        region's pseudonymous panel key of ``person_id``), never by ``person_id``."""
        if intends_to_grow not in INTENTIONS:
            raise UnknownGrowthIntention(intention=intends_to_grow[:40], intentions=INTENTIONS)
        if not 0 <= planned_hires <= PLANNED_HIRES_MAX:
            raise PlannedHiresOutOfRange(planned_hires=planned_hires, max=PLANNED_HIRES_MAX)
        if interviewed_on > now.date() + timedelta(days=1):  # a day's leeway for time zones
            raise InterviewInFuture(interviewed_on=interviewed_on, today=now.date())
        chosen = list(dict.fromkeys(barriers))
        unknown = [b for b in chosen if b not in GROWTH_BARRIERS]
        if unknown:
            raise UnknownBarriers(barriers=unknown, known=GROWTH_BARRIERS)
        other = barrier_other.strip()
        if len(other) > BARRIER_OTHER_MAX:
            raise BarrierOtherTooLong(length=len(other), max=BARRIER_OTHER_MAX)
        if other and "other" not in chosen:
            chosen.append("other")
        if "other" in chosen and not other:
            raise BarrierOtherMissing()
        ordered = tuple(b for b in GROWTH_BARRIERS if b in chosen)
        interview = cls(
            id=interview_id,
            member_id=member_id,
            person_id=person_id,
            interviewed_on=interviewed_on,
            intends_to_grow=intends_to_grow,
            planned_hires=planned_hires,
            barriers=ordered,
            barrier_other=other,
            recorded_at=now,
        )
        event = InterviewRecorded(
            interview_id=interview_id,
            member_id=member_id,
            person_key=person_key,
            interviewed_on=interviewed_on,
            intends_to_grow=cast(GrowthIntention, intends_to_grow),
            planned_hires=planned_hires,
            barriers=cast(tuple[GrowthBarrier, ...], ordered),
        )
        return interview, event
