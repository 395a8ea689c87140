"""Reading stored values back. Every datetime column is ``shared.storage.UtcDateTime``, which
reads back aware and in UTC on both databases, so resolvers use the values as they come;
these two remain for the research views' and coding code until its owners drop them (an
expression that loses the column's type, e.g. a bare ``text()``, still needs them)."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def maybe_utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)
