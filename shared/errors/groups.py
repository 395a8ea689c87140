"""Refusals of the groups service about core groups and members (and its warnings about a
member); about facilitators and contact persons: :mod:`shared.errors.people`; about the CSV
member import: :mod:`shared.errors.csv_import`.

Codes are the API's ``extensions.code`` and stay stable. Where one code covers several
situations (``NOT_A_MICRO_ENTERPRISE``, ``DATE_BEFORE_LAST_CHANGE``, ``INVALID_CSV``, ...),
each situation is a subclass with its own message and field, and no code of its own.
Messages name the values at fault; the company is named where the message is about the
membership, not where it is shown at one field of a form.
"""

from __future__ import annotations

from uuid import UUID

from shared.errors import DomainError
from shared.i18n import N_

# -- groups and members ---------------------------------------------------------------------


class InvalidGroupName(DomainError):
    code = "INVALID_GROUP_NAME"
    default_field = "name"
    message = N_("A core group needs a name of 1 to {max} characters; this one has {length}.")


class InvalidMunicipality(DomainError):
    code = "INVALID_MUNICIPALITY"
    default_field = "municipality"
    message = N_(
        "The municipality has {length} characters; give only the municipality's name "
        "(at most {max} characters)."
    )


class GroupNotFound(DomainError):
    code = "GROUP_NOT_FOUND"
    default_field = "group_id"
    message = N_(
        "There is no core group with id {group_id} in this region; check the id "
        "(the groups query lists them)."
    )

    def __init__(self, group_id: UUID) -> None:
        super().__init__(group_id=group_id)


class MemberNotFound(DomainError):
    code = "MEMBER_NOT_FOUND"
    default_field = "member_id"
    message = N_(
        "There is no member with id {member_id} in this region; check the id "
        "(a group's members are listed by the members query)."
    )

    def __init__(self, member_id: UUID) -> None:
        super().__init__(member_id=member_id)


class InvalidCompanyName(DomainError):
    code = "INVALID_COMPANY_NAME"
    default_field = "company_name"
    message = N_("A member needs a company name of 1 to {max} characters; this one has {length}.")


class InvalidBusinessId(DomainError):
    """Not of the form NNNNNNN-N."""

    code = "INVALID_BUSINESS_ID"
    default_field = "business_id"
    message = N_(
        "{business_id} is not a Finnish business ID (Y-tunnus): write seven digits, a hyphen "
        "and the check digit, e.g. 0112038-9."
    )


class BusinessIdChecksumMismatch(DomainError):
    """The right form, but the check digit does not fit."""

    code = "BUSINESS_ID_CHECKSUM_MISMATCH"
    default_field = "business_id"
    message = N_(
        "Business ID {business_id} has the check digit {given}, but its digits {digits} need "
        "{expected}; check it for a typo."
    )


class BusinessIdImpossible(BusinessIdChecksumMismatch):
    """No check digit fits the seven digits at all."""

    message = N_(
        "Business ID {business_id} cannot be valid: no check digit fits the digits {digits}; "
        "check them for a typo."
    )


class InvalidIndustryCode(DomainError):
    code = "INVALID_INDUSTRY_CODE"
    default_field = "industry_code"
    message = N_(
        "{industry_code} is not a code of the Standard Industrial Classification TOL 2008 of "
        "Statistics Finland; give a section letter (A-U) or a code of 2 to 5 digits, "
        "e.g. 62010 (computer programming)."
    )


class NegativeFigure(DomainError):
    """Employees, turnover or balance sheet total below zero (a subclass says which)."""

    code = "NEGATIVE_FIGURE"


class NegativeEmployees(NegativeFigure):
    default_field = "employees"
    message = N_("The number of employees cannot be negative ({value}); give 0 or more.")


class NegativeTurnover(NegativeFigure):
    default_field = "turnover_eur"
    message = N_("The turnover cannot be negative (EUR {value}); give 0 or more.")


class NegativeBalanceSheet(NegativeFigure):
    default_field = "balance_sheet_eur"
    message = N_("The balance sheet total cannot be negative (EUR {value}); give 0 or more.")


class NotAMicroEnterprise(DomainError):
    """The EU micro-enterprise definition (2003/361/EC) is not met (a subclass says how)."""

    code = "NOT_A_MICRO_ENTERPRISE"


class TooManyEmployees(NotAMicroEnterprise):
    default_field = "employees"
    message = N_(
        "The company has {employees} employees; a micro-enterprise has fewer than {limit}."
    )


class TurnoverAboveMicroLimit(NotAMicroEnterprise):
    default_field = "turnover_eur"
    message = N_(
        "A turnover of EUR {turnover_eur} is above EUR {limit}; a micro-enterprise has a "
        "turnover or a balance sheet total of at most EUR {limit} (give the balance sheet "
        "total if it is within the limit)."
    )


class BalanceSheetAboveMicroLimit(NotAMicroEnterprise):
    default_field = "balance_sheet_eur"
    message = N_(
        "A balance sheet total of EUR {balance_sheet_eur} is above EUR {limit}; a "
        "micro-enterprise has a turnover or a balance sheet total of at most EUR {limit} "
        "(give the turnover if it is within the limit)."
    )


class FinancesAboveMicroLimit(NotAMicroEnterprise):
    """Both figures given, both above the limit."""

    default_field = "turnover_eur"
    message = N_(
        "Both the turnover (EUR {turnover_eur}) and the balance sheet total "
        "(EUR {balance_sheet_eur}) are above EUR {limit}; a micro-enterprise has at most "
        "EUR {limit} in one of them."
    )


class FinancialFigureMissing(DomainError):
    code = "FINANCIAL_FIGURE_REQUIRED"
    default_field = "turnover_eur"
    message = N_(
        "Give the annual turnover or the balance sheet total (EUR, at least one); "
        "a micro-enterprise has at most EUR {limit} in one of them."
    )


class JoinedBeforeFounding(DomainError):
    code = "JOINED_BEFORE_FOUNDING"
    default_field = "joined_on"
    message = N_(
        "The join date {joined_on} is before {group} was founded ({founded_on}); "
        "give that date or a later one."
    )


class DateInFuture(DomainError):
    """A membership change dated after today (a subclass says which)."""

    code = "DATE_IN_FUTURE"


class JoinDateInFuture(DateInFuture):
    default_field = "joined_on"
    message = N_(
        "The join date {on} is in the future (today is {today}); record a member once it "
        "has joined."
    )


class LeaveDateInFuture(DateInFuture):
    default_field = "left_on"
    message = N_(
        "The leaving date {on} is in the future (today is {today}); record the leaving on "
        "or after that day."
    )


class PauseDateInFuture(DateInFuture):
    default_field = "paused_on"
    message = N_(
        "The pause date {on} is in the future (today is {today}); record the pause on or "
        "after that day."
    )


class RejoinDateInFuture(DateInFuture):
    default_field = "rejoined_on"
    message = N_(
        "The rejoining date {on} is in the future (today is {today}); record the rejoining "
        "on or after that day."
    )


class AlreadyActiveMember(DomainError):
    code = "ALREADY_A_MEMBER"
    default_field = "business_id"
    message = N_(
        "{company} (business ID {business_id}) is already a member of {group}; a company is "
        "a member of a group only once."
    )


class LeftBeforeJoined(DomainError):
    code = "LEFT_BEFORE_JOINED"
    default_field = "left_on"
    message = N_(
        "{company} cannot leave on {left_on}: it joined on {joined_on}; give that date or a "
        "later one."
    )


class MemberAlreadyLeft(DomainError):
    code = "MEMBER_ALREADY_LEFT"
    default_field = "member_id"
    message = N_(
        "{company} already left its group on {left_on}; to bring it back, rejoin it (rejoinMember)."
    )


class InvalidReason(DomainError):
    code = "INVALID_REASON"
    default_field = "reason"
    message = N_("The reason has {length} characters; shorten it to {max} at most.")


class DateBeforeLastChange(DomainError):
    """A membership change dated before the membership's previous change."""

    code = "DATE_BEFORE_LAST_CHANGE"


class LeftBeforeLastChange(DateBeforeLastChange):
    default_field = "left_on"
    message = N_(
        "{company} cannot be recorded as left on {on}: its membership last changed on "
        "{last}; give that date or a later one."
    )


class PausedBeforeLastChange(DateBeforeLastChange):
    default_field = "paused_on"
    message = N_(
        "{company} cannot be paused on {on}: its membership last changed on {last}; give "
        "that date or a later one."
    )


class RejoinedBeforeLastChange(DateBeforeLastChange):
    default_field = "rejoined_on"
    message = N_(
        "{company} cannot rejoin on {on}: its membership last changed on {last}; give that "
        "date or a later one."
    )


class MemberAlreadyPaused(DomainError):
    code = "MEMBER_ALREADY_PAUSED"
    default_field = "member_id"
    message = N_("{company} has been paused since {paused_on}; rejoin it before pausing it again.")


class MemberAlreadyActive(DomainError):
    code = "MEMBER_ALREADY_ACTIVE"
    default_field = "member_id"
    message = N_(
        "{company} is an active member already; only a paused or departed member can rejoin."
    )


# -- warnings about a member (returned with the answer, never raised) -----------------------


class MemberWarning(DomainError):
    """Something about an accepted member worth a second look: a code, field, params and
    message like a refusal, returned with the member instead of refusing it."""


class DuplicateBusinessId(MemberWarning):
    code = "LIKELY_DUPLICATE_BUSINESS_ID"
    default_field = "business_id"
    message = N_(
        "{other_company} in {group} has the same business ID {business_id}; check that this "
        "is not the same company (a member that left can rejoin instead)."
    )


class DuplicateCompanyName(MemberWarning):
    code = "LIKELY_DUPLICATE_NAME"
    default_field = "company_name"
    message = N_(
        "{other_company} in {group} has the same name; check that this is not the same "
        "company, or give the business IDs to tell them apart."
    )


class InvalidAddress(DomainError):
    code = "INVALID_ADDRESS"
    default_field = "address"
    message = N_("The address has {length} characters; shorten it to at most {max}.")


class TooManyMemberIds(DomainError):
    code = "TOO_MANY_MEMBER_IDS"
    default_field = "ids"
    message = N_("{count} member ids were asked for at once; ask for at most {max} at a time.")


class MemberDetailsUnchanged(DomainError):
    code = "MEMBER_DETAILS_UNCHANGED"
    default_field = "member_id"
    message = N_("{company}'s details are already exactly these; nothing was changed.")


class TextTooLongToMask(DomainError):
    code = "TEXT_TOO_LONG_TO_MASK"
    default_field = "text"
    message = N_("The text has {length} characters; names are masked in at most {max} at a time.")
