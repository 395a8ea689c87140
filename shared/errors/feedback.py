"""Refusals of the feedback service: survey links, answers, paper responses, interviews."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from shared.errors import DomainError
from shared.i18n import N_


class UnknownLink(DomainError):
    code = "UNKNOWN_LINK"
    message = N_("This survey link is not known: check that the whole link was copied.")


class SurveyIsClosed(DomainError):
    """The survey no longer takes answers. ``answered``: this link's answer was saved before
    closing (the link is *used*); otherwise it *expired* unanswered. ``language`` is the link
    holder's, when known (the page speaks it)."""

    code = "SURVEY_CLOSED"
    message = N_("The survey closed on {closed_at}; answers can no longer be sent or changed.")

    def __init__(self, closed_at: datetime, *, answered: bool = False, language: str = "") -> None:
        super().__init__(closed_at=closed_at)
        self.closed_at = closed_at
        self.answered = answered
        self.language = language


class InvalidAnswers(DomainError):
    """``errors`` maps a form field to its problem: required, out_of_range, too_long (the
    survey page words them in the respondent's language)."""

    code = "INVALID_ANSWERS"
    message = N_("Some answers are missing or invalid: {fields}.")

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(fields=list(errors))
        self.errors = dict(errors)


class SurveyNotFound(DomainError):
    code = "SURVEY_NOT_FOUND"
    default_field = "meeting_id"
    message = N_(
        "No survey for meeting {meeting_id}: a survey opens when the meeting is recorded as "
        "held; if that happened a moment ago, try again shortly."
    )

    def __init__(self, meeting_id: UUID) -> None:
        super().__init__(meeting_id=meeting_id)


class UnknownPerson(DomainError):
    code = "UNKNOWN_PERSON"
    default_field = "person_id"
    message = N_(
        "Person {person_id} is not a registered contact entrepreneur in this region (never "
        "registered, erased, or registered a moment ago: try again shortly)."
    )

    def __init__(self, person_id: UUID) -> None:
        super().__init__(person_id=person_id)


class PersonNotOfMember(DomainError):
    code = "PERSON_NOT_OF_MEMBER"
    default_field = "person_id"
    message = N_(
        "Person {person_id} is a contact of member {member_id_of_person}, not of member "
        "{member_id}: interview the person under their own member."
    )


class SurveyStillOpen(DomainError):
    code = "SURVEY_STILL_OPEN"
    default_field = "meeting_id"
    message = N_(
        "The survey of meeting {meeting_id} is open until {closes_at}: attendees answer "
        "through their personal links; paper answers are recorded after it closes."
    )


# -- paper responses: all or nothing, every problem listed ----------------------------------


class InvalidPaperResponses(DomainError):
    """``problems``: one refusal per problem, each naming its response (1, 2, ...); their
    messages are clauses of this one's."""

    code = "INVALID_PAPER_RESPONSES"
    default_field = "responses"
    message = N_("Nothing was recorded: {problems}.")

    def __init__(self, problems: Sequence[DomainError]) -> None:
        super().__init__(problems=list(problems))


class NoPaperResponses(DomainError):
    code = "PAPER_RESPONSES_EMPTY"
    default_field = "responses"
    message = N_("give at least one response")


class PaperResponseNotAttended(DomainError):
    code = "PAPER_RESPONSE_NOT_ATTENDED"
    default_field = "member_id"
    message = N_("response {response}: member {member_id} did not attend the meeting")


class PaperResponseTwice(DomainError):
    code = "PAPER_RESPONSE_TWICE"
    default_field = "member_id"
    message = N_("response {response}: member {member_id} already has a response")


class PaperAnswerRequired(DomainError):
    code = "PAPER_ANSWER_REQUIRED"
    message = N_("response {response}: {question} is required")


class PaperAnswerOutOfRange(DomainError):
    code = "PAPER_ANSWER_OUT_OF_RANGE"
    message = N_("response {response}: {question} out of range ({low} to {high})")


class PaperAnswerTooLong(DomainError):
    code = "PAPER_ANSWER_TOO_LONG"
    message = N_("response {response}: {question} is longer than {max} characters")


# -- growth-intention interviews ------------------------------------------------------------


class InvalidInterview(DomainError):
    """An interview the rules refuse (a subclass says which field and why)."""

    code = "INVALID_INTERVIEW"


class UnknownGrowthIntention(InvalidInterview):
    default_field = "intends_to_grow"
    message = N_("The growth intention {intention} is unknown; use one of {intentions}.")


class PlannedHiresOutOfRange(InvalidInterview):
    default_field = "planned_hires"
    message = N_("{planned_hires} planned hires: give a number from 0 to {max}.")


class InterviewInFuture(InvalidInterview):
    default_field = "interviewed_on"
    message = N_(
        "The interview date {interviewed_on} is in the future (today is {today}); record "
        "interviews once they are held."
    )


class UnknownBarriers(InvalidInterview):
    default_field = "barriers"
    message = N_("Unknown barriers {barriers}; use {known}.")


class BarrierOtherTooLong(InvalidInterview):
    default_field = "barrier_other"
    message = N_("The other barrier has {length} characters; shorten it to {max}.")


class BarrierOtherMissing(InvalidInterview):
    default_field = "barrier_other"
    message = N_("The barrier other needs barrierOther: say what the barrier is.")
