"""Domain rules of membership lifecycle, facilitators, contact persons, consents, CSV import."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from services.groups.domain import (
    Contact,
    Enterprise,
    Group,
    MembershipChange,
    Person,
    plan_import,
)
from shared.contracts import (
    ConsentGiven,
    ConsentWithdrawn,
    FacilitatorAssigned,
    FacilitatorRemoved,
    MemberLeft,
    MemberPaused,
    MemberRejoined,
    PersonErased,
    PersonRegistered,
)
from shared.errors import DomainError
from shared.errors.csv_import import InvalidCsv
from shared.errors.groups import (
    AlreadyActiveMember,
    DateBeforeLastChange,
    DateInFuture,
    InvalidReason,
    MemberAlreadyActive,
    MemberAlreadyLeft,
    MemberAlreadyPaused,
)
from shared.errors.people import (
    ConsentAlreadyGiven,
    ConsentNotGiven,
    ConsentTimeBeforeLastChange,
    ContactAlreadyRegistered,
    FacilitatorAlreadyAssigned,
    FacilitatorNotFound,
    InvalidConsentPurpose,
    InvalidEmail,
    InvalidFacilitatorName,
    InvalidFacilitatorRole,
    InvalidLanguage,
    InvalidPersonName,
    InvalidPhone,
    PersonAlreadyErased,
)
from shared.i18n import use_language

FOUNDED = date(2016, 3, 1)
TODAY = date(2026, 12, 7)
T0 = datetime(2017, 1, 10, 18, 0, tzinfo=UTC)
HEADER = (
    "company_name,business_id,industry_code,employees,turnover_eur,balance_sheet_eur,"
    "joined_on,contact_name,contact_email,contact_phone,language"
)


def group() -> Group:
    return Group.found(name="Oulu", municipality="Oulu", founded_on=FOUNDED)[0]


def member(business_id: str | None = "0112038-9"):
    company = Enterprise("Paja Oy", 3, turnover_eur=400_000, business_id=business_id)
    return group().admit(company, joined_on=FOUNDED, today=TODAY)[0]


def person() -> Person:
    contact = Contact("Maija Meikäläinen", "maija@paja.fi", "+358 40 123 4567", "sv")
    return Person.register(member_id=uuid4(), contact=contact)[0]


# -- membership lifecycle ----------------------------------------------------------


def test_a_membership_is_paused_left_and_rejoined_with_its_history():
    m = member()
    assert (m.status, m.history) == ("active", [MembershipChange("joined", FOUNDED)])
    paused = m.pause(paused_on=date(2017, 1, 1), today=TODAY, reason=" parental leave ")
    assert paused == MemberPaused(
        member_id=m.id,
        group_id=m.group_id,
        paused_on=date(2017, 1, 1),
        today=TODAY,
        reason="parental leave",
    )
    assert (m.status, m.active, m.version) == ("paused", False, 2)
    rejoined = m.rejoin(rejoined_on=date(2017, 9, 1), today=TODAY)
    assert rejoined == MemberRejoined(
        member_id=m.id, group_id=m.group_id, rejoined_on=date(2017, 9, 1), today=TODAY
    )
    assert (m.status, m.paused_on, m.version) == ("active", None, 3)
    assert isinstance(m.leave(left_on=date(2018, 1, 1), today=TODAY, reason="moved"), MemberLeft)
    m.rejoin(rejoined_on=date(2019, 1, 1), today=TODAY)
    assert (m.status, m.left_on, m.leave_reason, m.version) == ("active", None, "", 5)
    assert [(c.kind, c.on) for c in m.history] == [
        ("joined", FOUNDED),
        ("paused", date(2017, 1, 1)),
        ("rejoined", date(2017, 9, 1)),
        ("left", date(2018, 1, 1)),
        ("rejoined", date(2019, 1, 1)),
    ]


def test_a_paused_member_can_leave():
    m = member()
    m.pause(paused_on=date(2017, 1, 1), today=TODAY)
    m.leave(left_on=date(2017, 2, 1), today=TODAY)
    assert (m.status, m.paused_on) == ("left", None)


@pytest.mark.parametrize(
    ("prepare", "act", "error", "code"),
    [
        (
            lambda m: m.leave(left_on=date(2017, 1, 1), today=TODAY),
            lambda m: m.pause(paused_on=date(2017, 2, 1), today=TODAY),
            MemberAlreadyLeft,
            "MEMBER_ALREADY_LEFT",
        ),
        (
            lambda m: m.pause(paused_on=date(2017, 1, 1), today=TODAY),
            lambda m: m.pause(paused_on=date(2017, 2, 1), today=TODAY),
            MemberAlreadyPaused,
            "MEMBER_ALREADY_PAUSED",
        ),
        (
            lambda m: None,
            lambda m: m.rejoin(rejoined_on=date(2017, 2, 1), today=TODAY),
            MemberAlreadyActive,
            "MEMBER_ALREADY_ACTIVE",
        ),
        (
            lambda m: m.pause(paused_on=date(2017, 5, 1), today=TODAY),
            lambda m: m.rejoin(rejoined_on=date(2017, 4, 1), today=TODAY),
            DateBeforeLastChange,
            "DATE_BEFORE_LAST_CHANGE",
        ),
        (
            lambda m: m.pause(paused_on=date(2017, 5, 1), today=TODAY),
            lambda m: m.leave(left_on=date(2017, 4, 1), today=TODAY),
            DateBeforeLastChange,
            "DATE_BEFORE_LAST_CHANGE",
        ),
        (
            lambda m: None,
            lambda m: m.pause(paused_on=date(2016, 1, 1), today=TODAY),
            DateBeforeLastChange,
            "DATE_BEFORE_LAST_CHANGE",
        ),
        (
            lambda m: None,
            lambda m: m.pause(paused_on=FOUNDED, today=TODAY, reason="x" * 501),
            InvalidReason,
            "INVALID_REASON",
        ),
    ],
)
def test_lifecycle_refusals_change_nothing(prepare, act, error, code):
    m = member()
    prepare(m)
    before = (m.status, m.version, list(m.history))
    with pytest.raises(error) as caught:
        act(m)
    assert caught.value.code == code
    assert caught.value.params.get("company") == "Paja Oy" or code == "INVALID_REASON"
    assert "Paja Oy" in str(caught.value) or code == "INVALID_REASON"
    assert (m.status, m.version, list(m.history)) == before


def test_a_paused_member_still_blocks_a_second_membership_of_its_company():
    g = group()
    company = Enterprise("Paja Oy", 3, turnover_eur=400_000, business_id="0112038-9")
    first, _ = g.admit(company, joined_on=FOUNDED, today=TODAY)
    first.pause(paused_on=FOUNDED, today=TODAY)
    with pytest.raises(AlreadyActiveMember):
        g.admit(company, joined_on=FOUNDED, today=TODAY, active_members=[first])


# -- facilitators ------------------------------------------------------------------


def test_facilitators_are_assigned_and_removed_with_pseudonymous_events():
    g = group()
    facilitator, event = g.assign_facilitator(
        name=" Liisa Laine ", email="liisa@oulu.fi", role="agency_agent", assigned_on=FOUNDED
    )
    assert event == FacilitatorAssigned(
        group_id=g.id, facilitator_id=facilitator.id, role="agency_agent"
    )
    assert (facilitator.name, g.version) == ("Liisa Laine", 2)
    assert "Liisa" not in event.model_dump_json()
    assert "liisa@" not in event.model_dump_json()
    known = uuid4()
    other, _ = g.assign_facilitator(
        name="Ari",
        email="ari@oulu.fi",
        role="researcher",
        assigned_on=FOUNDED,
        facilitator_id=known,
    )
    assert other.id == known
    assert g.remove_facilitator(facilitator.id) == FacilitatorRemoved(
        group_id=g.id, facilitator_id=facilitator.id
    )
    assert ([f.id for f in g.facilitators], g.version) == ([known], 4)


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"name": " "}, InvalidFacilitatorName, "INVALID_FACILITATOR_NAME"),
        ({"email": "liisa.oulu.fi"}, InvalidEmail, "INVALID_EMAIL"),
        ({"role": "boss"}, InvalidFacilitatorRole, "INVALID_FACILITATOR_ROLE"),
        ({"email": "LIISA@oulu.fi"}, FacilitatorAlreadyAssigned, "FACILITATOR_ALREADY_ASSIGNED"),
    ],
)
def test_facilitator_refusals(changes, error, code):
    g = group()
    g.assign_facilitator(
        name="Liisa", email="liisa@oulu.fi", role="researcher", assigned_on=FOUNDED
    )
    fields = {"name": "Ari", "email": "ari@oulu.fi", "role": "researcher", "assigned_on": FOUNDED}
    with pytest.raises(error) as caught:
        g.assign_facilitator(**{**fields, **changes})
    assert caught.value.code == code
    assert (len(g.facilitators), g.version) == (1, 2)


def test_removing_an_unknown_facilitator_is_refused():
    with pytest.raises(FacilitatorNotFound) as caught:
        group().remove_facilitator(uuid4())
    assert caught.value.code == "FACILITATOR_NOT_FOUND"


# -- persons and consent -----------------------------------------------------------


def test_a_contact_is_registered_without_personal_data_in_the_event():
    member_id = uuid4()
    contact = Contact(" Maija ", " maija@paja.fi ", "040-123 4567", "SV")
    p, event = Person.register(member_id=member_id, contact=contact)
    assert (p.name, p.email, p.phone, p.language, p.version) == (
        "Maija",
        "maija@paja.fi",
        "040-123 4567",
        "sv",
        1,
    )
    assert event == PersonRegistered(person_id=p.id, member_id=member_id, language="sv")


@pytest.mark.parametrize(
    ("contact", "error", "code", "field"),
    [
        (Contact("", "a@b.fi"), InvalidPersonName, "INVALID_PERSON_NAME", "name"),
        (Contact("A", "not an email"), InvalidEmail, "INVALID_EMAIL", "email"),
        (Contact("A", "a@b"), InvalidEmail, "INVALID_EMAIL", "email"),
        (Contact("A", "a@@b.fi"), InvalidEmail, "INVALID_EMAIL", "email"),
        (Contact("A", "a@b.fi", "call me"), InvalidPhone, "INVALID_PHONE", "phone"),
        (Contact("A", "a@b.fi", "", "de"), InvalidLanguage, "INVALID_LANGUAGE", "language"),
    ],
)
def test_contact_refusals(contact, error, code, field):
    with pytest.raises(error) as caught:
        Person.register(member_id=uuid4(), contact=contact)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_a_member_has_a_contact_email_once_unless_erased():
    first = person()
    again = Contact("Maija M", "MAIJA@paja.fi")
    with pytest.raises(ContactAlreadyRegistered):
        Person.register(member_id=first.member_id, contact=again, existing=[first])
    first.erase(at=T0)
    Person.register(member_id=first.member_id, contact=again, existing=[first])


def test_consent_is_given_and_withdrawn_per_purpose_with_history():
    p = person()
    given = p.give_consent("audio_recording", at=T0)
    assert given == ConsentGiven(
        person_id=p.id, member_id=p.member_id, purpose="audio_recording", given_at=T0
    )
    p.give_consent("research_use", at=T0)
    later = T0 + timedelta(days=30)
    withdrawn = p.withdraw_consent("audio_recording", at=later)
    assert withdrawn == ConsentWithdrawn(
        person_id=p.id, member_id=p.member_id, purpose="audio_recording", withdrawn_at=later
    )
    p.give_consent("audio_recording", at=later)
    assert p.version == 5
    assert [(c.purpose, c.action) for c in p.consent_history] == [
        ("audio_recording", "given"),
        ("research_use", "given"),
        ("audio_recording", "withdrawn"),
        ("audio_recording", "given"),
    ]
    states = {s.purpose: (s.given, s.given_at, s.withdrawn_at) for s in p.consents()}
    assert states == {
        "research_use": (True, T0, None),
        "audio_recording": (True, later, None),
        "contact_sharing": (False, None, None),
    }


def test_consent_without_a_time_is_now_and_naive_times_are_utc():
    p = person()
    before = datetime.now(UTC)
    assert p.give_consent("research_use").given_at >= before
    naive = p.withdraw_consent("research_use", at=datetime(2099, 1, 1)).withdrawn_at
    assert naive == datetime(2099, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("act", "error", "code"),
    [
        (
            lambda p: p.give_consent("audio_recording", at=T0),
            ConsentAlreadyGiven,
            "CONSENT_ALREADY_GIVEN",
        ),
        (lambda p: p.withdraw_consent("research_use", at=T0), ConsentNotGiven, "CONSENT_NOT_GIVEN"),
        (
            lambda p: p.give_consent("marketing", at=T0),
            InvalidConsentPurpose,
            "INVALID_CONSENT_PURPOSE",
        ),
        (
            lambda p: p.withdraw_consent("audio_recording", at=T0 - timedelta(seconds=1)),
            ConsentTimeBeforeLastChange,
            "CONSENT_TIME_BEFORE_LAST_CHANGE",
        ),
    ],
)
def test_consent_refusals(act, error, code):
    p = person()
    p.give_consent("audio_recording", at=T0)
    with pytest.raises(error) as caught:
        act(p)
    assert caught.value.code == code
    assert (p.version, len(p.consent_history)) == (2, 1)


def test_a_withdrawn_consent_cannot_be_withdrawn_again():
    p = person()
    p.give_consent("audio_recording", at=T0)
    p.withdraw_consent("audio_recording", at=T0)
    with pytest.raises(ConsentNotGiven):
        p.withdraw_consent("audio_recording", at=T0)


def test_erasure_blanks_personal_data_withdraws_consents_and_keeps_the_history():
    p = person()
    p.give_consent("audio_recording", at=T0)
    p.give_consent("research_use", at=T0)
    p.withdraw_consent("research_use", at=T0)
    at = T0 + timedelta(days=1)
    events = p.erase(at=at)
    assert events == [
        ConsentWithdrawn(
            person_id=p.id, member_id=p.member_id, purpose="audio_recording", withdrawn_at=at
        ),
        PersonErased(person_id=p.id, member_id=p.member_id, erased_at=at),
    ]
    assert (p.name, p.email, p.phone, p.erased, p.version) == ("", "", "", True, 6)
    assert not any(s.given for s in p.consents())
    assert len(p.consent_history) == 4  # pseudonymous facts: purpose, action, time


@pytest.mark.parametrize(
    "act",
    [
        lambda p: p.erase(),
        lambda p: p.give_consent("research_use"),
        lambda p: p.withdraw_consent("research_use"),
    ],
)
def test_an_erased_person_cannot_be_erased_again_or_changed(act):
    p = person()
    p.erase(at=T0)
    with pytest.raises(PersonAlreadyErased) as caught:
        act(p)
    assert caught.value.code == "PERSON_ERASED"
    assert p.version == 2


# -- CSV import --------------------------------------------------------------------


def csv_of(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


GOOD = "Paja Oy,0112038-9,62010,3,400000,,2016-04-01,Maija M,maija@paja.fi,+358 40 1234567,fi"
OTHER = "Verstas Oy,,,2,,150000,2016-05-01,,,,"


def test_a_valid_file_plans_every_member_and_contact():
    g = group()
    plan = plan_import(g, "\ufeff" + csv_of(GOOD, "", OTHER), today=TODAY)
    assert plan.errors == []
    assert [m.member.enterprise.company_name for m in plan.members] == ["Paja Oy", "Verstas Oy"]
    first, second = plan.members
    assert first.person is not None
    assert first.registered is not None
    assert (first.person.email, first.person.member_id) == ("maija@paja.fi", first.member.id)
    assert (second.person, second.member.enterprise.balance_sheet_eur) == (None, 150_000)


def test_every_invalid_row_is_reported_with_its_line_and_nothing_is_planned():
    text = csv_of(
        GOOD,
        "Iso Oy,,,12,100,,2016-04-01,,,,",  # line 3
        "Paja Toinen Oy,0112038-9,,1,100,,2016-04-01,,,,",  # 4: business ID twice in file
        'Väärä Oy,0112038-8,,1,100,,"2016-04-01",,,,',  # 5: checksum
        "Aikainen Oy,,,1,100,,2015-01-01,,,,",  # 6: before founding
        "Päivätön Oy,,,1,100,,31.4.2016,,,,",  # 7: date
        "Luvuton Oy,,,kolme,100,,2016-04-01,,,,",  # 8: employees
        "Posti Oy,,,1,100,,2016-04-01,Anna,anna-at-posti,,fi",  # 9: email
        "Kieli Oy,,,1,100,,2016-04-01,Anna,anna@posti.fi,,de",  # 10: language
        "Yhteys Oy,,,1,100,,2016-04-01,,anna@posti.fi,,",  # 11: contact without name
        "Lyhyt Oy,,,1",  # 12: too few values
        OTHER,
    )
    plan = plan_import(group(), text, today=TODAY)
    assert plan.members == []
    assert [e.line for e in plan.errors] == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    reasons = {e.line: e.reason for e in plan.errors}
    assert "12 employees" in reasons[3]
    assert "already a member of" in reasons[4]
    assert "check digit" in reasons[5]
    assert "founded (01/03/2016)" in reasons[6]
    assert reasons[7] == "31.4.2016 is not a date; write it as 07/12/2026 or 2026-12-07."
    assert "kolme is not a whole number" in reasons[8]
    assert "not an email address" in reasons[9]
    assert "Language de is not offered" in reasons[10]
    assert "contact_name" in reasons[11]
    assert "fewer values" in reasons[12]
    codes = {e.line: (e.error.code, e.error.field) for e in plan.errors}
    assert codes[7] == ("INVALID_DATE", "joined_on")
    assert codes[8] == ("CSV_NOT_A_NUMBER", "employees")
    with use_language("fi"):  # in the reader's language
        assert plan.errors[0].reason == (
            "Yrityksellä on 12 työntekijää; mikroyrityksellä on alle 10 työntekijää."
        )


def test_a_finnish_date_and_a_join_date_in_the_future_are_read_as_written():
    text = csv_of(
        "Päivä Oy,,,1,100,,1.4.2016,,,,",
        "Huominen Oy,,,1,100,,8.12.2026,,,,",  # line 3: after TODAY
    )
    plan = plan_import(group(), text, today=TODAY)
    assert [(e.line, e.error.code) for e in plan.errors] == [(3, "DATE_IN_FUTURE")]
    assert isinstance(plan.errors[0].error, DateInFuture)
    ok = plan_import(group(), csv_of("Päivä Oy,,,1,100,,1.4.2016,,,,"), today=TODAY)
    assert ok.members[0].member.joined_on == date(2016, 4, 1)


def test_line_numbers_count_quoted_newlines():
    text = csv_of('"Paja\nOy",,,1,100,,2016-04-01,,,,', "Iso Oy,,,12,100,,2016-04-01,,,,")
    assert [e.line for e in plan_import(group(), text, today=TODAY).errors] == [4]


def test_a_company_already_active_in_the_group_is_an_invalid_row():
    existing = member()
    plan = plan_import(group(), csv_of(GOOD), [existing], today=TODAY)
    assert [e.line for e in plan.errors] == [2]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("company_name,employees\nPaja,1\n", "lacks the required columns joined_on"),
        ("company_name,employees,joined_on,owner\n", "unknown columns: owner"),
        ("company name,employees,joined_on\n", "unknown columns: company name"),
        ("company_name,employees,joined_on,employees\n", "twice: employees"),
        ("company_name,employees,joined_on\n", "no rows"),
        (csv_of(GOOD) + "x,y,z,1,2,3,4,5,6,7,8,9\n", None),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(text, words):
    if words is None:  # too many values is a row error, not a file error
        assert [e.line for e in plan_import(group(), text, today=TODAY).errors] == [3]
        return
    with pytest.raises(InvalidCsv) as caught:
        plan_import(group(), text, today=TODAY)
    assert caught.value.code == "INVALID_CSV"
    assert isinstance(caught.value, DomainError)
    assert words in str(caught.value)


def test_header_names_are_case_and_space_insensitive_and_minimal_columns_suffice():
    plan = plan_import(
        group(),
        " Company_Name ,EMPLOYEES,joined_on,turnover_eur\nPaja,1,2016-04-01,1\n",
        today=TODAY,
    )
    assert [m.member.enterprise.employees for m in plan.members] == [1]
