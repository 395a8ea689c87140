"""Dates and UTC times of a CSV or JSON lines export read from SQLite as the texts SQLite
stores them as, and made ISO texts a column at a time.

SQLite has no date or time type: SQLAlchemy stores a date as ``YYYY-MM-DD`` and a UTC time
(:class:`shared.storage.UtcDateTime`, written in UTC) as ``YYYY-MM-DD HH:MM:SS.ffffff``.
Reading them through their types parses every value into a ``date``/``datetime`` (and
:class:`~shared.storage.UtcDateTime` adds its zone), only for the export to format it back
into text: about half of a timestamp-heavy export's CPU time. Here the dictionary's date and
timestamp columns are selected as plain text (:func:`stored_text`) and a column of such texts
becomes the ISO texts ``date.isoformat()`` / ``datetime.isoformat()`` would give (for a
time: ``T`` between date and time, no fraction when it is zero, ``+00:00``) by a few string
operations over the whole column (:func:`iso_column`). Only the texts' shape is checked
(digits where digits are), not the calendar: SQLAlchemy wrote them from real dates. A
column holding a text of any other shape is parsed value by value instead, so a text
SQLAlchemy did not write still comes out right.
PostgreSQL returns real dates and times: its queries are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from types import NoneType
from typing import Any

from sqlalchemy import ColumnElement, Select, String, type_coerce

from services.gateway.exports.dataset import Dataset

TEMPORAL = frozenset({"date", "timestamp"})
_TEXTS = frozenset({str, NoneType})
_SEP = "\x00"
# a stored text's shape once every digit is a 9 ("" a missing value)
_NINES = str.maketrans("0123456789", "9999999999")
_SHAPES = {
    "date": frozenset({"", "9999-99-99"}),
    "timestamp": frozenset({"", "9999-99-99 99:99:99", "9999-99-99 99:99:99.999999"}),
}
_ZONE = "+00:00"


def stored_text(query: Select[Any], ds: Dataset) -> Select[Any]:
    """``query`` with its columns the dictionary types as dates or timestamps read as
    the stored texts (SQLite), same names, same rows; as it is for a dataset whose rows
    Python derives, expands or collects (that code may use the values' types)."""
    if ds.derive is not None or ds.expand is not None or ds.collect is not None:
        return query
    temporal = {c.name for c in ds.columns if c.type in TEMPORAL}
    columns: list[ColumnElement[Any]] = [
        type_coerce(c, String).label(c.key) if c.key in temporal else c
        for c in query.selected_columns
    ]
    if len(columns) != len(query.selected_columns) or not temporal:
        return query
    return query.with_only_columns(*columns, maintain_column_froms=True)


def iso_column(values: Sequence[Any], kind: str) -> Sequence[Any] | None:
    """The ISO texts of a column of stored ``kind`` (date | timestamp) texts and None;
    None if the column holds anything else. Whole-column string operations (in C): the
    texts joined by NUL, their shapes checked with every digit made a 9, then the space
    made a ``T``, a zero fraction dropped and the zone added to every text."""
    if not set(map(type, values)) <= _TEXTS:
        return None
    joined = _SEP.join(["" if v is None else v for v in values])
    shapes = joined.translate(_NINES).split(_SEP)
    if len(shapes) != len(values) or not set(shapes) <= _SHAPES[kind]:
        return _parsed(values, datetime if kind == "timestamp" else date)
    if kind == "date":
        return values
    iso = (joined + _SEP).replace(" ", "T").replace(".000000" + _SEP, _SEP)
    texts = iso.replace(_SEP, _ZONE + _SEP).split(_SEP)[:-1]
    if None in values:  # a missing time's "" became the zone alone
        return [None if text == _ZONE else text for text in texts]
    return texts


def _parsed(values: Sequence[Any], kind: type[date]) -> list[str | None]:
    """Value by value: a text SQLAlchemy did not write (ISO with a zone, say)."""
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
        elif kind is datetime:
            moment = datetime.fromisoformat(v)
            moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
            out.append(moment.astimezone(UTC).isoformat())
        else:
            out.append(date.fromisoformat(v).isoformat())
    return out
