"""Refusals of the groups service's CSV member import: of the file as a whole
(``INVALID_CSV``) and of one row (each row's refusal names its column as ``field``)."""

from __future__ import annotations

from shared.errors import DomainError
from shared.i18n import N_


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
