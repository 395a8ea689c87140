"""Events of the feedback service: surveys after meetings and growth-intention interviews.

Only scores and pseudonymous ids travel; free-text answers stay in the region.
"""

from __future__ import annotations

import hashlib
import hmac
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
# A pseudonymous panel person key: the first 128 bits of an HMAC-SHA256, in hex.
PERSON_KEY_LENGTH = 32
PERSON_KEY_PATTERN = r"^[0-9a-f]{32}$"


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


class _Interview(Event):
    """What every version of an interview event says (not an event itself: no ``TYPE``)."""

    interview_id: UUID
    member_id: UUID
    interviewed_on: date
    intends_to_grow: GrowthIntention
    planned_hires: int = Field(ge=0, le=1000)
    barriers: tuple[GrowthBarrier, ...] = ()


class InterviewRecordedV1(_Interview):
    """Version 1, as events already in the streams carry it: ``person_id`` is the region's
    own id of the entrepreneur (``None``: written before persons were named). The feedback
    service no longer writes it; the gateway keys these with its own secret and never
    stores the id. No upcaster to version 2: the key cannot be made without the region's
    secret, so this version decodes with its own model."""

    TYPE = "feedback.interview.recorded"
    VERSION = 1

    person_id: UUID | None = None


class InterviewRecorded(_Interview):
    """A growth-intention interview of a member's entrepreneur (aggregate: the interview).

    ``person_key`` is the entrepreneur's pseudonymous panel key, made in the region
    (:func:`person_key` with the region's own secret, which never leaves it): the same
    person gets the same key in that region; the nation cannot turn it back into the
    person id nor link it to the person's other events or to other regions. ``None``: the
    interview names no person. The region's person id is never in this event."""

    TYPE = "feedback.interview.recorded"
    VERSION = 2

    person_key: str | None = Field(default=None, pattern=PERSON_KEY_PATTERN)


class InterviewRekeyed(Event):
    """An interview's person key changed (aggregate: the interview, after its record):
    ``None`` when the person was erased in the region, so the interview stays in the panel
    unlinked and nothing said about the person later can be joined to it."""

    TYPE = "feedback.interview.rekeyed"

    interview_id: UUID
    person_key: str | None = Field(default=None, pattern=PERSON_KEY_PATTERN)


def person_key(secret: bytes, person_id: UUID) -> str:
    """The panel key of ``person_id`` under ``secret``: HMAC-SHA256 of the id's 16 bytes,
    its first 128 bits as 32 lower-case hex characters. The region makes it with its own
    secret; the gateway, with a secret of its own per region, only for version-1 events."""
    if len(secret) < 32:
        raise ValueError(f"a person key secret needs at least 32 bytes, got {len(secret)}")
    return hmac.new(secret, person_id.bytes, hashlib.sha256).hexdigest()[:PERSON_KEY_LENGTH]
