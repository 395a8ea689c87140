"""One error per rule of the groups domain that a request can break.

``code`` is stable and machine-readable; ``field`` names the offending attribute in domain
terms (snake_case, the API translates it); the message says what was wrong and how to fix it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID


def eur(amount: int) -> str:
    """``EUR 2,000,000``."""
    return f"EUR {amount:,}"


class DomainError(Exception):
    """Base class: a request the domain refuses."""

    code: ClassVar[str] = "DOMAIN_ERROR"
    default_field: ClassVar[str | None] = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field if field is not None else self.default_field


class InvalidGroupName(DomainError):
    code = "INVALID_GROUP_NAME"
    default_field = "name"


class InvalidMunicipality(DomainError):
    code = "INVALID_MUNICIPALITY"
    default_field = "municipality"


class GroupNotFound(DomainError):
    code = "GROUP_NOT_FOUND"
    default_field = "group_id"

    def __init__(self, group_id: UUID) -> None:
        super().__init__(
            f"There is no core group with id {group_id} in this region; "
            "check the id (the 'groups' query lists them)."
        )


class MemberNotFound(DomainError):
    code = "MEMBER_NOT_FOUND"
    default_field = "member_id"

    def __init__(self, member_id: UUID) -> None:
        super().__init__(
            f"There is no member with id {member_id} in this region; "
            "check the id (the 'members' query lists a group's members)."
        )


class InvalidCompanyName(DomainError):
    code = "INVALID_COMPANY_NAME"
    default_field = "company_name"


class InvalidBusinessId(DomainError):
    """The business ID is not of the form NNNNNNN-N."""

    code = "INVALID_BUSINESS_ID"
    default_field = "business_id"


class BusinessIdChecksumMismatch(DomainError):
    """The business ID has the right form, but its check digit does not fit."""

    code = "BUSINESS_ID_CHECKSUM_MISMATCH"
    default_field = "business_id"


class InvalidIndustryCode(DomainError):
    code = "INVALID_INDUSTRY_CODE"
    default_field = "industry_code"


class NegativeFigure(DomainError):
    """Employees, turnover or balance sheet total below zero (``field`` says which)."""

    code = "NEGATIVE_FIGURE"


class NotAMicroEnterprise(DomainError):
    """Base of the two ways to fail the EU micro-enterprise definition (2003/361/EC)."""

    code = "NOT_A_MICRO_ENTERPRISE"


class TooManyEmployees(NotAMicroEnterprise):
    default_field = "employees"


class FinancesAboveMicroLimit(NotAMicroEnterprise):
    """Neither turnover nor balance sheet total is within the limit."""

    default_field = "turnover_eur"


class FinancialFigureMissing(DomainError):
    code = "FINANCIAL_FIGURE_REQUIRED"
    default_field = "turnover_eur"

    def __init__(self, company: str) -> None:
        super().__init__(
            f"Company {company!r}: give its annual turnover or its balance sheet total (EUR, "
            "at least one); a micro-enterprise has at most EUR 2,000,000 in one of them."
        )


class JoinedBeforeFounding(DomainError):
    code = "JOINED_BEFORE_FOUNDING"
    default_field = "joined_on"

    def __init__(self, company: str, joined_on: date, group: str, founded_on: date) -> None:
        super().__init__(
            f"Company {company!r} cannot join group {group!r} on {joined_on.isoformat()}: "
            f"the group was founded on {founded_on.isoformat()}; give that date or a later one."
        )


class AlreadyActiveMember(DomainError):
    code = "ALREADY_A_MEMBER"
    default_field = "business_id"

    def __init__(self, company: str, business_id: str, group: str, member_id: UUID | None) -> None:
        existing = f" (member id {member_id})" if member_id is not None else ""
        super().__init__(
            f"Company {company!r} with business ID {business_id} is already an active member "
            f"of group {group!r}{existing}; a company can be an active member only once."
        )


class LeftBeforeJoined(DomainError):
    code = "LEFT_BEFORE_JOINED"
    default_field = "left_on"

    def __init__(self, company: str, left_on: date, joined_on: date) -> None:
        super().__init__(
            f"Company {company!r} cannot leave on {left_on.isoformat()}: it joined on "
            f"{joined_on.isoformat()}; give that date or a later one."
        )


class MemberAlreadyLeft(DomainError):
    code = "MEMBER_ALREADY_LEFT"
    default_field = "member_id"

    def __init__(self, company: str, left_on: date) -> None:
        super().__init__(
            f"Company {company!r} already left its group on {left_on.isoformat()}; "
            "to bring it back, rejoin it (rejoinMember) or add it as a member again."
        )


class InvalidReason(DomainError):
    code = "INVALID_REASON"
    default_field = "reason"


class ConcurrentUpdate(DomainError):
    """Someone else changed the same aggregate in the meantime."""

    code = "CONCURRENT_UPDATE"

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} was changed by another request at the same time; reload it and try again."
        )


class DateBeforeLastChange(DomainError):
    """A membership change dated before the membership's previous change."""

    code = "DATE_BEFORE_LAST_CHANGE"

    def __init__(self, company: str, what: str, on: date, last: date, *, field: str) -> None:
        super().__init__(
            f"Company {company!r} cannot be {what} on {on.isoformat()}: its membership last "
            f"changed on {last.isoformat()}; give that date or a later one.",
            field=field,
        )


class MemberAlreadyPaused(DomainError):
    code = "MEMBER_ALREADY_PAUSED"
    default_field = "member_id"

    def __init__(self, company: str, paused_on: date) -> None:
        super().__init__(
            f"Company {company!r} has been paused since {paused_on.isoformat()}; "
            "rejoin it before pausing it again."
        )


class MemberAlreadyActive(DomainError):
    code = "MEMBER_ALREADY_ACTIVE"
    default_field = "member_id"

    def __init__(self, company: str) -> None:
        super().__init__(
            f"Company {company!r} is an active member already; only a paused or departed "
            "member can rejoin."
        )


class InvalidFacilitatorName(DomainError):
    code = "INVALID_FACILITATOR_NAME"
    default_field = "name"


class InvalidFacilitatorRole(DomainError):
    code = "INVALID_FACILITATOR_ROLE"
    default_field = "role"


class FacilitatorAlreadyAssigned(DomainError):
    code = "FACILITATOR_ALREADY_ASSIGNED"
    default_field = "email"

    def __init__(self, email: str, group: str) -> None:
        super().__init__(
            f"The facilitator with email {email!r} already facilitates group {group!r}; "
            "remove them first to change their role."
        )


class FacilitatorNotFound(DomainError):
    code = "FACILITATOR_NOT_FOUND"
    default_field = "facilitator_id"

    def __init__(self, facilitator_id: UUID, group: str) -> None:
        super().__init__(
            f"Group {group!r} has no facilitator with id {facilitator_id}; "
            "the group's 'facilitators' field lists them."
        )


class InvalidEmail(DomainError):
    code = "INVALID_EMAIL"
    default_field = "email"


class InvalidPersonName(DomainError):
    code = "INVALID_PERSON_NAME"
    default_field = "name"


class InvalidPhone(DomainError):
    code = "INVALID_PHONE"
    default_field = "phone"


class InvalidLanguage(DomainError):
    code = "INVALID_LANGUAGE"
    default_field = "language"


class ContactAlreadyRegistered(DomainError):
    code = "CONTACT_ALREADY_REGISTERED"
    default_field = "email"

    def __init__(self, email: str, company: str, person_id: UUID) -> None:
        super().__init__(
            f"Company {company!r} already has the contact {email!r} (person id {person_id}); "
            "a contact is registered once per member."
        )


class PersonNotFound(DomainError):
    code = "PERSON_NOT_FOUND"
    default_field = "person_id"

    def __init__(self, person_id: UUID) -> None:
        super().__init__(
            f"There is no person with id {person_id} in this region; check the id "
            "(a member's 'contacts' field lists them)."
        )


class PersonAlreadyErased(DomainError):
    code = "PERSON_ERASED"
    default_field = "person_id"

    def __init__(self, person_id: UUID, erased_at: datetime) -> None:
        super().__init__(
            f"The personal data of person {person_id} was erased at {erased_at.isoformat()}; "
            "an erased person cannot be changed or erased again."
        )


class InvalidConsentPurpose(DomainError):
    code = "INVALID_CONSENT_PURPOSE"
    default_field = "purpose"


class ConsentAlreadyGiven(DomainError):
    code = "CONSENT_ALREADY_GIVEN"
    default_field = "purpose"

    def __init__(self, person_id: UUID, purpose: str, given_at: datetime) -> None:
        super().__init__(
            f"Person {person_id} gave consent for {purpose} at {given_at.isoformat()} and has "
            "not withdrawn it; there is nothing to give again."
        )


class ConsentNotGiven(DomainError):
    code = "CONSENT_NOT_GIVEN"
    default_field = "purpose"

    def __init__(self, person_id: UUID, purpose: str) -> None:
        super().__init__(
            f"Person {person_id} has not given consent for {purpose} (or withdrew it already); "
            "only a consent in force can be withdrawn."
        )


class ConsentTimeBeforeLastChange(DomainError):
    code = "CONSENT_TIME_BEFORE_LAST_CHANGE"
    default_field = "at"

    def __init__(self, purpose: str, at: datetime, last: datetime) -> None:
        super().__init__(
            f"The consent for {purpose} last changed at {last.isoformat()}; a change at "
            f"{at.isoformat()} would come before it. Give a later time or none (now)."
        )


class InvalidCsv(DomainError):
    """The CSV as a whole cannot be read: header, encoding, size."""

    code = "INVALID_CSV"
    default_field = "csv"
