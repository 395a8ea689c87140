"""What the feedback service publishes and consumes (its AsyncAPI document says the same).

It publishes its events through the outbox; it consumes the meetings and the groups
services' events of the region (:func:`services.feedback.handlers.apply_events`), through
the one consumer stack (``ServiceRuntime.consume``).
"""

from __future__ import annotations

from services.feedback.handlers import APPLIED, NOT_APPLIED
from shared.contracts import (
    Event,
    InterviewRecorded,
    InterviewRekeyed,
    ResponseSubmitted,
    SurveyClosed,
    SurveyOpened,
)
from shared.runtime.asyncapi import Consumed

DESCRIPTION = (
    "Feedback surveys after held meetings and growth-intention interviews; consumes the "
    "meetings and groups services' events. Free texts never leave the region."
)
PUBLISHED: tuple[type[Event], ...] = (
    SurveyOpened,
    ResponseSubmitted,
    SurveyClosed,
    InterviewRecorded,
    InterviewRekeyed,
)


def _of(source: str, events: frozenset[type[Event]]) -> frozenset[type[Event]]:
    return frozenset(e for e in events if e.type_parts()[0] == source)


MEETINGS_DURABLE = "feedback-meetings-ackall"
GROUPS_DURABLE = "feedback-groups-ackall"
CONSUMED = (
    Consumed(
        source="meetings",
        durable=MEETINGS_DURABLE,
        replaces="feedback-meetings",
        description="Meetings service events: MeetingHeld opens a survey for the attendees, "
        "AttendanceCorrected invites the added attendees while it is open, MeetingCancelled "
        "closes one.",
        handles=_of("meetings", frozenset(APPLIED)),
        ignores=_of("meetings", NOT_APPLIED),
    ),
    Consumed(
        source="groups",
        durable=GROUPS_DURABLE,
        replaces="feedback-groups",
        description="Groups service events: PersonRegistered (who to invite, language), "
        "PersonErased (delete links and mails, unlink the person's interviews: one "
        "InterviewRekeyed without a key each), MemberJoined and MemberLeft.",
        handles=_of("groups", frozenset(APPLIED)),
        ignores=_of("groups", NOT_APPLIED),
    ),
)
