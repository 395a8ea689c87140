"""GraphQL scalars of the regional services: the ``Date`` and ``DateTime`` people write.

``Date`` reads ISO 8601 (``2026-12-01``, what a browser's date input sends) and the Finnish
form (``1.12.2026``, ``01.12.2026``) and always answers ISO 8601. Unreadable text is refused
with :class:`~shared.errors.dates.InvalidDate` naming the expected form in the caller's
language (never Python's "Invalid isoformat string"). Use it with
``Schema(..., scalar_overrides=SCALARS)``. ``DateTime`` (in ``SCALARS_WITH_TIMES``) reads
``7.12.2026 klo 18.00`` and ISO 8601, and answers in Europe/Helsinki with its offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from strawberry.types.scalar import ScalarDefinition

from shared.errors.dates import InvalidDate, InvalidDateTime
from shared.i18n.formats import FormatError, local, parse_date, parse_datetime


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


def parse_datetime_value(value: object) -> datetime:
    """A GraphQL input value as an aware datetime, or :class:`InvalidDateTime`."""
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except FormatError:
            raise InvalidDateTime(value) from None
    raise InvalidDateTime(str(value))


def serialize_datetime(value: datetime) -> str:
    """ISO 8601 in Europe/Helsinki with its offset: ``2026-12-07T18:00:00+02:00``."""
    return local(value).isoformat()


DATETIME: Final = ScalarDefinition(
    name="DateTime",
    description="A moment: 2026-12-07T18:00:00+02:00 (ISO 8601; without an offset: Finnish "
    "time) or 7.12.2026 klo 18.00 (Finnish time); answered in Europe/Helsinki with its offset.",
    specified_by_url=None,
    serialize=serialize_datetime,
    parse_value=parse_datetime_value,
    parse_literal=None,
    origin=datetime,
)

SCALARS: Final[Mapping[object, Any]] = {date: DATE}
"""``scalar_overrides`` for a strawberry schema of a regional service."""

SCALARS_WITH_TIMES: Final[Mapping[object, Any]] = {date: DATE, datetime: DATETIME}
"""``SCALARS`` and ``DateTime`` read in Finnish form and answered in Europe/Helsinki (the
meetings service; the others may move to it once their clients expect local offsets)."""
