import pytest

from shared.contracts import SubjectError, build_subject, parse_subject, region_filter
from shared.contracts.subjects import Subject, all_regions_filter, service_filter


def test_build_and_parse_are_inverse():
    subject = build_subject("oulu", "meetings", "meeting", "held")
    assert subject == "mgn.oulu.meetings.meeting.held"
    assert parse_subject(subject) == Subject("oulu", "meetings", "meeting", "held")


@pytest.mark.parametrize(
    "subject",
    [
        "mgn.oulu.meetings.meeting",
        "mgn.oulu.meetings.meeting.held.extra",
        "xyz.oulu.meetings.meeting.held",
        "mgn.Oulu.meetings.meeting.held",
        "mgn.oulu.meetings.meeting.*",
        "mgn.hub.meetings.meeting.held",
        "mgn..meetings.meeting.held",
    ],
)
def test_parse_refuses_what_build_would_not_make(subject: str):
    with pytest.raises(SubjectError):
        parse_subject(subject)


@pytest.mark.parametrize("region", ["", "o", "1oulu", "oulu-north", "oulu.x", "hub", "x" * 33])
def test_invalid_regions_are_named_in_the_error(region: str):
    with pytest.raises(SubjectError, match="invalid region id"):
        build_subject(region, "groups", "group", "created")


def test_filters():
    assert region_filter("oulu") == "mgn.oulu.>"
    assert service_filter("oulu", "groups") == "mgn.oulu.groups.>"
    assert all_regions_filter() == "mgn.*.>"
    assert all_regions_filter("meetings") == "mgn.*.meetings.>"
