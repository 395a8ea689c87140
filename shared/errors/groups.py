"""Refusals of the groups service: core groups, members, facilitators, persons, CSV import.

Codes are the API's ``extensions.code`` and stay stable. Where one code covers several
situations (``NOT_A_MICRO_ENTERPRISE``, ``DATE_BEFORE_LAST_CHANGE``, ``INVALID_CSV``, ...),
each situation is a subclass with its own message and field, and no code of its own.
Messages name the values at fault; the company is named where the message is about the
membership, not where it is shown at one field of a form.
"""

from __future__ import annotations

from datetime import datetime
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


class TextTooLongToMask(DomainError):
    code = "TEXT_TOO_LONG_TO_MASK"
    default_field = "text"
    message = N_("The text has {length} characters; names are masked in at most {max} at a time.")


# -- facilitators ---------------------------------------------------------------------------


class InvalidFacilitatorName(DomainError):
    code = "INVALID_FACILITATOR_NAME"
    default_field = "name"
    message = N_("A facilitator needs a name of 1 to {max} characters; this one has {length}.")


class InvalidFacilitatorRole(DomainError):
    code = "INVALID_FACILITATOR_ROLE"
    default_field = "role"
    message = N_("Facilitator role {role} is unknown; use one of {roles}.")


class FacilitatorAlreadyAssigned(DomainError):
    code = "FACILITATOR_ALREADY_ASSIGNED"
    default_field = "email"
    message = N_(
        "The facilitator with email {email} already facilitates {group}; remove them first "
        "to change their role."
    )


class FacilitatorNotFound(DomainError):
    code = "FACILITATOR_NOT_FOUND"
    default_field = "facilitator_id"
    message = N_(
        "{group} has no facilitator with id {facilitator_id}; the group's facilitators field "
        "lists them."
    )


# -- contact persons and consent -------------------------------------------------------------


class InvalidEmail(DomainError):
    code = "INVALID_EMAIL"
    default_field = "email"
    message = N_("{email} is not an email address; write it as name@example.fi.")


class InvalidPersonName(DomainError):
    code = "INVALID_PERSON_NAME"
    default_field = "name"
    message = N_("A contact needs a name of 1 to {max} characters; this one has {length}.")


class InvalidPhone(DomainError):
    code = "INVALID_PHONE"
    default_field = "phone"
    message = N_(
        "{phone} is not a phone number; write digits, optionally with a leading + and spaces "
        "or hyphens, e.g. +358 40 123 4567."
    )


class InvalidLanguage(DomainError):
    code = "INVALID_LANGUAGE"
    default_field = "language"
    message = N_("Language {language} is not offered; use one of {languages}.")


class ContactAlreadyRegistered(DomainError):
    code = "CONTACT_ALREADY_REGISTERED"
    default_field = "email"
    message = N_(
        "{company} already has the contact {email}; a contact is registered once per member."
    )


class PersonNotFound(DomainError):
    code = "PERSON_NOT_FOUND"
    default_field = "person_id"
    message = N_(
        "There is no person with id {person_id} in this region; check the id "
        "(a member's contacts field lists them)."
    )

    def __init__(self, person_id: UUID) -> None:
        super().__init__(person_id=person_id)


class PersonAlreadyErased(DomainError):
    code = "PERSON_ERASED"
    default_field = "person_id"
    message = N_(
        "The personal data of person {person_id} was erased on {erased_at}; an erased person "
        "cannot be changed or erased again."
    )

    def __init__(self, person_id: UUID, erased_at: datetime) -> None:
        super().__init__(person_id=person_id, erased_at=erased_at)


class InvalidConsentPurpose(DomainError):
    code = "INVALID_CONSENT_PURPOSE"
    default_field = "purpose"
    message = N_("Consent purpose {purpose} is unknown; use one of {purposes}.")


class ConsentAlreadyGiven(DomainError):
    code = "CONSENT_ALREADY_GIVEN"
    default_field = "purpose"
    message = N_(
        "Person {person_id} gave consent for {purpose} on {given_at} and has not withdrawn "
        "it; there is nothing to give again."
    )


class ConsentNotGiven(DomainError):
    code = "CONSENT_NOT_GIVEN"
    default_field = "purpose"
    message = N_(
        "Person {person_id} has not given consent for {purpose} (or withdrew it already); "
        "only a consent in force can be withdrawn."
    )


class ConsentTimeBeforeLastChange(DomainError):
    code = "CONSENT_TIME_BEFORE_LAST_CHANGE"
    default_field = "at"
    message = N_(
        "The consent for {purpose} last changed on {last}; a change on {at} would come before "
        "it. Give a later time or none (now)."
    )


# -- the CSV member import ------------------------------------------------------------------


class InvalidCsv(DomainError):
    """The file as a whole cannot be imported (a subclass says why)."""

    code = "INVALID_CSV"
    default_field = "csv"


class CsvEmpty(InvalidCsv):
    message = N_("The CSV is empty; its first line must name the columns.")


class CsvUnknownColumns(InvalidCsv):
    message = N_("Line 1 (the header) names unknown columns: {columns}. Known columns: {known}.")


class CsvMissingColumns(InvalidCsv):
    message = N_(
        "Line 1 (the header) lacks the required columns {columns}. Known columns: {known}."
    )


class CsvDoubledColumns(InvalidCsv):
    message = N_("Line 1 (the header) names these columns twice: {columns}.")


class CsvTooLarge(InvalidCsv):
    message = N_("The CSV has {chars} characters; import at most {max} at a time (split the file).")


class CsvBodyTooLarge(InvalidCsv):
    message = N_("The upload has more than {max} bytes; split the file.")


class CsvTooManyRows(InvalidCsv):
    message = N_("The CSV has more than {max} rows; split the file.")


class CsvNoRows(InvalidCsv):
    message = N_("The CSV has a header but no rows; there is nothing to import.")


class CsvUnreadable(InvalidCsv):
    message = N_("Line {line}: the CSV cannot be read ({problem}).")


class CsvNotUtf8(InvalidCsv):
    message = N_("The CSV is not UTF-8; save it as CSV UTF-8 and try again.")


class CsvNumberRequired(DomainError):
    code = "CSV_NUMBER_REQUIRED"
    message = N_("{column} is empty; give a whole number.")


class CsvNotANumber(DomainError):
    code = "CSV_NOT_A_NUMBER"
    message = N_("{column} {value} is not a whole number.")


class CsvTooManyValues(DomainError):
    code = "CSV_TOO_MANY_VALUES"
    message = N_("The row has more values than the header has columns ({columns}).")


class CsvTooFewValues(DomainError):
    code = "CSV_TOO_FEW_VALUES"
    message = N_("The row has fewer values than the header has columns ({columns}).")


class CsvContactIncomplete(DomainError):
    code = "CSV_CONTACT_INCOMPLETE"
    default_field = "contact_email"
    message = N_("A contact needs both contact_name and contact_email.")


class InvalidGroupId(DomainError):
    """``POST /import/members`` without a usable ``?group=``."""

    code = "INVALID_GROUP_ID"
    default_field = "group"
    message = N_("Give the core group's id as ?group=<id>; {value} is not one.")
