"""Languages, Finnish formats, the shared error vocabulary and its GraphQL mapping."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import strawberry

from deploy.translations import DOMAINS, problems
from shared.errors import ConcurrentChange, DomainError
from shared.i18n import LANGUAGES, N_, negotiate, use_language
from shared.i18n.formats import (
    FormatError,
    format_date,
    format_datetime,
    format_number,
    parse_date,
    parse_datetime,
    parse_local_datetime,
    parse_time,
)
from shared.runtime.graphql_errors import Schema
from shared.runtime.scalars import parse_datetime_value, serialize_datetime


class NotAMicroEnterprise(DomainError):
    code = "TEST_NOT_A_MICRO_ENTERPRISE"
    default_field = "employees"
    message = N_("{company} has {employees} employees; a micro-enterprise has fewer than 10.")


def test_fi_sv_en_are_the_languages_fi_first() -> None:
    assert LANGUAGES[:3] == ("fi", "sv", "en")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("sv-FI,sv;q=0.9,en;q=0.8", "sv"),
        ("sv-SE", "sv"),
        ("de-DE,de;q=0.9,en;q=0.5", "en"),
        ("en;q=0.2, fi;q=0.9", "fi"),
        ("de", "fi"),
        ("", "fi"),
        (None, "fi"),
        ("garbage;q=x, sv", "sv"),
    ],
)
def test_negotiate_picks_the_best_of_ours(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_times_are_shown_in_helsinki_in_each_language() -> None:
    moment = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # 18.00 in Helsinki (winter, UTC+2)
    assert format_datetime(moment, "fi") == "7.12.2026 klo 18.00"
    assert format_datetime(moment, "sv") == "7.12.2026 kl. 18.00"
    assert format_datetime(moment, "en").endswith("at 18.00")
    summer = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)  # UTC+3
    assert format_datetime(summer, "fi") == "1.6.2026 klo 18.00"
    assert format_date(date(2026, 12, 7), "fi") == "7.12.2026"
    assert format_number(2_000_000, "fi") == "2\xa0000\xa0000"
    assert format_number(1234.5, "sv") == "1\xa0234,5"


@pytest.mark.parametrize(
    "text", ["1.12.2026", "01.12.2026", " 1. 12. 2026 ", "2026-12-01", "01/12/2026"]
)
def test_dates_are_read_as_people_and_browsers_write_them(text: str) -> None:
    assert parse_date(text) == date(2026, 12, 1)


@pytest.mark.parametrize("text", ["18.00", "18:00", "klo 18", "kl. 18.00", "18"])
def test_times_are_read_as_people_write_them(text: str) -> None:
    assert parse_time(text) == time(18, 0)


def test_a_local_date_and_time_is_helsinki_time() -> None:
    moment = parse_local_datetime("7.12.2026", "18.00")
    assert moment.astimezone(UTC) == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "7.12.2026 klo 18.00",
        "7.12.2026 kl. 18.00",
        "07.12.2026 18:00",
        "2026-12-07T18:00:00+02:00",
        "2026-12-07T16:00:00Z",
        "2026-12-07T18:00",  # no offset: Finnish time (a browser's datetime-local input)
    ],
)
def test_a_moment_is_read_in_finnish_form_and_iso(text: str) -> None:
    assert parse_datetime(text) == datetime(2026, 12, 7, 16, tzinfo=UTC)


def test_a_moment_is_answered_in_helsinki_time_with_its_offset() -> None:
    assert serialize_datetime(datetime(2026, 12, 7, 16, tzinfo=UTC)) == "2026-12-07T18:00:00+02:00"
    summer = parse_datetime_value("14.5.2024 klo 18.00")
    assert serialize_datetime(summer) == "2024-05-14T18:00:00+03:00"


@pytest.mark.parametrize("text", ["7.12.2026", "2026-12-07", "7.12.2026 klo 25.00", "soon", ""])
def test_an_unreadable_moment_is_refused_naming_the_form_in_the_readers_language(
    text: str,
) -> None:
    with pytest.raises(DomainError) as refused:
        parse_datetime_value(text)
    assert refused.value.code == "INVALID_DATETIME"
    assert "7.12.2026 klo 18.00 (Suomen aikaa)" in refused.value.render("fi")
    assert "7.12.2026 kl. 18.00 (finsk tid)" in refused.value.render("sv")


@pytest.mark.parametrize("text", ["31.2.2026", "1.12.26", "tomorrow", "2026-13-01", ""])
def test_an_unreadable_date_names_the_expected_form(text: str) -> None:
    with pytest.raises(FormatError) as refused:
        parse_date(text, "fi")
    assert "7.12.2026" in str(refused.value)


@pytest.mark.parametrize("text", ["25.00", "18.61", "six"])
def test_an_unreadable_time_names_the_expected_form(text: str) -> None:
    with pytest.raises(FormatError, match=r"18\.00"):
        parse_time(text, "fi")


def test_an_error_renders_in_the_language_asked_with_its_values_formatted() -> None:
    error = ConcurrentChange(kind="meeting")
    assert error.code == "CONCURRENT_CHANGE"
    assert str(error).startswith("This was changed by someone else")
    assert error.render("fi").startswith("Joku muu muutti tätä")
    assert error.render("sv").startswith("Någon annan ändrade")
    with use_language("sv"):
        assert error.render() == error.render("sv")
    assert error.json_params() == {"kind": "meeting"}
    refused = NotAMicroEnterprise(company="Paja Oy", employees=12)
    assert refused.field == "employees"
    assert refused.render("fi") == (  # no Finnish text for a test message: the English one
        "Paja Oy has 12 employees; a micro-enterprise has fewer than 10."
    )


def test_a_code_is_one_error_only() -> None:
    assert DomainError.by_code["CONCURRENT_CHANGE"] is ConcurrentChange
    with pytest.raises(TypeError, match="CONCURRENT_CHANGE"):

        class Again(DomainError):  # pragma: no cover - refused at class creation
            code = "CONCURRENT_CHANGE"


def test_every_message_is_translated_and_the_templates_are_current() -> None:
    assert problems(DOMAINS) == []


@strawberry.type
class Query:
    @strawberry.field
    def hire(self, employees: int, joined: date) -> str:
        if employees >= 10:
            raise NotAMicroEnterprise(company="Paja Oy", employees=employees)
        raise ConcurrentChange(kind="member", since=joined)


async def test_graphql_errors_carry_code_field_params_and_the_callers_language() -> None:
    schema = Schema(query=Query)
    result = await schema.execute('{ hire(employees: 12, joined: "2026-12-01") }')
    assert result.errors is not None
    [error] = result.errors
    assert error.message.startswith("Paja Oy has 12 employees")
    assert error.extensions == {
        "code": "TEST_NOT_A_MICRO_ENTERPRISE",
        "field": "employees",
        "params": {"company": "Paja Oy", "employees": 12},
    }
    with use_language("fi"):
        result = await schema.execute('{ hire(employees: 2, joined: "2026-12-01") }')
    assert result.errors is not None
    [error] = result.errors
    assert error.message.startswith("Joku muu muutti tätä")
    assert error.extensions is not None
    assert error.extensions["params"] == {"kind": "member", "since": "2026-12-01"}
