"""Event contracts between the regional services and the nation.

Importing this package registers every event model, so :func:`decode` knows them all.
"""

from shared.contracts.base import Event, registered_events
from shared.contracts.codec import (
    DecodedEvent,
    decode,
    decode_envelope,
    encode,
    make_envelope,
    subject_for,
    upcaster,
)
from shared.contracts.envelope import Envelope
from shared.contracts.errors import (
    EventDecodeError,
    InvalidPayload,
    MalformedEvent,
    SubjectMismatch,
    UnknownEventType,
    UnsupportedSchemaVersion,
)
from shared.contracts.feedback import (
    InterviewRecorded,
    ResponseSubmitted,
    SurveyClosed,
    SurveyOpened,
)
from shared.contracts.groups import (
    ConsentGiven,
    ConsentWithdrawn,
    FacilitatorAssigned,
    FacilitatorRemoved,
    GroupCreated,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    MemberRejoined,
    PersonErased,
    PersonRegistered,
)
from shared.contracts.meetings import (
    ACTIVITY_TYPES,
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    InitiativeStarted,
    InitiativeUpdated,
    MeetingCancelled,
    MeetingHeld,
    MeetingRecorded,
    MeetingRescheduled,
    MeetingScheduled,
    MemoPublished,
    RsvpRecorded,
)
from shared.contracts.node import RegionAnnounced
from shared.contracts.subjects import (
    SubjectError,
    build_subject,
    parse_subject,
    region_filter,
    validate_region,
)

__all__ = [
    "ACTIVITY_TYPES",
    "ActionItemAgreed",
    "ActionItemClosed",
    "ActivityRecorded",
    "ConsentGiven",
    "ConsentWithdrawn",
    "DecodedEvent",
    "Envelope",
    "Event",
    "EventDecodeError",
    "FacilitatorAssigned",
    "FacilitatorRemoved",
    "GroupCreated",
    "InitiativeStarted",
    "InitiativeUpdated",
    "InterviewRecorded",
    "InvalidPayload",
    "MalformedEvent",
    "MeetingCancelled",
    "MeetingHeld",
    "MeetingRecorded",
    "MeetingRescheduled",
    "MeetingScheduled",
    "MemberJoined",
    "MemberLeft",
    "MemberPaused",
    "MemberRejoined",
    "MemoPublished",
    "PersonErased",
    "PersonRegistered",
    "RegionAnnounced",
    "ResponseSubmitted",
    "RsvpRecorded",
    "SubjectError",
    "SubjectMismatch",
    "SurveyClosed",
    "SurveyOpened",
    "UnknownEventType",
    "UnsupportedSchemaVersion",
    "build_subject",
    "decode",
    "decode_envelope",
    "encode",
    "make_envelope",
    "parse_subject",
    "region_filter",
    "registered_events",
    "subject_for",
    "upcaster",
    "validate_region",
]
