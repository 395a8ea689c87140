"""The demo's sample-data plan: complete (every feature), consistent with the services' rules
(host rotation, activity, consents), and reproducible."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from deploy.sample_data import (
    ACTIVITY_TYPES,
    RECENT_HELD_DAYS,
    GroupPlan,
    RegionPlan,
    add_member_groups,
    plan_region,
)
from shared.contracts import ACTIVITY_TYPES as CONTRACT_ACTIVITY_TYPES

TODAY = date(2026, 11, 23)
REGIONS = ("oulu", "kainuu", "lappi")


@pytest.fixture(scope="module")
def plans() -> list[RegionPlan]:
    return [plan_region(r, today=TODAY) for r in REGIONS]


def _groups(plans: list[RegionPlan]) -> list[GroupPlan]:
    return [g for p in plans for g in p.groups]


def test_the_activity_types_are_wengers_11_as_the_contracts_name_them() -> None:
    assert ACTIVITY_TYPES == CONTRACT_ACTIVITY_TYPES
    assert len(ACTIVITY_TYPES) == 11


def test_every_group_records_all_11_activity_types(plans: list[RegionPlan]) -> None:
    for group in _groups(plans):
        found = {a.type for m in group.meetings for a in m.activities}
        assert found == set(ACTIVITY_TYPES), group.key
    years = {m.day.year for g in _groups(plans) for m in g.meetings if m.activities}
    assert {2015, 2016, 2017, 2018, 2019} <= years


def test_each_region_has_every_kind_of_data(plans: list[RegionPlan]) -> None:
    for plan in plans:
        groups = plan.groups
        assert len(groups) == 2
        members = [m for g in groups for m in g.members]
        meetings = [m for g in groups for m in g.meetings]
        assert len(members) >= 20
        assert len(meetings) >= 80
        assert sum(len(g.initiatives) for g in groups) == 4  # the case study's four
        assert sum(len(m.interviews) for m in members) >= len(members)
        assert any(m.left_on for m in members)
        assert any(m.paused_on and m.rejoined_on for m in members)
        assert {m.status for m in meetings} == {"held", "cancelled", "planned"}
        assert any(m.scheduled_at for m in meetings)  # rescheduled
        assert any(m.rsvps for m in meetings if m.status == "held")
        assert any(m.recorded for m in meetings)
        assert any(a.closed_on for m in meetings for a in m.actions)
        assert all(m.memo for m in meetings if m.status == "held")
        assert sum(len(m.responses) for m in meetings) >= 5
        for group in groups:
            roles = Counter(f.role for f in group.facilitators)
            assert roles["agency_agent"] == 1
            assert roles["researcher"] >= 1
        titles = {i.title for g in groups for i in g.initiatives}
        assert len(titles) == 4
        for initiative in (i for g in groups for i in g.initiatives):
            assert initiative.updates[-1][0] == "completed"
            dates = [initiative.started_on, *(on for _, _, on in initiative.updates)]
            assert dates == sorted(dates)


def test_hosts_rotate_as_suggest_next_host_would(plans: list[RegionPlan]) -> None:
    for group in _groups(plans):
        hosted: set[str] = set()
        previous = None
        for meeting in group.meetings:
            if meeting.status == "cancelled":  # the service does not count it as hosting
                continue
            host = group.member(meeting.host_key)
            assert host.active_on(meeting.day)
            if meeting.host_key in hosted:
                never = [
                    m.key for m in group.members if m.active_on(meeting.day) and m.key not in hosted
                ]
                assert not never, f"{meeting.host_key} hosts again while {never} never hosted"
            assert meeting.host_key != previous, f"{group.key}: same host twice in a row"
            hosted.add(meeting.host_key)
            previous = meeting.host_key


def test_attendees_answers_and_recordings_follow_the_services_rules(
    plans: list[RegionPlan],
) -> None:
    for group in _groups(plans):
        for meeting in group.meetings:
            for key in meeting.attendee_keys:
                assert group.member(key).active_on(meeting.day)
            for key, _ in meeting.rsvps:
                assert group.member(key).active_on(meeting.day)
            for activity in meeting.activities:
                assert set(activity.member_keys) <= set(meeting.attendee_keys)
            if meeting.recorded:
                assert all(group.member(k).consents_to_recording for k in meeting.attendee_keys)
            if meeting.scheduled_at:
                assert group.member(meeting.host_key).active_on(meeting.scheduled_at.date())
            for action in meeting.actions:
                assert action.closed_on is None or action.closed_on >= meeting.day


def test_contacts_speak_mostly_finnish_and_mostly_consent(plans: list[RegionPlan]) -> None:
    contacts = [c for g in _groups(plans) for m in g.members for c in m.contacts]
    languages = Counter(c.language for c in contacts)
    assert languages["fi"] > len(contacts) / 2
    assert languages["sv"] > 0
    assert languages["en"] > 0
    audio = sum(c.consents_to("audio_recording") for c in contacts)
    assert audio > len(contacts) * 0.7
    assert any(c.withdrawals for c in contacts)
    for group in _groups(plans):
        for member in group.members:
            emails = [c.email for c in member.contacts]
            assert len(emails) == len(set(emails))


def test_some_meetings_are_coded_by_two_researchers(plans: list[RegionPlan]) -> None:
    double = [
        m
        for g in _groups(plans)
        for m in g.meetings
        if len({a.coder_key for a in m.activities}) == 2
    ]
    assert len(double) >= 3


def test_survey_answers_are_for_a_meeting_whose_survey_is_still_open(
    plans: list[RegionPlan],
) -> None:
    for group in _groups(plans):
        answered = [m for m in group.meetings if m.responses]
        assert len(answered) == 1
        (meeting,) = answered
        assert meeting.status == "held"
        low, high = RECENT_HELD_DAYS
        assert TODAY - timedelta(days=high) <= meeting.day <= TODAY - timedelta(days=low)
        assert {r.member_key for r in meeting.responses} <= set(meeting.attendee_keys)
        upcoming = group.meetings[-1]
        assert upcoming.status == "planned"
        assert upcoming.day > TODAY
        assert upcoming.rsvps


def test_the_plan_is_reproducible_and_small_variants_work() -> None:
    assert repr(plan_region("oulu", today=TODAY)) == repr(plan_region("oulu", today=TODAY))
    small = plan_region("kainuu", groups=1, first_year=2018, last_year=2019, today=TODAY)
    (group,) = small.groups
    assert {a.type for m in group.meetings for a in m.activities} == set(ACTIVITY_TYPES)
    assert len(group.initiatives) == 4
    assert small.events > small.writes > 0
    without_today = plan_region("lappi", groups=1)
    assert all(m.status != "planned" for m in without_today.groups[0].meetings)


def test_nothing_but_the_next_meeting_is_after_today_when_today_is_in_the_years() -> None:
    today = date(2026, 5, 20)
    plan = plan_region("savo", first_year=2025, last_year=2026, today=today)
    for group in plan.groups:
        *history, upcoming = group.meetings
        assert upcoming.status == "planned"
        assert upcoming.day > today
        assert all(m.day <= today for m in history)
        for member in group.members:
            assert member.joined_on <= today
            for day in (member.left_on, member.paused_on, member.rejoined_on):
                assert day is None or day <= today
            assert all(i.interviewed_on <= today for i in member.interviews)
        for initiative in group.initiatives:
            assert all(on <= today for _, _, on in initiative.updates)
        for meeting in history:
            assert all(a.closed_on is None or a.closed_on <= today for a in meeting.actions)


def test_interviews_follow_each_entrepreneur_over_the_years(plans: list[RegionPlan]) -> None:
    followed = 0
    for plan in plans:
        for group in plan.groups:
            for member in group.members:
                keys = {c.key for c in member.contacts}
                assert all(i.person_key in keys for i in member.interviews)
                per_person: dict[str, list[int]] = {}
                for interview in member.interviews:
                    years = per_person.setdefault(interview.person_key, [])
                    years.append(interview.interviewed_on.year)
                followed += sum(1 for years in per_person.values() if len(set(years)) > 1)
    assert followed > 10  # many entrepreneurs are interviewed in more than one year


def test_each_region_shows_a_refused_then_fixed_csv_import_and_an_erasure(
    plans: list[RegionPlan],
) -> None:
    from services.groups.domain import Group
    from services.groups.domain.importing import plan_import

    for plan in plans:
        first = plan.groups[0]
        assert first.csv_import is not None, plan.region
        group, _ = Group.found(
            name=first.name, municipality=first.municipality, founded_on=first.founded_on
        )
        refused = plan_import(group, first.csv_import.refused_csv, today=date.today())
        assert [e.line for e in refused.errors] == [3, 4]
        assert refused.members == []
        reasons = " ".join(e.reason for e in refused.errors)
        assert "employees" in reasons
        assert "check digit" in reasons
        fixed = plan_import(group, first.csv_import.fixed_csv, today=date.today())
        assert fixed.errors == []
        assert len(fixed.members) == first.csv_import.rows == 3
        assert all(m.person is not None for m in fixed.members)
        erased = [c for m in first.members for c in m.contacts if c.key == first.erase_contact]
        assert len(erased) == 1, plan.region
        owner = next(
            m for m in first.members if any(c.key == first.erase_contact for c in m.contacts)
        )
        assert owner.left_on is not None  # an entrepreneur who left asks to be forgotten


def test_closed_surveys_have_historical_answers_from_40_to_90_percent(
    plans: list[RegionPlan],
) -> None:
    rates = []
    for plan in plans:
        for group in plan.groups:
            for meeting in group.meetings:
                if meeting.paper_responses:
                    assert meeting.status == "held"
                    assert not meeting.responses  # never both: form while open, paper after
                    assert meeting.day < TODAY - timedelta(days=30)
                    keys = [r.member_key for r in meeting.paper_responses]
                    assert len(set(keys)) == len(keys)
                    assert set(keys) <= set(meeting.attendee_keys)
                    rates.append(len(keys) / len(meeting.attendee_keys))
    assert len(rates) > 100
    mean = sum(rates) / len(rates)
    assert 0.45 < mean < 0.85, mean
    assert sum(0.3 <= r <= 1.0 for r in rates) / len(rates) > 0.9


def test_member_groups_bring_the_region_to_its_size() -> None:
    """``add_member_groups`` (bench/console.py's region of 300 members): groups of members
    and contacts, no meetings, distinct business IDs and group names, exactly the total."""
    plan = plan_region("oulu", groups=1, first_year=2024, last_year=2024)
    before = len(plan.groups[0].members)
    add_member_groups(plan, members=300, per_group=30)
    members = [m for g in plan.groups for m in g.members]
    assert len(members) == 300
    assert all(not g.meetings for g in plan.groups[1:])
    assert all(m.contacts for g in plan.groups[1:] for m in g.members)
    assert len(plan.groups) == 1 + -(-(300 - before) // 30)
    assert len({g.name for g in plan.groups}) == len(plan.groups)
    assert len({m.business_id for m in members}) == 300
