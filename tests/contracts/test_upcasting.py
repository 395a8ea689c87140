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


def test_interviews_name_a_person_key_from_v2_and_v1_events_keep_their_own_model():
    """InterviewRecorded v2 names the person by the region's ``person_key`` and has no
    ``person_id``; v1 events already in the streams (with ``person_id``, or without it from
    before persons were named) decode with the v1 model: no upcaster can make the key
    without the region's secret."""
    from shared.contracts import InterviewRecorded, InterviewRecordedV1

    new = InterviewRecorded(
        interview_id=uuid4(),
        member_id=uuid4(),
        person_key="00112233445566778899aabbccddeeff",
        interviewed_on="2019-03-01",  # type: ignore[arg-type]
        intends_to_grow="yes",
        planned_hires=1,
    )
    envelope = make_envelope(new, region="oulu", aggregate_id=new.interview_id, sequence=1)
    raw = json.loads(encode(envelope))
    assert raw["schema_version"] == 2
    assert "person_id" not in raw["payload"]
    assert decode(json.dumps(raw)).event == new

    person = uuid4()
    raw["schema_version"] = 1
    raw["payload"] = {**raw["payload"], "person_id": str(person)}
    del raw["payload"]["person_key"]
    old = decode(json.dumps(raw)).event
    assert isinstance(old, InterviewRecordedV1)
    assert (old.person_id, old.member_id) == (person, new.member_id)

    del raw["payload"]["person_id"]  # as written before persons were named
    older = decode(json.dumps(raw)).event
    assert isinstance(older, InterviewRecordedV1)
    assert older.person_id is None


@pytest.mark.parametrize("key", ["", "ABCDEF0123456789ABCDEF0123456789", "0" * 31, "0" * 33])
def test_a_person_key_is_32_lower_case_hex_characters(key: str) -> None:
    from pydantic import ValidationError

    from shared.contracts import InterviewRekeyed

    with pytest.raises(ValidationError, match="person_key"):
        InterviewRekeyed(interview_id=uuid4(), person_key=key)
