"""Round trip of every registered event, and the typed errors of decoding."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from shared.contracts import (
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    AttendanceCorrected,
    ConsentGiven,
    ConsentWithdrawn,
    Envelope,
    Event,
    EventDecodeError,
    FacilitatorAssigned,
    FacilitatorRemoved,
    GroupCreated,
    InitiativeStarted,
    InitiativeUpdated,
    InterviewRecorded,
    InterviewRecordedV1,
    InterviewRekeyed,
    InvalidPayload,
    MalformedEvent,
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
    RegionAnnounced,
    ResponseSubmitted,
    RsvpRecorded,
    SubjectMismatch,
    SurveyClosed,
    SurveyOpened,
    UnknownEventType,
    UnsupportedSchemaVersion,
    decode,
    encode,
    make_envelope,
    registered_events,
    subject_for,
)

NOW = datetime(2017, 3, 14, 18, 0, tzinfo=UTC)

SAMPLES: list[Event] = [
    RegionAnnounced(display_name="Oulu region", agency="BusinessOulu", services=("groups",)),
    GroupCreated(
        group_id=uuid4(), name="Oulu core group", municipality="Oulu", founded_on=date(2015, 2, 1)
    ),
    MemberJoined(
        member_id=uuid4(),
        group_id=uuid4(),
        joined_on=date(2015, 2, 1),
        employees=3,
        turnover_eur=250_000,
        industry_code="62010",
    ),
    MemberLeft(member_id=uuid4(), group_id=uuid4(), left_on=date(2018, 6, 30), reason="retired"),
    MeetingScheduled(
        meeting_id=uuid4(), group_id=uuid4(), host_member_id=uuid4(), theme="Pricing", starts_at=NOW
    ),
    MeetingHeld(
        meeting_id=uuid4(), group_id=uuid4(), held_at=NOW, attendee_member_ids=(uuid4(), uuid4())
    ),
    MeetingCancelled(meeting_id=uuid4(), group_id=uuid4(), reason="storm"),
    FacilitatorAssigned(group_id=uuid4(), facilitator_id=uuid4(), role="researcher"),
    FacilitatorRemoved(group_id=uuid4(), facilitator_id=uuid4()),
    MemberPaused(member_id=uuid4(), group_id=uuid4(), paused_on=date(2016, 5, 1)),
    MemberDetailsChanged(
        member_id=uuid4(),
        group_id=uuid4(),
        employees=5,
        turnover_eur=500_000,
        industry_code="62010",
        changed_fields=("company_name", "employees"),
    ),
    MemberRejoined(member_id=uuid4(), group_id=uuid4(), rejoined_on=date(2016, 9, 1)),
    PersonRegistered(person_id=uuid4(), member_id=uuid4(), language="sv"),
    ConsentGiven(person_id=uuid4(), member_id=uuid4(), purpose="audio_recording", given_at=NOW),
    ConsentWithdrawn(
        person_id=uuid4(), member_id=uuid4(), purpose="research_use", withdrawn_at=NOW
    ),
    PersonErased(person_id=uuid4(), member_id=uuid4(), erased_at=NOW),
    MeetingRescheduled(meeting_id=uuid4(), group_id=uuid4(), starts_at=NOW, theme="Export"),
    RsvpRecorded(meeting_id=uuid4(), group_id=uuid4(), member_id=uuid4(), coming=True),
    AttendanceCorrected(
        meeting_id=uuid4(),
        group_id=uuid4(),
        held_at=NOW,
        attendee_member_ids=(uuid4(),),
        added_member_ids=(),
        removed_member_ids=(uuid4(),),
    ),
    MeetingRecorded(meeting_id=uuid4(), group_id=uuid4()),
    MemoPublished(meeting_id=uuid4(), group_id=uuid4(), summary="Hire slowly, fire fast."),
    ActionItemAgreed(
        action_id=uuid4(),
        meeting_id=uuid4(),
        group_id=uuid4(),
        owner_member_id=uuid4(),
        description="Ask the bank",
        due_on=date(2017, 4, 1),
    ),
    ActionItemClosed(action_id=uuid4(), group_id=uuid4(), closed_on=date(2017, 4, 2)),
    ActivityRecorded(
        activity_id=uuid4(),
        meeting_id=uuid4(),
        group_id=uuid4(),
        activity_type="reusing_assets",
        example="Shared a festival booth",
        member_ids=(uuid4(), uuid4()),
        coder_id=uuid4(),
    ),
    InitiativeStarted(
        initiative_id=uuid4(),
        group_id=uuid4(),
        origin_meeting_id=uuid4(),
        title="Exhibition house",
        member_ids=(uuid4(),),
        started_on=date(2017, 5, 1),
    ),
    InitiativeUpdated(
        initiative_id=uuid4(),
        group_id=uuid4(),
        status="completed",
        outcome="Built in three weeks",
        updated_on=date(2017, 6, 1),
    ),
    SurveyOpened(survey_id=uuid4(), meeting_id=uuid4(), group_id=uuid4(), invited=9, closes_at=NOW),
    ResponseSubmitted(
        response_id=uuid4(),
        survey_id=uuid4(),
        meeting_id=uuid4(),
        group_id=uuid4(),
        overall=4,
        usefulness=5,
        recommend=9,
    ),
    SurveyClosed(survey_id=uuid4(), meeting_id=uuid4(), group_id=uuid4(), invited=9, responses=6),
    InterviewRecorded(
        interview_id=uuid4(),
        member_id=uuid4(),
        person_key="0123456789abcdef0123456789abcdef",
        interviewed_on=date(2018, 1, 9),
        intends_to_grow="unsure",
        planned_hires=1,
        barriers=("financing", "time"),
    ),
    InterviewRecordedV1(
        interview_id=uuid4(),
        member_id=uuid4(),
        person_id=uuid4(),
        interviewed_on=date(2017, 1, 9),
        intends_to_grow="no",
        planned_hires=0,
    ),
    InterviewRekeyed(interview_id=uuid4(), person_key=None),
]


def test_every_registered_event_has_a_sample():
    real = {e for e in registered_events() if not e.TYPE.startswith("testonly.")}
    assert {type(e) for e in SAMPLES} == real


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
def test_round_trip(event: Event):
    envelope = make_envelope(event, region="oulu", aggregate_id=uuid4(), sequence=1)
    decoded = decode(encode(envelope), subject_for(envelope))
    assert decoded.envelope == envelope
    assert decoded.event == event
    assert type(decoded.event) is type(event)
    assert subject_for(envelope) == f"mgn.oulu.{event.TYPE}"


def _raw(**overrides: Any) -> dict[str, Any]:
    event = GroupCreated(group_id=uuid4(), name="g", founded_on=date(2015, 1, 1))
    raw: dict[str, Any] = json.loads(
        encode(make_envelope(event, region="oulu", aggregate_id=uuid4(), sequence=1))
    )
    raw.update(overrides)
    return raw


def test_occurred_at_is_normalised_to_utc():
    helsinki = timezone(timedelta(hours=2))
    envelope = Envelope.model_validate(_raw(occurred_at="2017-03-14T20:00:00+02:00"))
    assert envelope.occurred_at == datetime(2017, 3, 14, 20, tzinfo=helsinki)
    assert envelope.occurred_at.utcoffset() == timedelta(0)


def test_naive_occurred_at_is_refused():
    with pytest.raises(MalformedEvent, match="occurred_at"):
        decode(json.dumps(_raw(occurred_at="2017-03-14T20:00:00")))


def test_unknown_fields_are_ignored():
    raw = _raw()
    raw["payload"]["added_in_a_later_release"] = 42
    raw["also_new_in_envelope"] = True
    assert isinstance(decode(json.dumps(raw)).event, GroupCreated)


@pytest.mark.parametrize(
    ("body", "error", "says"),
    [
        (b"\xff\xfe", MalformedEvent, "not JSON"),
        (b"not json", MalformedEvent, "not JSON"),
        (b"[1, 2]", MalformedEvent, "expected an object"),
        (json.dumps(_raw(event_id="nope")).encode(), MalformedEvent, "event_id"),
        (json.dumps(_raw(region="Bad Region")).encode(), MalformedEvent, "invalid region"),
        (json.dumps(_raw(sequence=0)).encode(), MalformedEvent, "sequence"),
        (
            json.dumps(_raw(type="groups.group.exploded")).encode(),
            UnknownEventType,
            "groups.group.exploded",
        ),
        (json.dumps(_raw(schema_version=9)).encode(), UnsupportedSchemaVersion, "v9"),
        (json.dumps(_raw(payload={"name": "g"})).encode(), InvalidPayload, "group_id"),
    ],
    # fixed ids: the bodies carry random UUIDs and times, and xdist's workers must collect
    # the same test names ("Different tests were collected" otherwise)
    ids=[
        "not-utf8",
        "not-json",
        "array",
        "bad-event-id",
        "bad-region",
        "sequence-0",
        "unknown-type",
        "schema-v9",
        "payload-without-group-id",
    ],
)
def test_bad_bodies_give_typed_errors(body: bytes, error: type[EventDecodeError], says: str):
    with pytest.raises(error, match=says) as info:
        decode(body)
    assert info.value.reason  # every decode error carries a machine-readable reason


def test_subject_must_agree_with_envelope():
    body = json.dumps(_raw()).encode()
    with pytest.raises(SubjectMismatch, match="region"):
        decode(body, "mgn.kainuu.groups.group.created")
    with pytest.raises(SubjectMismatch, match="type"):
        decode(body, "mgn.oulu.groups.member.joined")
    with pytest.raises(SubjectMismatch):
        decode(body, "not.a.valid.subject")


def test_events_are_immutable():
    event = SAMPLES[1]
    assert isinstance(event, GroupCreated)
    with pytest.raises(ValueError, match="frozen"):
        event.name = "changed"  # type: ignore[misc]


def test_the_eleven_wenger_activity_types():
    from shared.contracts import ACTIVITY_TYPES

    assert len(ACTIVITY_TYPES) == 11
    with pytest.raises(ValueError, match="activity_type"):
        ActivityRecorded(
            activity_id=uuid4(),
            meeting_id=uuid4(),
            group_id=uuid4(),
            activity_type="gossip",
            example="x",
        )  # type: ignore[arg-type]


def test_growth_barriers_come_from_the_list():
    with pytest.raises(ValueError, match="barriers"):
        InterviewRecorded(
            interview_id=uuid4(),
            member_id=uuid4(),
            interviewed_on=date(2018, 1, 9),
            intends_to_grow="yes",
            planned_hires=0,
            barriers=("aliens",),
        )  # type: ignore[arg-type]


def test_a_person_key_is_the_hmac_of_the_id_under_the_secret():
    from shared.contracts.feedback import PERSON_KEY_LENGTH, person_key

    person, secret, other = uuid4(), bytes(range(32)), bytes(range(1, 33))
    key = person_key(secret, person)
    assert len(key) == PERSON_KEY_LENGTH
    assert key == person_key(secret, person)  # stable under one secret
    assert key != person_key(other, person)  # another region's secret: another key
    assert key != person_key(secret, uuid4())
    with pytest.raises(ValueError, match="at least 32 bytes"):
        person_key(b"short", person)
