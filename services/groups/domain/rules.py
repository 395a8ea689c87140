"""The rules a member enterprise's facts must satisfy: Y-tunnus and the EU micro size."""

from __future__ import annotations

import re

from shared.errors.groups import (
    BalanceSheetAboveMicroLimit,
    BusinessIdChecksumMismatch,
    BusinessIdImpossible,
    FinancesAboveMicroLimit,
    FinancialFigureMissing,
    InvalidBusinessId,
    NegativeBalanceSheet,
    NegativeEmployees,
    NegativeTurnover,
    TooManyEmployees,
    TurnoverAboveMicroLimit,
)
from shared.errors.people import InvalidEmail

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
        raise InvalidEmail(email=email[:60])
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


def check_business_id(business_id: str) -> str:
    """Return ``business_id`` if it is a valid Finnish business ID (Y-tunnus), else raise."""
    if not _BUSINESS_ID.fullmatch(business_id):
        raise InvalidBusinessId(business_id=business_id[:40])
    digits, given = business_id[:7], int(business_id[8])
    expected = business_id_check_digit(digits)
    if expected is None:
        raise BusinessIdImpossible(business_id=business_id, digits=digits)
    if given != expected:
        raise BusinessIdChecksumMismatch(
            business_id=business_id, digits=digits, given=given, expected=expected
        )
    return business_id


def check_figures(employees: int, turnover_eur: int | None, balance_sheet_eur: int | None) -> None:
    """No figure is negative."""
    if employees < 0:
        raise NegativeEmployees(value=employees)
    if turnover_eur is not None and turnover_eur < 0:
        raise NegativeTurnover(value=turnover_eur)
    if balance_sheet_eur is not None and balance_sheet_eur < 0:
        raise NegativeBalanceSheet(value=balance_sheet_eur)


def check_micro_enterprise(
    employees: int, turnover_eur: int | None, balance_sheet_eur: int | None
) -> None:
    """The EU definition: fewer than 10 employees, and turnover OR balance sheet ≤ EUR 2 M."""
    if employees >= MICRO_EMPLOYEES_BELOW:
        raise TooManyEmployees(employees=employees, limit=MICRO_EMPLOYEES_BELOW)
    if turnover_eur is None and balance_sheet_eur is None:
        raise FinancialFigureMissing(limit=MICRO_MAX_EUR)
    given = [value for value in (turnover_eur, balance_sheet_eur) if value is not None]
    if not all(value > MICRO_MAX_EUR for value in given):
        return
    if len(given) == 2:
        raise FinancesAboveMicroLimit(
            limit=MICRO_MAX_EUR, turnover_eur=turnover_eur, balance_sheet_eur=balance_sheet_eur
        )
    if turnover_eur is not None:
        raise TurnoverAboveMicroLimit(limit=MICRO_MAX_EUR, turnover_eur=turnover_eur)
    raise BalanceSheetAboveMicroLimit(limit=MICRO_MAX_EUR, balance_sheet_eur=balance_sheet_eur)
