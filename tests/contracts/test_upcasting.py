"""A breaking change adds a version and an upcaster; old events keep decoding."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest

from shared.contracts import (
    Event,
    UnsupportedSchemaVersion,
    decode,
    encode,
    make_envelope,
    upcaster,
)


class WidgetNamedV1(Event):
    TYPE = "testonly.widget.named"
    VERSION = 1
    name: str


class WidgetNamedV2(Event):
    TYPE = "testonly.widget.named"
    VERSION = 2
    first_name: str
    last_name: str


@upcaster("testonly.widget.named", 1)
def _split_name(payload: dict[str, Any]) -> dict[str, Any]:
    first, _, last = payload.pop("name").partition(" ")
    return {**payload, "first_name": first, "last_name": last}


class GadgetV1(Event):
    TYPE = "testonly.gadget.made"
    VERSION = 1
    size: int


class GadgetV3(Event):
    TYPE = "testonly.gadget.made"
    VERSION = 3
    size_mm: int


def test_old_version_is_upcast_to_the_latest():
    old = make_envelope(
        WidgetNamedV1(name="Aino Ahonen"), region="oulu", aggregate_id=uuid4(), sequence=1
    )
    decoded = decode(encode(old))
    assert decoded.event == WidgetNamedV2(first_name="Aino", last_name="Ahonen")
    assert decoded.envelope.schema_version == 1  # the envelope says what was on the wire


def test_a_version_without_upcaster_decodes_with_its_own_model():
    old = make_envelope(GadgetV1(size=3), region="oulu", aggregate_id=uuid4(), sequence=1)
    assert decode(encode(old)).event == GadgetV1(size=3)


def test_a_gap_without_model_or_upcaster_is_an_unsupported_version():
    raw = json.loads(
        encode(make_envelope(GadgetV1(size=3), region="oulu", aggregate_id=uuid4(), sequence=1))
    )
    raw["schema_version"] = 2
    with pytest.raises(UnsupportedSchemaVersion, match="v2 has no model"):
        decode(json.dumps(raw))


def test_interview_person_id_is_additive_old_events_decode_and_old_readers_cope():
    """InterviewRecorded gained ``person_id`` additively (schema_version stays 1): an event
    written before it decodes with ``None``; a new event read by a model without the field
    (an older consumer) simply ignores it."""
    from shared.contracts import InterviewRecorded

    person = uuid4()
    new = InterviewRecorded(
        interview_id=uuid4(),
        member_id=uuid4(),
        person_id=person,
        interviewed_on="2019-03-01",  # type: ignore[arg-type]
        intends_to_grow="yes",
        planned_hires=1,
    )
    envelope = make_envelope(new, region="oulu", aggregate_id=new.interview_id, sequence=1)
    raw = json.loads(encode(envelope))
    assert raw["schema_version"] == 1
    assert decode(json.dumps(raw)).event == new

    del raw["payload"]["person_id"]  # as written by the feedback service before the change
    old = decode(json.dumps(raw)).event
    assert isinstance(old, InterviewRecorded)
    assert old.person_id is None
    assert old.member_id == new.member_id

    class InterviewRecordedBefore(Event):  # the model as it was (not registered: no TYPE)
        interview_id: Any
        member_id: Any

    with_field = json.loads(encode(envelope))["payload"]
    assert InterviewRecordedBefore.model_validate(with_field).member_id == str(new.member_id)
