"""Every rule and refusal of the groups domain (plain Python, no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from services.groups.domain import Enterprise, Group, business_id_check_digit
from shared.contracts import GroupCreated, MemberJoined, MemberLeft
from shared.errors import DomainError
from shared.errors.groups import (
    AlreadyActiveMember,
    BusinessIdChecksumMismatch,
    DateInFuture,
    FinancesAboveMicroLimit,
    FinancialFigureMissing,
    InvalidBusinessId,
    InvalidCompanyName,
    InvalidGroupName,
    InvalidIndustryCode,
    InvalidMunicipality,
    InvalidReason,
    JoinedBeforeFounding,
    LeftBeforeJoined,
    MemberAlreadyLeft,
    NegativeFigure,
    NotAMicroEnterprise,
    TooManyEmployees,
)

FOUNDED = date(2016, 3, 1)
TODAY = date(2026, 12, 7)
PAJA = Enterprise(company_name="Paja Oy", employees=3, turnover_eur=400_000)


@pytest.fixture
def group() -> Group:
    return Group.found(name="Oulu core group", municipality="Oulu", founded_on=FOUNDED)[0]


def refusal(error: type[DomainError], enterprise: Enterprise) -> DomainError:
    with pytest.raises(error) as caught:
        enterprise.validated()
    return caught.value


# -- core groups ----------------------------------------------------------------------


def test_founding_a_group_raises_group_created_as_its_first_event():
    group, event = Group.found(name="  Kemi group ", municipality=" Kemi ", founded_on=FOUNDED)
    assert (group.name, group.municipality, group.version) == ("Kemi group", "Kemi", 1)
    assert event == GroupCreated(
        group_id=group.id, name="Kemi group", municipality="Kemi", founded_on=FOUNDED
    )


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_group_needs_a_name_of_1_to_200_characters(name):
    with pytest.raises(InvalidGroupName) as caught:
        Group.found(name=name, municipality="", founded_on=FOUNDED)
    assert (caught.value.code, caught.value.field) == ("INVALID_GROUP_NAME", "name")


def test_a_group_name_of_200_characters_is_fine():
    assert Group.found(name="x" * 200, municipality="", founded_on=FOUNDED)[0].name == "x" * 200


def test_a_municipality_is_at_most_120_characters():
    with pytest.raises(InvalidMunicipality):
        Group.found(name="G", municipality="m" * 121, founded_on=FOUNDED)


# -- the micro-enterprise rule ----------------------------------------------------------


def test_nine_employees_is_a_micro_enterprise():
    assert replace(PAJA, employees=9).validated().employees == 9


def test_ten_employees_is_not_a_micro_enterprise():
    error = refusal(TooManyEmployees, replace(PAJA, employees=10))
    assert (error.code, error.field) == ("NOT_A_MICRO_ENTERPRISE", "employees")
    assert str(error) == "The company has 10 employees; a micro-enterprise has fewer than 10."
    assert error.render("fi") == (
        "Yrityksellä on 10 työntekijää; mikroyrityksellä on alle 10 työntekijää."
    )
    assert error.params == {"employees": 10, "limit": 10}


@pytest.mark.parametrize(
    ("turnover", "balance"),
    [(2_000_000, None), (None, 2_000_000), (2_000_001, 2_000_000), (2_000_000, 9_000_000)],
)
def test_turnover_or_balance_sheet_of_at_most_two_million_is_enough(turnover, balance):
    company = replace(PAJA, turnover_eur=turnover, balance_sheet_eur=balance)
    assert company.validated() == company


@pytest.mark.parametrize(
    ("turnover", "balance", "field"),
    [
        (2_000_001, None, "turnover_eur"),
        (None, 2_000_001, "balance_sheet_eur"),
        (2_000_001, 2_000_001, "turnover_eur"),
    ],
)
def test_both_figures_above_two_million_is_not_a_micro_enterprise(turnover, balance, field):
    company = replace(PAJA, turnover_eur=turnover, balance_sheet_eur=balance)
    error = refusal(NotAMicroEnterprise, company)
    assert (error.code, error.field) == ("NOT_A_MICRO_ENTERPRISE", field)
    assert isinstance(error, FinancesAboveMicroLimit) == (turnover is not None and bool(balance))
    assert "EUR 2\xa0000\xa0001" in str(error)  # numbers as written in Finland
    assert "EUR 2\xa0000\xa0000" in str(error)
    assert error.params["limit"] == 2_000_000


def test_one_financial_figure_is_required():
    error = refusal(FinancialFigureMissing, replace(PAJA, turnover_eur=None))
    assert (error.code, error.field) == ("FINANCIAL_FIGURE_REQUIRED", "turnover_eur")
    assert "turnover or the balance sheet total" in str(error)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"employees": -1}, "employees"),
        ({"turnover_eur": -5}, "turnover_eur"),
        ({"balance_sheet_eur": -5}, "balance_sheet_eur"),
    ],
)
def test_figures_cannot_be_negative(changes, field):
    error = refusal(NegativeFigure, replace(PAJA, **changes))
    assert (error.code, error.field) == ("NEGATIVE_FIGURE", field)


@pytest.mark.parametrize("name", ["", "  ", "n" * 201])
def test_a_member_needs_a_company_name(name):
    error = refusal(InvalidCompanyName, replace(PAJA, company_name=name))
    assert error.field == "company_name"


@pytest.mark.parametrize(
    ("given", "kept"),
    [(" 62010 ", "62010"), ("62.01", "6201"), ("56.101", "56101"), ("j", "J"), ("62", "62")],
)
def test_an_industry_code_of_tol_2008_is_kept_as_tol_writes_it(given, kept):
    assert replace(PAJA, industry_code=given).validated().industry_code == kept


def test_no_industry_code_is_fine():
    assert replace(PAJA, industry_code="  ").validated().industry_code is None


@pytest.mark.parametrize("code", ["banana", "12345678901", "V", "00", "6299", "62019x", "0"])
def test_an_industry_code_outside_tol_2008_is_refused_naming_it(code):
    error = refusal(InvalidIndustryCode, replace(PAJA, industry_code=code))
    assert (error.code, error.field) == ("INVALID_INDUSTRY_CODE", "industry_code")
    assert error.params == {"industry_code": code}
    assert str(error).startswith(f"{code} is not a code of the Standard Industrial")


def test_every_broken_rule_is_listed_once_per_field_for_a_form():
    company = Enterprise(
        company_name=" ", employees=12, turnover_eur=10, business_id="0112038-8",
        industry_code="banana",
    )  # fmt: skip
    assert [(p.code, p.field) for p in company.problems()] == [
        ("INVALID_COMPANY_NAME", "company_name"),
        ("BUSINESS_ID_CHECKSUM_MISMATCH", "business_id"),
        ("INVALID_INDUSTRY_CODE", "industry_code"),
        ("NOT_A_MICRO_ENTERPRISE", "employees"),
    ]
    assert PAJA.problems() == []


# -- the Finnish business ID (Y-tunnus) -------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "check"),
    [("0112038", 9), ("1000000", 4), ("0001003", 0), ("0000006", None)],
)
def test_business_id_check_digit(digits, check):
    # 0112038: 0+9+10+10+0+12+16 = 57, 57 % 11 = 2, 11 - 2 = 9; 0001003: 11 % 11 = 0;
    # 0000006: 12 % 11 = 1, no check digit can fit.
    assert business_id_check_digit(digits) == check


@pytest.mark.parametrize("business_id", ["0112038-9", "1000000-4", "0001003-0", " 0112038-9 "])
def test_a_valid_business_id_is_kept(business_id):
    company = replace(PAJA, business_id=business_id).validated()
    assert company.business_id == business_id.strip()


def test_no_business_id_is_fine_for_now():
    assert replace(PAJA, business_id="").validated().business_id is None
    assert replace(PAJA, business_id=None).validated().business_id is None


@pytest.mark.parametrize(
    "business_id",
    ["112038-9", "01120389", "0112038/9", "0112038-10", "abcdefg-h", "０１１２０３８-9"],
)
def test_a_business_id_must_have_the_format_nnnnnnn_n(business_id):
    error = refusal(InvalidBusinessId, replace(PAJA, business_id=business_id))
    assert (error.code, error.field) == ("INVALID_BUSINESS_ID", "business_id")
    assert "NNNNNNN-N" not in str(error)  # the message shows an example instead
    assert "0112038-9" in str(error)


def test_a_business_id_with_a_wrong_check_digit_is_refused():
    error = refusal(BusinessIdChecksumMismatch, replace(PAJA, business_id="0112038-8"))
    assert (error.code, error.field) == ("BUSINESS_ID_CHECKSUM_MISMATCH", "business_id")
    assert "check digit 8" in str(error)
    assert "need 9" in str(error)
    assert error.params == {
        "business_id": "0112038-8", "digits": "0112038", "given": 8, "expected": 9,
    }  # fmt: skip


def test_a_business_id_whose_remainder_is_one_is_never_valid():
    for check in range(10):
        refusal(BusinessIdChecksumMismatch, replace(PAJA, business_id=f"0000006-{check}"))


# -- joining ----------------------------------------------------------------------------


def test_admitting_raises_a_pseudonymous_member_joined(group):
    company = replace(PAJA, business_id="0112038-9", industry_code="62010")
    member, event = group.admit(company, joined_on=FOUNDED, today=TODAY)
    assert (member.group_id, member.version, member.active) == (group.id, 1, True)
    assert event == MemberJoined(
        member_id=member.id,
        group_id=group.id,
        joined_on=FOUNDED,
        employees=3,
        turnover_eur=400_000,
        balance_sheet_eur=None,
        industry_code="62010",
    )
    wire = event.model_dump_json()
    assert "Paja" not in wire
    assert "0112038" not in wire


def test_joining_before_the_group_was_founded_is_refused(group):
    with pytest.raises(JoinedBeforeFounding) as caught:
        group.admit(PAJA, joined_on=date(2016, 2, 29), today=TODAY)
    assert (caught.value.code, caught.value.field) == ("JOINED_BEFORE_FOUNDING", "joined_on")
    assert caught.value.render("fi") == (
        "Liittymispäivä 29.2.2016 on ennen kuin Oulu core group perustettiin (1.3.2016); "
        "anna se päivä tai myöhäisempi."
    )


def test_joining_in_the_future_is_refused_naming_today(group):
    for joined in (TODAY + timedelta(days=1), date(2031, 1, 1)):
        with pytest.raises(DateInFuture) as caught:
            group.admit(PAJA, joined_on=joined, today=TODAY)
        assert (caught.value.code, caught.value.field) == ("DATE_IN_FUTURE", "joined_on")
        assert caught.value.params == {"on": joined, "today": TODAY}
        assert "7.12.2026" in caught.value.render("fi")
    assert group.admit(PAJA, joined_on=TODAY, today=TODAY)[0].joined_on == TODAY


def test_an_active_member_cannot_join_the_same_group_twice(group):
    company = replace(PAJA, business_id="0112038-9")
    first, _ = group.admit(company, joined_on=FOUNDED, today=TODAY)
    with pytest.raises(AlreadyActiveMember) as caught:
        group.admit(company, joined_on=FOUNDED, today=TODAY, active_members=[first])
    assert (caught.value.code, caught.value.field) == ("ALREADY_A_MEMBER", "business_id")
    assert caught.value.params["member_id"] == first.id
    assert "Paja Oy (business ID 0112038-9)" in str(caught.value)


def test_a_member_that_left_can_join_again(group):
    company = replace(PAJA, business_id="0112038-9")
    first, _ = group.admit(company, joined_on=FOUNDED, today=TODAY)
    first.leave(left_on=date(2017, 1, 1), today=TODAY)
    again, _ = group.admit(company, joined_on=date(2018, 1, 1), today=TODAY, active_members=[first])
    assert again.id != first.id


def test_companies_without_business_id_are_not_duplicates(group):
    first, _ = group.admit(PAJA, joined_on=FOUNDED, today=TODAY)
    again = group.admit(PAJA, joined_on=FOUNDED, today=TODAY, active_members=[first])[0]
    assert again.id != first.id


def test_admitting_refuses_a_company_that_is_not_micro(group):
    with pytest.raises(TooManyEmployees):
        group.admit(replace(PAJA, employees=11), joined_on=FOUNDED, today=TODAY)


# -- leaving ----------------------------------------------------------------------------


def test_leaving_raises_member_left_as_the_second_event(group):
    member, _ = group.admit(PAJA, joined_on=FOUNDED, today=TODAY)
    event = member.leave(left_on=FOUNDED, today=TODAY, reason="  moved away ")
    assert (member.active, member.left_on, member.leave_reason, member.version) == (
        False,
        FOUNDED,
        "moved away",
        2,
    )
    assert event == MemberLeft(
        member_id=member.id, group_id=group.id, left_on=FOUNDED, reason="moved away"
    )


def test_leaving_before_joining_is_refused(group):
    member, _ = group.admit(PAJA, joined_on=date(2017, 5, 1), today=TODAY)
    with pytest.raises(LeftBeforeJoined) as caught:
        member.leave(left_on=date(2017, 4, 30), today=TODAY)
    assert (caught.value.code, caught.value.field) == ("LEFT_BEFORE_JOINED", "left_on")
    assert member.active
    assert member.version == 1


def test_leaving_twice_is_refused(group):
    member, _ = group.admit(PAJA, joined_on=FOUNDED, today=TODAY)
    member.leave(left_on=date(2017, 1, 1), today=TODAY)
    with pytest.raises(MemberAlreadyLeft) as caught:
        member.leave(left_on=date(2017, 2, 1), today=TODAY)
    assert (caught.value.code, caught.value.field) == ("MEMBER_ALREADY_LEFT", "member_id")
    assert caught.value.params["left_on"] == date(2017, 1, 1)
    assert member.version == 2


def test_a_reason_is_at_most_500_characters(group):
    member, _ = group.admit(PAJA, joined_on=FOUNDED, today=TODAY)
    with pytest.raises(InvalidReason):
        member.leave(left_on=FOUNDED, today=TODAY, reason="r" * 501)
