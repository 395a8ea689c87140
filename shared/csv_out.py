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
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TextIO

FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


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


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows([safe_cell(v) for v in row] for row in rows)


__all__ = ["FORMULA_STARTS", "SafeCsvWriter", "is_formula", "safe_cell"]
