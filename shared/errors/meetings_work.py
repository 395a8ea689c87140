"""Refusals of what a meeting leads to: texts, follow-up actions, CoP activities,
initiatives, and a memo's copy for the nation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from shared.errors import DomainError
from shared.i18n import N_


class TextRequired(DomainError):
    """An empty text; ``field`` names it (shown at the field)."""

    code = "TEXT_REQUIRED"
    message = N_("This text is required; it cannot be empty.")

    def __init__(self, field: str) -> None:
        super().__init__(field=field)


class TextTooLong(DomainError):
    code = "TEXT_TOO_LONG"
    message = N_("The text has {length} characters; shorten it to at most {limit}.")

    def __init__(self, field: str, length: int, limit: int) -> None:
        super().__init__(field=field, length=length, limit=limit)


class DateBeforeStart(DomainError):
    """A date before what it follows (a subclass says what)."""

    code = "DATE_BEFORE_START"
    message = N_("{value} is before the meeting ({start}); correct the date.")

    def __init__(self, field: str, value: date, start: date) -> None:
        super().__init__(field=field, value=value, start=start)


class DateBeforeLatestUpdate(DateBeforeStart):
    message = N_("{value} is before the initiative's latest update ({start}); correct the date.")


class ActionNotFound(DomainError):
    code = "ACTION_NOT_FOUND"
    default_field = "action_id"
    message = N_("Action item {action_id} does not exist in this region; check the id.")

    def __init__(self, action_id: UUID) -> None:
        super().__init__(action_id=action_id)


class ActionAlreadyClosed(DomainError):
    code = "ACTION_ALREADY_CLOSED"
    default_field = "action_id"
    message = N_("Action item {action_id} was already closed on {closed_on}.")

    def __init__(self, action_id: UUID, closed_on: date | None) -> None:
        super().__init__(action_id=action_id, closed_on=closed_on)


class UnknownActivityType(DomainError):
    code = "UNKNOWN_ACTIVITY_TYPE"
    default_field = "type"
    message = N_("{value} is not one of the 11 CoP activity types; use one of: {allowed}.")

    def __init__(self, value: str, allowed: Sequence[str]) -> None:
        super().__init__(value=value, allowed=list(allowed))


class InitiativeNotFound(DomainError):
    code = "INITIATIVE_NOT_FOUND"
    default_field = "initiative_id"
    message = N_("Initiative {initiative_id} does not exist in this region; check the id.")

    def __init__(self, initiative_id: UUID) -> None:
        super().__init__(initiative_id=initiative_id)


class InitiativeFinished(DomainError):
    """``status``: completed or abandoned."""

    code = "INITIATIVE_FINISHED"
    default_field = "initiative_id"
    message = N_(
        "Initiative {initiative_id} is finished; a finished initiative is not updated. Start "
        "a new initiative for new joint work."
    )

    def __init__(self, initiative_id: UUID, status: str) -> None:
        super().__init__(initiative_id=initiative_id, status=status)


class UnknownInitiativeStatus(DomainError):
    code = "UNKNOWN_INITIATIVE_STATUS"
    default_field = "status"
    message = N_("{value} is not a status of an initiative; use one of: {allowed}.")

    def __init__(self, value: str, allowed: Sequence[str]) -> None:
        super().__init__(value=value, allowed=list(allowed))


class InitiativeNeedsMembers(DomainError):
    code = "INITIATIVE_NEEDS_MEMBERS"
    default_field = "member_ids"
    message = N_("An initiative is joint work: list at least one member taking part.")


class MemoMaskingUnavailable(DomainError):
    """The memo's copy for the nation could not have its names masked: nothing was
    published (a memo never leaves the region unmasked)."""

    code = "MEMO_MASKING_UNAVAILABLE"
    default_field = "summary"
    message = N_(
        "The memo was not published: the names in it could not be checked with the groups "
        "service ({reason}), and a memo leaves the region only with names masked. Try again "
        "in a moment."
    )

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)
