"""GraphQL scalars of the regional services: the ``Date`` people write.

``Date`` reads ISO 8601 (``2026-12-01``, what a browser's date input sends) and the Finnish
form (``1.12.2026``, ``01.12.2026``) and always answers ISO 8601. Unreadable text is refused
with :class:`~shared.errors.dates.InvalidDate` naming the expected form in the caller's
language (never Python's "Invalid isoformat string"). Use it with
``Schema(..., scalar_overrides=SCALARS)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from strawberry.types.scalar import ScalarDefinition

from shared.errors.dates import InvalidDate
from shared.i18n.formats import FormatError, parse_date


def parse_date_value(value: object) -> date:
    """A GraphQL input value as a date, or :class:`InvalidDate`."""
    if isinstance(value, str):
        try:
            return parse_date(value)
        except FormatError:
            raise InvalidDate(value) from None
    raise InvalidDate(str(value))


DATE: Final = ScalarDefinition(
    name="Date",
    description="A calendar date: 2026-12-01 (ISO 8601) or 1.12.2026; answered as ISO 8601.",
    specified_by_url=None,
    serialize=date.isoformat,
    parse_value=parse_date_value,
    parse_literal=None,  # strawberry reads the literal and calls parse_value
    origin=date,
)

SCALARS: Final[Mapping[object, Any]] = {date: DATE}
"""``scalar_overrides`` for a strawberry schema of a regional service."""
