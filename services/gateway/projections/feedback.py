"""Feedback: surveys, their responses (scores only) and growth interviews (``feedback.*``).

- Surveys: facets "opened" and "closed"; ``invited`` comes from the newest of the two.
- Responses: the newest version of each ``response_id`` (an edit repeats the event with a
  higher sequence); no person id exists nationally.
- Interviews: the newest version of each interview; barriers as comma-separated codes.
  Both versions of InterviewRecorded; the person (key or id) is the panel's
  (:mod:`.panel`), never a column here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.orm import interviews, survey_responses, surveys
from services.gateway.projections.sql import Columns, Row, facet, upsert
from shared.contracts import (
    DecodedEvent,
    InterviewRecorded,
    InterviewRecordedV1,
    ResponseSubmitted,
    SurveyClosed,
    SurveyOpened,
)

HANDLES = (SurveyOpened, SurveyClosed, ResponseSubmitted, InterviewRecorded, InterviewRecordedV1)
_RESPONSE = ("survey_id", "region", "overall", "usefulness", "recommend")
_INTERVIEW = (
    "region",
    "member_id",
    "interviewed_on",
    "intends_to_grow",
    "planned_hires",
    "barriers",
)


async def project(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
    survey_rows: dict[str, Row] = {}
    responses: dict[str, Row] = {}
    interview_rows: dict[str, Row] = {}
    for decoded in sorted(events, key=lambda d: d.envelope.sequence):
        env, event = decoded.envelope, decoded.event
        if isinstance(event, SurveyOpened | SurveyClosed):
            _fold_survey(survey_rows, decoded)
        elif isinstance(event, ResponseSubmitted):
            responses[str(event.response_id)] = {
                "id": str(event.response_id),
                "survey_id": str(event.survey_id),
                "region": env.region,
                "overall": event.overall,
                "usefulness": event.usefulness,
                "recommend": event.recommend,
                "version": env.sequence,
            }
        elif isinstance(event, InterviewRecorded | InterviewRecordedV1):
            interview_rows[str(event.interview_id)] = {
                "id": str(event.interview_id),
                "region": env.region,
                "member_id": str(event.member_id),
                "interviewed_on": event.interviewed_on,
                "intends_to_grow": event.intends_to_grow,
                "planned_hires": event.planned_hires,
                "barriers": ",".join(event.barriers),
                "version": env.sequence,
            }
    await upsert(session, surveys, list(survey_rows.values()), key=["id"], merge=_merge_survey)
    await upsert(
        session, survey_responses, list(responses.values()), key=["id"], merge=_merge_response
    )
    await upsert(
        session, interviews, list(interview_rows.values()), key=["id"], merge=_merge_interview
    )


def _fold_survey(rows: dict[str, Row], decoded: DecodedEvent) -> None:
    env, event = decoded.envelope, decoded.event
    assert isinstance(event, SurveyOpened | SurveyClosed)
    survey_id = str(event.survey_id)
    row = rows.get(survey_id)
    if row is None:
        row = rows[survey_id] = dict.fromkeys(surveys.c.keys())
        row.update(
            id=survey_id,
            region=env.region,
            group_id=str(event.group_id),
            meeting_id=str(event.meeting_id),
        )
    row.update(invited=event.invited, invited_version=env.sequence)
    if isinstance(event, SurveyOpened):
        row.update(
            opened_at=env.occurred_at, closes_at=event.closes_at, opened_version=env.sequence
        )
    else:
        row.update(closed_at=env.occurred_at, closed_version=env.sequence)


def _merge_survey(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    return {
        **facet(cur, ex, "invited_version", ("invited",)),
        **facet(cur, ex, "opened_version", ("opened_at", "closes_at")),
        **facet(cur, ex, "closed_version", ("closed_at",)),
    }


def _merge_response(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    return facet(cur, ex, "version", _RESPONSE)


def _merge_interview(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    return facet(cur, ex, "version", _INTERVIEW)
