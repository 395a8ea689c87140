"""The one CSV writer for everything the project exports: cells safe to open in a spreadsheet.

OWASP's CSV-injection rule: a text cell that a spreadsheet would read as a formula (it
starts with ``=``, ``+``, ``-`` or ``@``, or with a tab or carriage return, also after
leading whitespace, and the full-width ``＝ ＋ － ＠`` some spreadsheets accept too) is
written with a single quote in front, so it is shown as the text it is. Numbers stay
numbers: ints, floats and Decimals pass unchanged, and so does text that is a plain
number (``-3``, ``+358.5``), which no spreadsheet evaluates as anything else. Other
values are written as :mod:`csv` writes them; ``None`` as an empty cell, booleans as
``true``/``false``. Lines end in CRLF (RFC 4180): :mod:`csv` quotes a cell only if it holds
a character of the line terminator, so with a bare ``\n`` a carriage return inside a text
would go out unquoted and split the row for a reader.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from types import NoneType
from typing import Any, Protocol

FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# a text that may need a look (it starts with a formula character or whitespace), found
# in a column's texts each preceded by NUL. ``\s`` is ``str.isspace`` (both are
# Py_UNICODE_ISSPACE). A NUL inside a text can only give a false alarm (the column is then
# checked cell by cell), never hide the start of one.
_SEPARATOR = "\x00"
_MAY_START_FORMULA = re.compile(
    _SEPARATOR + "[" + re.escape("".join(sorted(FORMULA_STARTS))) + r"\s]"
)
# what :mod:`csv` writes exactly as :func:`safe_cell` would have it (None as an empty cell)
_NUMBERS = frozenset({int, float, NoneType})
_TEXTS = frozenset({str, NoneType})
# a cell :mod:`csv` quotes: it holds the delimiter, the quote or a character of the line
# terminator; one holding a NUL is left to :mod:`csv` itself. A column's texts are looked
# at joined by \x01, which is none of these.
_QUOTED = re.compile(r'[,"\r\n]')
_JOINER = "\x01"


def _any_in(text: str, characters: str) -> bool:
    return any(c in text for c in characters)  # str.find: far faster than a character class


LINE_END = "\r\n"


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula."""
    if not text:
        return False
    if text[0] in FORMULA_STARTS:
        return _NUMBER.fullmatch(text) is None
    stripped = text.lstrip()
    return bool(stripped) and stripped[0] in FORMULA_STARTS and not _NUMBER.fullmatch(stripped)


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell: formulas neutralised, numbers as they are."""
    if value.__class__ is str:  # the common case first: most texts start harmlessly
        if value and (value[0] in FORMULA_STARTS or value[0].isspace()) and is_formula(value):
            return "'" + value
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    text = value if isinstance(value, str) else str(value)
    return "'" + text if is_formula(text) else text


def safe_column(values: Sequence[Any]) -> Sequence[Any]:
    """:func:`safe_cell` of every value of a column, in C for the common columns: numbers
    and ``None`` pass as they are, and so do texts none of which starts with a formula
    character or whitespace (one regular expression over the column); any other column
    goes cell by cell."""
    kinds = set(map(type, values))
    if kinds <= _NUMBERS:
        return values
    if kinds <= _TEXTS:
        texts = _SEPARATOR.join(filter(None, values))  # None and "" are safe as they are
        if _MAY_START_FORMULA.search(_SEPARATOR + texts) is None:
            return values
    return list(map(safe_cell, values))


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if _QUOTED.search(text) else text


def csv_texts(values: Sequence[Any]) -> Sequence[str] | None:
    """A column of safe cells (:func:`safe_column`) as the texts :mod:`csv` writes for
    them (``QUOTE_MINIMAL``, CRLF lines), a column at a time; None if the column has a
    kind of value (or a NUL) that is left to :mod:`csv` itself."""
    kinds = set(map(type, values))
    if kinds <= _TEXTS:
        texts: Sequence[str] = (
            values if NoneType not in kinds else ["" if v is None else v for v in values]
        )
        joined = _JOINER.join(texts)
        if not _any_in(joined, ',"\r\n\x00'):
            return texts
        if "\x00" in joined:
            return None
        return list(map(_quote, texts))
    if kinds <= _NUMBERS:  # csv writes str() of an int and repr() (the same) of a float
        if NoneType in kinds:
            return ["" if v is None else str(v) for v in values]
        return list(map(str, values))
    return None


class Writable(Protocol):
    """Where a writer writes: a text file, or anything with its ``write``."""

    def write(self, text: str, /) -> object: ...


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, out: Writable) -> None:
        self._out = out
        self._writer = csv.writer(out, lineterminator=LINE_END)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows([safe_cell(v) for v in row] for row in rows)

    def writecolumns(self, columns: Iterable[Sequence[Any]]) -> None:
        """Rows given as columns of equal length (a table's chunk, transposed): the same
        text as :meth:`writerows` of its rows, checked and formatted a column at a time
        (:mod:`csv` itself takes ~50 times longer a row than joining texts does)."""
        cells = list(map(safe_column, columns))
        texts = list(map(csv_texts, cells)) if len(cells) > 1 else [None]
        if None in texts:  # a kind of value csv formats itself, or one column's empty rows
            self._writer.writerows(zip(*cells, strict=True))
        elif cells and cells[0]:
            lines = map(",".join, zip(*texts, strict=True))  # type: ignore[arg-type]
            self._out.write(LINE_END.join(lines) + LINE_END)


__all__ = ["FORMULA_STARTS", "SafeCsvWriter", "is_formula", "safe_cell", "safe_column"]
