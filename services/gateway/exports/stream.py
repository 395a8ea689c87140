"""Streaming a dataset as CSV or JSON lines, a chunk of rows at a time.

CSV cells a spreadsheet would take for a formula are neutralised (:mod:`shared.csv_out`);
JSON lines carry the values as they are. Memory stays flat whatever the size: rows come
from a server-side cursor (``AsyncSession.stream`` with ``yield_per``) and leave as text
chunks.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import attrgetter
from types import NoneType
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.auth.guard import AccessDenied, Guard, Level, Role
from services.gateway.auth.sql import visible
from services.gateway.exports.registry import Dataset
from services.gateway.exports.stored_times import TEMPORAL, iso_column, stored_text
from shared.csv_out import SafeCsvWriter

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
CHUNK = 2000  # rows per fetch and per piece of output
# rows of a computed view's select per ``expand`` call, each expanded to a few rows per
# group (group_health: one per member, streaks computed in SQL), held at once
EXPAND_CHUNK = 200

Progress = Callable[[int], None]


class BadFormat(ValueError):
    pass


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise BadFormat(f"unknown format {fmt!r}: choose csv, jsonl, sav or dta")
    return fmt


def scoped(dataset: Dataset, guard: Guard, region: str | None = None) -> Select[Any]:
    """The dataset's query as the caller may run it; :class:`AccessDenied` if it may not."""
    what = f"the {dataset.name} export"
    if dataset.researchers_only and guard.role is not Role.RESEARCHER:
        raise AccessDenied(
            f"forbidden: {what} is of the researchers' coding workspace; a token of "
            f"{guard.describe()} cannot read it."
        )
    if dataset.totals is not None:  # a research view: the nation's totals or one region's
        guard.require(dataset.national if region is None else dataset.level, region, what)
        return dataset.totals(region, guard.reads_texts(region))
    if dataset.region is None:
        guard.require(dataset.level, None, what)
        return dataset.query
    if region is not None:
        guard.require(dataset.level, region, what)
    elif guard.regions_at(dataset.level) == frozenset():
        raise AccessDenied(guard.refusal(dataset.level, None, what))
    query = dataset.query.where(*visible(guard, dataset.region, dataset.level))
    if region is not None:
        query = query.where(dataset.region == region)
    return query


# what :func:`_plain` returns as it is
_AS_IS = frozenset({str, int, float, bool, NoneType})
_tzinfo = attrgetter("tzinfo")


def _plain_column(values: Sequence[Any], kind: str) -> Sequence[Any]:
    """:func:`_plain` of every value of a column of the dictionary's type ``kind``; a
    column of texts or numbers as it is, dates and UTC times (as the database types give
    them, or as SQLite's stored texts: :mod:`.stored_times`) as ISO texts in one pass."""
    if kind in TEMPORAL:
        iso = iso_column(values, kind)
        if iso is not None:
            return iso
    kinds = set(map(type, values))
    if kinds <= _AS_IS:
        return values
    if kinds <= {date, NoneType} or (
        kinds <= {datetime, NoneType} and set(map(_tzinfo, filter(None, values))) <= {UTC}
    ):
        return [None if v is None else v.isoformat() for v in values]
    return list(map(_plain, values))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


async def stream(
    sessions: async_sessionmaker[AsyncSession],
    dataset: Dataset,
    fmt: str,
    query: Select[Any],
    progress: Progress | None = None,
) -> AsyncIterator[str]:
    """The export as text pieces: CSV with a header line, or one JSON object a line."""
    check_format(fmt)
    names = dataset.column_names
    buffer = _Pieces()
    writer = SafeCsvWriter(buffer)  # formulas neutralised (shared/csv_out.py)
    if fmt == "csv":
        writer.writerow(names)
        yield buffer.take()
    kinds = [c.type for c in dataset.columns]
    line = json_template(names)
    async for rows in chunks(sessions, dataset, query, progress, stored_times=True):
        if not rows:
            continue
        columns = list(map(_plain_column, zip(*rows, strict=True), kinds))
        if fmt == "csv":
            writer.writecolumns(columns)
            yield buffer.take()
        else:
            yield json_lines(line, columns)


async def chunks(
    sessions: async_sessionmaker[AsyncSession],
    dataset: Dataset,
    query: Select[Any],
    progress: Progress | None = None,
    *,
    stored_times: bool = False,
) -> AsyncIterator[list[Sequence[Any]]]:
    """The exported rows (values as the database gives them), a chunk at a time; with
    ``stored_times``, on SQLite, a streamed dataset's dates and times as the texts stored
    (:func:`.stored_times.stored_text`: ISO texts made of them a column at a time)."""
    total = 0
    async with sessions() as session:
        partitions: Any
        if dataset.collect is not None or dataset.expand is not None:
            # computed views: their select is small (grouped rows, or one row per group);
            # read it whole, so ``expand`` may query through the same session
            everything = list((await session.execute(query)).all())
            if dataset.collect is not None:
                everything = dataset.collect(everything)  # type: ignore[assignment]
            partitions = _pieces(everything, EXPAND_CHUNK if dataset.expand else 500)
        else:
            if stored_times and session.get_bind().dialect.name == "sqlite":
                query = stored_text(query, dataset)
            result = await session.stream(query.execution_options(yield_per=CHUNK))
            partitions = result.partitions(CHUNK)
        async for rows in partitions:
            if dataset.expand is not None:
                rows = await dataset.expand(session, list(rows))
            if dataset.derive is not None:
                rows = [dataset.derive(row) for row in rows]
            total += len(rows)
            yield list(rows)
            if progress is not None:
                progress(total)


async def _pieces(rows: list[Any], size: int) -> AsyncIterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# what ``json.dumps(..., ensure_ascii=False)`` escapes in a text
_JSON_ESCAPE = re.compile(r'[\x00-\x1f\\"]')
_json_value = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_template(names: Sequence[str]) -> str:
    """A JSON line of ``names`` with a ``%s`` for each value's JSON text."""
    return "{" + ",".join(f"{_json_value(n)}:%s" for n in names) + "}\n"


def _json_column(values: Sequence[Any]) -> Sequence[str]:
    """Each value's JSON text, as ``json.dumps`` writes it: a column of texts none of which
    needs escaping, of integers, of booleans or of finite floats in one pass; anything
    else value by value."""
    kinds = set(map(type, values))
    if kinds <= {str, NoneType}:
        if not _JSON_ESCAPE.search("".join(v for v in values if v is not None)):
            return ["null" if v is None else f'"{v}"' for v in values]
    elif kinds <= {int, NoneType}:
        return ["null" if v is None else str(v) for v in values]
    elif kinds <= {bool, NoneType}:
        return ["null" if v is None else ("true" if v else "false") for v in values]
    elif kinds <= {float, NoneType} and all(map(math.isfinite, filter(None, values))):
        return ["null" if v is None else float.__repr__(v) for v in values]
    return [_json_value(_plain(v)) for v in values]


def json_lines(template: str, columns: Sequence[Sequence[Any]]) -> str:
    """The rows of ``columns`` (values as :func:`_plain_column` gives them) as JSON lines,
    the same text as ``json.dumps`` of each row's record (tests/unit/test_json_lines.py)."""
    texts = [_json_column(c) for c in columns]
    return "".join(template % row for row in zip(*texts, strict=True))


class _Pieces:
    """What the CSV writer writes, kept as pieces until taken (a StringIO emptied for the
    next chunk would copy every text into a wider buffer and back)."""

    def __init__(self) -> None:
        self._pieces: list[str] = []

    def write(self, text: str) -> int:
        self._pieces.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self._pieces)
        self._pieces.clear()
        return text


__all__ = ["CHUNK", "FORMATS", "BadFormat", "Level", "check_format", "chunks", "scoped", "stream"]
