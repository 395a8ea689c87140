"""The rules a member enterprise's facts must satisfy: Y-tunnus and the EU micro size."""

from __future__ import annotations

import re

from services.groups.domain.errors import (
    BusinessIdChecksumMismatch,
    FinancesAboveMicroLimit,
    FinancialFigureMissing,
    InvalidBusinessId,
    InvalidEmail,
    NegativeFigure,
    TooManyEmployees,
    eur,
)

MICRO_EMPLOYEES_BELOW = 10  # a micro-enterprise has fewer than 10 employees ...
MICRO_MAX_EUR = 2_000_000  # ... and turnover or balance sheet total of at most this
_BUSINESS_ID = re.compile(r"[0-9]{7}-[0-9]")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)
# Deliberately plain: one @, no spaces, a dot in the domain; the mailbox is the truth.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
EMAIL_MAX = 254


def check_email(email: str) -> str:
    """The trimmed ``email`` if it looks like an email address, else ``InvalidEmail``."""
    email = email.strip()
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise InvalidEmail(f"{email[:60]!r} is not an email address; write it as name@example.fi.")
    return email


def business_id_check_digit(digits: str) -> int | None:
    """The Y-tunnus check digit for seven ``digits``; ``None`` where none can exist.

    Weights 7,9,10,5,8,4,2, sum mod 11: remainder 0 gives 0, remainder 1 no valid
    check digit, any other remainder r gives 11 - r.
    """
    remainder = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return 0
    if remainder == 1:
        return None
    return 11 - remainder


def check_business_id(business_id: str, company: str) -> str:
    """Return ``business_id`` if it is a valid Finnish business ID (Y-tunnus), else raise."""
    if not _BUSINESS_ID.fullmatch(business_id):
        raise InvalidBusinessId(
            f"Business ID {business_id!r} of company {company!r} is not a Finnish business ID "
            "(Y-tunnus): write seven digits, a hyphen and the check digit, e.g. 0112038-9."
        )
    digits, given = business_id[:7], int(business_id[8])
    expected = business_id_check_digit(digits)
    if expected is None:
        raise BusinessIdChecksumMismatch(
            f"Business ID {business_id!r} of company {company!r} cannot be valid: no check "
            f"digit fits the digits {digits}; check them for a typo."
        )
    if given != expected:
        raise BusinessIdChecksumMismatch(
            f"Business ID {business_id!r} of company {company!r} has check digit {given}, "
            f"but its digits {digits} need {expected}; check it for a typo."
        )
    return business_id


def check_figures(
    company: str, employees: int, turnover_eur: int | None, balance_sheet_eur: int | None
) -> None:
    """No figure is negative."""
    for field, value, what in (
        ("employees", employees, "employees"),
        ("turnover_eur", turnover_eur, "turnover (EUR)"),
        ("balance_sheet_eur", balance_sheet_eur, "balance sheet total (EUR)"),
    ):
        if value is not None and value < 0:
            raise NegativeFigure(
                f"Company {company!r} has {value} as {what}; give 0 or more.", field=field
            )


def check_micro_enterprise(
    company: str, employees: int, turnover_eur: int | None, balance_sheet_eur: int | None
) -> None:
    """The EU definition: fewer than 10 employees, and turnover OR balance sheet ≤ EUR 2 M."""
    if employees >= MICRO_EMPLOYEES_BELOW:
        raise TooManyEmployees(
            f"Company {company!r} has {employees} employees; a micro-enterprise has fewer "
            f"than {MICRO_EMPLOYEES_BELOW}."
        )
    if turnover_eur is None and balance_sheet_eur is None:
        raise FinancialFigureMissing(company)
    figures = [
        (field, what, value)
        for field, what, value in (
            ("turnover_eur", "turnover", turnover_eur),
            ("balance_sheet_eur", "balance sheet total", balance_sheet_eur),
        )
        if value is not None
    ]
    if all(value > MICRO_MAX_EUR for _, _, value in figures):
        stated = " and ".join(f"{what} {eur(value)}" for _, what, value in figures)
        hint = "" if len(figures) == 2 else " (give the other figure if it is within the limit)"
        raise FinancesAboveMicroLimit(
            f"Company {company!r} has {stated}; a micro-enterprise has a turnover or a balance "
            f"sheet total of at most {eur(MICRO_MAX_EUR)}{hint}.",
            field=figures[0][0],
        )
