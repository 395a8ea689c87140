"""SPSS ``.sav`` and Stata ``.dta`` files of a dataset (pyreadstat), labelled from its data
dictionary (:mod:`services.gateway.exports.dataset`):

* variable labels: each column's meaning (Stata keeps at most 80 bytes of a label: longer
  meanings are cut there, with an ellipsis);
* value labels: a column with a value set (a status, an activity type, membership changes,
  growth intentions) is written as the codes 1..n of its values in the dictionary's order,
  labelled with the values; region columns are coded by the region ids of the ``regions``
  table (sorted, so a region has the same code in every file of one snapshot, ids not in it
  after them); booleans are 0/1 labelled ``false``/``true``;
* dates are dates, timestamps are date-times in UTC (SPSS and Stata keep no time zone),
  integers and numbers are numeric (missing: system missing), texts are strings (a missing
  text is an empty string, as in the CSV);
* Stata's variable names (at most 32 characters, letters, digits and ``_``, not starting
  with a digit) are made from the column names, unique; the dictionary's are all valid
  already, so in practice they are the same.

Both formats are written whole (pyreadstat takes a data frame): the rows are read a chunk
at a time but held in memory as columns until the file is written.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.exports.dataset import Column, Dataset
from services.gateway.exports.stream import Progress, chunks
from services.gateway.orm import regions

STATS_FORMATS = {"sav": "application/x-spss-sav", "dta": "application/x-stata-dta"}
STATA_NAME = 32  # characters of a Stata variable name
STATA_LABEL = 80  # bytes of a Stata variable (and file) label
SPSS_FILE_LABEL = 64  # bytes of an SPSS file label
SPSS_NOTE_LINE = 80  # bytes of a line of an SPSS file's document (note)
BOOLEAN_LABELS = {0: "false", 1: "true"}


class NotInValueSet(ValueError):
    """A value the data dictionary does not list for its column (the dictionary is behind)."""


def stata_name(name: str, taken: set[str]) -> str:
    """``name`` as a Stata variable name, unique among ``taken`` (which it joins)."""
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name) or "v"
    if clean[0].isdigit():
        clean = "_" + clean
    clean = clean[:STATA_NAME]
    found, n = clean, 1
    while found.lower() in taken:
        n += 1
        suffix = f"_{n}"
        found = clean[: STATA_NAME - len(suffix)] + suffix
    taken.add(found.lower())
    return found


def cut(text: str, limit: int = STATA_LABEL) -> str:
    """``text`` cut to ``limit`` bytes (UTF-8) on a character boundary, with an ellipsis."""
    if len(text.encode("utf-8")) <= limit:
        return text
    short = text
    while len((short + "…").encode("utf-8")) > limit:
        short = short[:-1]
    return short.rstrip() + "…"


def note_lines(*texts: str) -> list[str]:
    """``texts`` as SPSS document lines (at most 80 bytes each)."""
    lines: list[str] = []
    for text in texts:
        width = SPSS_NOTE_LINE
        while True:
            wrapped = textwrap.wrap(text, width) or [""]
            if all(len(line.encode("utf-8")) <= SPSS_NOTE_LINE for line in wrapped):
                break
            width -= 8
        lines += wrapped
    return [line for line in lines if line]


async def region_ids(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(regions.c.id).order_by(regions.c.id)))


def value_codes(column: Column, known_regions: Sequence[str], seen: set[str]) -> dict[str, int]:
    """The codes 1..n of the column's value set (regions: the known ids, then ``seen``)."""
    if column.regions:
        values = [*known_regions, *sorted(seen - set(known_regions))]
    else:
        values = list(column.values)
    return {v: i for i, v in enumerate(values, 1)}


def _moment(value: datetime) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(tzinfo=None)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    return float(value)


def frame(ds: Dataset, columns: list[list[Any]], known_regions: Sequence[str]) -> Any:
    """The dataset's columns of values as a data frame for pyreadstat, and its value labels."""
    import pandas as pd

    data: dict[str, Any] = {}
    labels: dict[str, dict[int | float, str]] = {}
    for col, values in zip(ds.columns, columns, strict=True):
        if col.values or col.regions:
            seen = {v for v in values if v is not None}
            codes = value_codes(col, known_regions, seen)
            unknown = sorted(seen - set(codes))
            if unknown:
                raise NotInValueSet(
                    f"{ds.name}.{col.name}: {', '.join(map(repr, unknown))} not in the data "
                    f"dictionary's values ({', '.join(col.values)})"
                )
            data[col.name] = pd.array(
                [None if v is None else float(codes[v]) for v in values], dtype="float64"
            )
            labels[col.name] = {float(code): v for v, code in codes.items()}
        elif col.type in ("string", "id"):
            data[col.name] = ["" if v is None else str(v) for v in values]
        elif col.type in ("integer", "number"):
            data[col.name] = pd.array([_number(v) for v in values], dtype="float64")
        elif col.type == "boolean":
            data[col.name] = pd.array(
                [None if v is None else float(bool(v)) for v in values], dtype="float64"
            )
            labels[col.name] = {float(k): v for k, v in BOOLEAN_LABELS.items()}
        elif col.type == "date":
            if any(v is not None for v in values):  # date objects: a date variable
                data[col.name] = list(values)
            else:  # no date to tell the type by: missing date-times, with a date format below
                data[col.name] = pd.Series([pd.NaT] * len(values), dtype="datetime64[us]")
        elif col.type == "timestamp":
            data[col.name] = pd.to_datetime(
                [None if v is None else _moment(v) for v in values]
            ).astype("datetime64[us]")
        else:  # pragma: no cover - the dictionary's types are closed
            raise ValueError(f"{ds.name}.{col.name}: no file type for {col.type!r}")
    return pd.DataFrame(data), labels


async def write_stats(
    sessions: async_sessionmaker[AsyncSession],
    ds: Dataset,
    query: Select[Any],
    path: Path,
    fmt: str,
    progress: Progress | None = None,
    note: str = "",
) -> tuple[int, str]:
    """Write ``ds`` as ``fmt`` (sav | dta) to ``path``; return its rows and SHA-256."""
    import pyreadstat

    from shared.files import open_private

    if fmt not in STATS_FORMATS:
        raise ValueError(f"unknown statistics format {fmt!r}: choose sav or dta")
    columns: list[list[Any]] = [[] for _ in ds.columns]
    async for chunk in chunks(sessions, ds, query, progress):
        for row in chunk:
            for values, value in zip(columns, row, strict=True):
                values.append(value)
    async with sessions() as session:
        known = await region_ids(session)
    df, value_labels = frame(ds, columns, known)
    dates = [c.name for c in ds.columns if c.type == "date"]
    rows = len(df)
    del columns
    meanings: dict[str, str | None] = {c.name: c.meaning for c in ds.columns}
    with open_private(path, "wb"):  # 0600 before any data reaches it
        pass
    if fmt == "sav":
        pyreadstat.write_sav(
            df,
            str(path),
            file_label=cut(ds.description, SPSS_FILE_LABEL),
            column_labels=meanings,
            note=note_lines(ds.description, note),
            variable_value_labels=value_labels,
            variable_format=dict.fromkeys(dates, "DATE11"),
        )
    else:
        taken: set[str] = set()
        names = {c.name: stata_name(c.name, taken) for c in ds.columns}
        df = df.rename(columns=names)
        pyreadstat.write_dta(
            df,
            str(path),
            file_label=cut(ds.description),
            column_labels={names[k]: cut(v or "") for k, v in meanings.items()},
            variable_value_labels={names[k]: v for k, v in value_labels.items()},
            variable_format={names[k]: "%td" for k in dates},
        )
    digest = hashlib.sha256()
    with path.open("rb") as done:
        for block in iter(lambda: done.read(1 << 20), b""):
            digest.update(block)
    return rows, digest.hexdigest()
