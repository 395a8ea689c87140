"""The research views' one time axis: a meeting's day in Europe/Helsinki.

Everything about a meeting (feedback, memos, activities, attendance, recordings) is dated
by :func:`day_of` its start; months and years are those of that day. A period ``from``/``to``
is inclusive exact days; :func:`instants` turns it into the UTC instants that bound
timestamp columns (``[from 00:00, to+1 00:00)`` in Helsinki).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from shared.i18n.formats import HELSINKI


def day_of(at: datetime) -> date:
    """The Helsinki calendar day of ``at`` (naive values, as SQLite returns them, are UTC)."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return aware.astimezone(HELSINKI).date()


def month_of_day(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def day_start(day: date) -> datetime:
    """The instant (UTC) the Helsinki day ``day`` begins."""
    return datetime.combine(day, time(0), tzinfo=HELSINKI).astimezone(UTC)


def instants(from_: date | None, to: date | None) -> tuple[datetime | None, datetime | None]:
    """``[start, end)`` in UTC of the Helsinki days ``from_`` .. ``to`` (None: open)."""
    return (
        None if from_ is None else day_start(from_),
        None if to is None else day_start(to + timedelta(days=1)),
    )
