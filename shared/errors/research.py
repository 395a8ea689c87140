"""Refusals of the researchers' workspace at the gateway: codebooks, coding, reconciliation,
Table 1 and the panel (services/gateway/research)."""

from __future__ import annotations

from shared.errors import DomainError
from shared.i18n import N_


class InvalidCodebook(DomainError):
    """A codebook (or a new version of one) that cannot be kept as written."""


class BadCodebookKey(InvalidCodebook):
    code = "BAD_CODEBOOK_KEY"
    default_field = "key"
    message = N_(
        "{key} is not a codebook key: use 2-60 lower-case letters, digits and underscores, "
        "starting with a letter."
    )


class BadCode(InvalidCodebook):
    code = "BAD_CODE"
    default_field = "code"
    message = N_(
        "{code} is not a code: use 1-60 lower-case letters, digits and underscores, starting "
        "with a letter."
    )


class NoCodes(InvalidCodebook):
    code = "CODEBOOK_WITHOUT_CODES"
    default_field = "codes"
    message = N_("A codebook needs at least one code.")


class DuplicateCode(InvalidCodebook):
    code = "DUPLICATE_CODE"
    default_field = "codes"
    message = N_("The code {code} appears more than once in the codebook.")


class MissingText(InvalidCodebook):
    """A name, title or definition left empty in one of the languages, or too long."""

    code = "CODEBOOK_TEXT_MISSING"
    message = N_("{what} is missing in {language} or longer than {limit} characters.")


class CodebookExists(InvalidCodebook):
    code = "CODEBOOK_EXISTS"
    default_field = "key"
    message = N_("A codebook {key} exists already: add a new version of it instead.")


class UnknownCodebook(DomainError):
    code = "UNKNOWN_CODEBOOK"
    default_field = "codebook_id"
    message = N_("No codebook {codebook} is known.")


class UnknownCode(DomainError):
    code = "UNKNOWN_CODE"
    default_field = "code"
    message = N_("The codebook {codebook} has no code {code}.")


class UnknownMeeting(DomainError):
    code = "UNKNOWN_MEETING"
    default_field = "meeting_id"
    message = N_("No meeting {meeting_id} has reached the national data.")


class InvalidCoding(DomainError):
    """A coding that cannot be kept as written."""


class NothingFoundWithCodes(InvalidCoding):
    code = "NOTHING_FOUND_WITH_CODES"
    default_field = "nothing_found"
    message = N_("A coding is either 'nothing found' or has codes, not both.")


class EmptyCoding(InvalidCoding):
    code = "EMPTY_CODING"
    default_field = "marks"
    message = N_("Give at least one code, or record the meeting as coded with nothing found.")


class NoMemo(InvalidCoding):
    code = "NO_MEMO"
    default_field = "span_start"
    message = N_("Meeting {meeting_id} has no memo in the national data to mark a passage in.")


class BadSpan(InvalidCoding):
    code = "BAD_SPAN"
    default_field = "span_start"
    message = N_(
        "The passage {start}-{end} is not within the memo: give 0 <= start < end <= {length}."
    )


class TooFewCoders(DomainError):
    code = "TOO_FEW_CODERS"
    default_field = "meeting_id"
    message = N_(
        "Meeting {meeting_id} has {coders} coder(s) with this codebook; reconciling needs at "
        "least {needed}."
    )


class NotAConsensusMark(DomainError):
    code = "NOT_A_CONSENSUS_MARK"
    default_field = "mark_id"
    message = N_("{mark_id} is not a code of a consensus coding: only those can be examples.")


class UnknownCoder(DomainError):
    code = "UNKNOWN_CODER"
    default_field = "coders"
    message = N_("No coding by {coder} is known with this codebook.")
