"""What the region records about a member company, the rules its facts must meet, and the
warning when it looks like a company the region has already."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from services.groups.domain import rules
from services.groups.domain.industry import check_industry_code
from services.groups.domain.names import fold
from shared.errors import DomainError
from shared.errors.groups import (
    DuplicateBusinessId,
    DuplicateCompanyName,
    InvalidAddress,
    InvalidCompanyName,
    MemberWarning,
)

if TYPE_CHECKING:
    from services.groups.domain.model import Member

COMPANY_NAME_MAX = 200
ADDRESS_MAX = 300
# what an edit may change, in the order a form shows them
DETAIL_FIELDS = (
    "company_name",
    "business_id",
    "industry_code",
    "address",
    "employees",
    "turnover_eur",
    "balance_sheet_eur",
)


def check_company_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > COMPANY_NAME_MAX:
        raise InvalidCompanyName(max=COMPANY_NAME_MAX, length=len(name))
    return name


def check_address(address: str | None) -> str | None:
    """The address with its spacing tidied (``None`` when blank), or ``InvalidAddress``."""
    tidy = " ".join((address or "").split()) or None
    if tidy is not None and len(tidy) > ADDRESS_MAX:
        raise InvalidAddress(length=len(tidy), max=ADDRESS_MAX)
    return tidy


def field_problems(
    *,
    company_name: str | None = None,
    business_id: str | None = None,
    industry_code: str | None = None,
    figures: tuple[int, int | None, int | None] | None = None,
    address: str | None = None,
) -> list[DomainError]:
    """Every broken rule among the fields given (``None``: not given, not checked), at most
    one per field: what a form shows at its fields before anything is saved. ``figures`` are
    employees, turnover and balance sheet total (EUR): sign, then micro-enterprise size."""
    problems: list[DomainError] = []

    def attempt(check: Callable[[], object]) -> None:
        try:
            check()
        except DomainError as broken:
            problems.append(broken)

    if company_name is not None:
        attempt(lambda: check_company_name(company_name))
    if business_id and business_id.strip():
        attempt(lambda: rules.check_business_id(business_id.strip()))
    if industry_code and industry_code.strip():
        attempt(lambda: check_industry_code(industry_code))
    if address is not None:
        attempt(lambda: check_address(address))
    if figures is not None:
        before = len(problems)
        attempt(lambda: rules.check_figures(*figures))
        if len(problems) == before:  # the size rule means nothing for negative figures
            attempt(lambda: rules.check_micro_enterprise(*figures))
    return problems


@dataclass(frozen=True, slots=True)
class Enterprise:
    """What the region records about a member company (the name never leaves the region)."""

    company_name: str
    employees: int
    turnover_eur: int | None = None
    balance_sheet_eur: int | None = None
    business_id: str | None = None
    industry_code: str | None = None
    address: str | None = None  # the premises, where the member hosts meetings

    def validated(self) -> Enterprise:
        """A normalised copy (whitespace trimmed, blanks to ``None``, the industry code as TOL
        writes it) or the first broken rule."""
        problems = self.problems()
        if problems:
            raise problems[0]
        business_id = (self.business_id or "").strip() or None
        industry_code = (self.industry_code or "").strip()
        return replace(
            self,
            company_name=self.company_name.strip(),
            address=check_address(self.address),
            business_id=business_id,
            industry_code=check_industry_code(industry_code) if industry_code else None,
        )

    def problems(self) -> list[DomainError]:
        """Every broken rule, at most one per field."""
        return field_problems(
            company_name=self.company_name,
            business_id=self.business_id,
            industry_code=self.industry_code,
            figures=(self.employees, self.turnover_eur, self.balance_sheet_eur),
            address=self.address,
        )


def duplicate_warnings(
    company_name: str, business_id: str | None, namesakes: Iterable[tuple[Member, str]]
) -> list[MemberWarning]:
    """Warnings about members (with their groups' names) that may be the same company: the
    same business ID, or the same name where one of the two has no business ID."""
    warnings: list[MemberWarning] = []
    for other, group in namesakes:
        theirs = other.enterprise
        if business_id and theirs.business_id == business_id:
            warnings.append(
                DuplicateBusinessId(
                    business_id=business_id,
                    other_company=theirs.company_name,
                    group=group,
                    member_id=other.id,
                )
            )
        elif fold(theirs.company_name) == fold(company_name) and not (
            business_id and theirs.business_id
        ):
            warnings.append(
                DuplicateCompanyName(
                    other_company=theirs.company_name, group=group, member_id=other.id
                )
            )
    return warnings
