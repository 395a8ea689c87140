"""Refusals of text that should have been a date, or a date and a time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

from shared.errors import DomainError
from shared.i18n import N_

EXAMPLE_DAY: Final = date(2026, 12, 7)  # shown in the reader's format: 7.12.2026
EXAMPLE_MOMENT: Final = datetime(2026, 12, 7, 16, tzinfo=UTC)  # 7.12.2026 klo 18.00


class InvalidDate(DomainError):
    """Unreadable date text; ``example`` is a date shown in the reader's own format."""

    code = "INVALID_DATE"
    message = N_("{text} is not a date; write it as {example} or 2026-12-07.")

    def __init__(self, text: str, *, field: str | None = None) -> None:
        super().__init__(field=field, text=text, example=EXAMPLE_DAY)


class InvalidDateTime(DomainError):
    """Unreadable text that should have been a date and a time."""

    code = "INVALID_DATETIME"
    message = N_(
        "{text} is not a date and time; write it as {example} (Finnish time) or "
        "2026-12-07T18:00+02:00."
    )

    def __init__(self, text: str, *, field: str | None = None) -> None:
        super().__init__(field=field, text=text, example=EXAMPLE_MOMENT)
