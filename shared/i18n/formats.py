"""Dates, times and numbers as a person in Finland writes them, in their language.

Shown: ``7.12.2026``, ``18.00``, ``7.12.2026 klo 18.00`` (fi), ``7.12.2026 kl. 18.00`` (sv),
``7 Dec 2026 at 18.00`` (en), numbers ``1 234,5``; times always in Europe/Helsinki.
Read: the same forms and ISO 8601 (``2026-12-07``, ``18:00``), so a form accepts what a person
types and what a browser's date input sends. Unreadable text raises :class:`FormatError`
naming what was expected.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from babel import dates, numbers

from shared.i18n import LOCALES, N_, Language, current_language
from shared.i18n.catalogues import ERRORS

HELSINKI: Final = ZoneInfo("Europe/Helsinki")

_DATE = re.compile(
    r"^\s*(\d{1,2})\s*[./]\s*(\d{1,2})\s*[./]\s*(\d{4})\s*$"
)  # 7.12.2026, 07/12/2026
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_TIME = re.compile(r"^\s*(?:klo\s*|kl\.?\s*)?(\d{1,2})(?:[.:](\d{2}))?\s*$", re.IGNORECASE)


class FormatError(ValueError):
    """Text that is not a date or time; ``expected`` shows the form to use."""

    def __init__(self, kind: str, text: str, expected: str) -> None:
        super().__init__(f"{text!r} is not a {kind}; write it as {expected}")
        self.kind, self.text, self.expected = kind, text, expected


def _lang(language: Language | None) -> Language:
    return language or current_language()


def local(moment: datetime) -> datetime:
    """``moment`` in Europe/Helsinki (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(HELSINKI)


# A page shows the same dates and numbers again and again (and babel's formatting is a
# good part of rendering one): each formatted value is kept, per language. Pure functions
# of their arguments (``typed``: 1, 1.0 and Decimal("1") are told apart).
CACHED: Final = 4096


def format_date(day: date, language: Language | None = None, *, style: str = "short") -> str:
    """``7.12.2026`` (fi, sv), ``07/12/2026`` (en); ``style="long"``: ``7. joulukuuta 2026``."""
    return _format_date(day, _lang(language), style)


@lru_cache(maxsize=CACHED, typed=True)
def _format_date(day: date, language: Language, style: str) -> str:
    if isinstance(day, datetime):
        day = local(day).date()
    return dates.format_date(day, style, locale=LOCALES[language])


def format_time(moment: datetime | time, language: Language | None = None) -> str:
    """``18.00``, in Europe/Helsinki."""
    return _format_time(moment, _lang(language))


@lru_cache(maxsize=CACHED, typed=True)
def _format_time(moment: datetime | time, language: Language) -> str:
    if isinstance(moment, datetime):
        moment = local(moment).time()
    return dates.format_time(moment, "short", locale=LOCALES[language])


def format_datetime(moment: datetime, language: Language | None = None) -> str:
    """``7.12.2026 klo 18.00`` (fi), in Europe/Helsinki; the joining word is translated."""
    lang = _lang(language)
    joined = ERRORS.gettext(N_("{date} at {time}"), lang)
    return joined.format(date=format_date(moment, lang), time=format_time(moment, lang))


def format_number(value: float | int | Decimal, language: Language | None = None) -> str:
    """``1 234,5`` in every language of Finland."""
    return _format_number(value, _lang(language))


@lru_cache(maxsize=CACHED, typed=True)
def _format_number(value: float | int | Decimal, language: Language) -> str:
    return numbers.format_decimal(value, locale=LOCALES[language])


def parse_date(text: str, language: Language | None = None) -> date:
    """``1.12.2026``, ``01.12.2026`` or ``2026-12-01``; the year in full."""
    found = _DATE.match(text)
    try:
        if found:
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day)
        found = _ISO_DATE.match(text)
        if found:
            year, month, day = (int(g) for g in found.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise FormatError("date", text, _example_date(_lang(language)))


def parse_time(text: str, language: Language | None = None) -> time:
    """``18.00``, ``18:00``, ``klo 18`` or ``18``."""
    found = _TIME.match(text)
    if found:
        hour, minute = int(found.group(1)), int(found.group(2) or 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise FormatError("time", text, format_time(time(18, 0), _lang(language)))


def parse_local_datetime(day: str, at: str, language: Language | None = None) -> datetime:
    """A date and a time typed in Finland, as an aware datetime in Europe/Helsinki."""
    return datetime.combine(parse_date(day, language), parse_time(at, language), HELSINKI)


_DATETIME = re.compile(
    r"^\s*(\d{1,2}\s*[./]\s*\d{1,2}\s*[./]\s*\d{4})\s*(?:,|\s)\s*(?:klo|kl\.?|at)?\s*"
    r"(\d{1,2}[.:]\d{2})\s*$",
    re.IGNORECASE,
)  # 7.12.2026 klo 18.00, 7.12.2026 kl. 18.00, 7.12.2026 18:00


def parse_datetime(text: str, language: Language | None = None) -> datetime:
    """``7.12.2026 klo 18.00`` (Finnish time) or ISO 8601 with a time; an ISO value without
    an offset is Finnish time too. Always an aware datetime."""
    found = _DATETIME.match(text)
    if found:
        return parse_local_datetime(found.group(1), found.group(2), language)
    stripped = text.strip()
    try:
        if len(stripped) <= len("2026-12-07"):
            raise ValueError("no time")
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        lang = _lang(language)
        example = format_datetime(datetime(2026, 12, 7, 18, tzinfo=HELSINKI), lang)
        raise FormatError("date and time", text, f"{example} (or 2026-12-07T18:00+02:00)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=HELSINKI)


def _example_date(language: Language) -> str:
    return f"{format_date(date(2026, 12, 7), language)} (or 2026-12-07)"
