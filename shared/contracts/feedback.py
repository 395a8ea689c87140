"""Events of the feedback service: surveys after meetings and growth-intention interviews.

Only scores and pseudonymous ids travel; free-text answers stay in the region.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.contracts.base import Event

GrowthIntention = Literal["yes", "no", "unsure"]
GrowthBarrier = Literal[
    "financing",
    "finding_employees",
    "time",
    "market_demand",
    "competence",
    "regulation",
    "owner_wellbeing",
    "location",
    "other",
]
GROWTH_BARRIERS: tuple[str, ...] = get_args(GrowthBarrier)
# The smallest number of responses whose aggregates (means, comments) may be shown, in the
# region and in the nation alike.
K_ANONYMITY = 3


class SurveyOpened(Event):
    """A held meeting's feedback survey opened for its attendees (aggregate: the survey)."""

    TYPE = "feedback.survey.opened"

    survey_id: UUID
    meeting_id: UUID
    group_id: UUID
    invited: int = Field(ge=0)
    closes_at: AwareDatetime


class ResponseSubmitted(Event):
    """One attendee's scores (aggregate: the response; an edit repeats it with a higher
    sequence). No person id: responses are pseudonymous nationally."""

    TYPE = "feedback.response.submitted"

    response_id: UUID
    survey_id: UUID
    meeting_id: UUID
    group_id: UUID
    overall: int = Field(ge=1, le=5)
    usefulness: int = Field(ge=1, le=5)
    recommend: int = Field(ge=0, le=10)


class SurveyClosed(Event):
    TYPE = "feedback.survey.closed"

    survey_id: UUID
    meeting_id: UUID
    group_id: UUID
    invited: int = Field(ge=0)
    responses: int = Field(ge=0)


class InterviewRecorded(Event):
    """A growth-intention interview of a member's entrepreneur (aggregate: the interview).

    ``person_id`` (added additively, version unchanged) names the entrepreneur interviewed,
    so intentions can be followed per person over time; events written before it decode
    with ``None`` (an interview of the member, person not recorded). The gateway does not
    project it: the national read model keeps no table keyed by a person."""

    TYPE = "feedback.interview.recorded"

    interview_id: UUID
    member_id: UUID
    person_id: UUID | None = None
    interviewed_on: date
    intends_to_grow: GrowthIntention
    planned_hires: int = Field(ge=0, le=1000)
    barriers: tuple[GrowthBarrier, ...] = ()
