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

The rows are read once for every format asked for, kept in a temporary file
(:mod:`.spool`: both formats declare their texts' widths before the rows) and written a
chunk at a time after the metadata pyreadstat writes (:mod:`.stats_layout`): memory stays
flat whatever the size.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import textwrap
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.exports.dataset import Column, Dataset
from services.gateway.exports.spool import NotInValueSet, Spool
from services.gateway.exports.stats_layout import write_rows
from services.gateway.exports.stream import Progress, chunks
from services.gateway.orm import regions
from shared.files import open_private, private_dir

STATS_FORMATS = {"sav": "application/x-spss-sav", "dta": "application/x-stata-dta"}
STATA_NAME = 32  # characters of a Stata variable name
STATA_LABEL = 80  # bytes of a Stata variable (and file) label
SPSS_FILE_LABEL = 64  # bytes of an SPSS file label
SPSS_NOTE_LINE = 80  # bytes of a line of an SPSS file's document (note)
BOOLEAN_LABELS = {0: "false", 1: "true"}
# Stata 14's format (.dta release 118), read by Stata 14 and later; pyreadstat's default,
# release 119, references its long texts (strL) in a layout pandas reads differently
DTA_VERSION = 14


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


def labels(ds: Dataset, codes: dict[int, dict[str, int]]) -> dict[str, dict[int | float, str]]:
    """The value labels of the dataset's coded and boolean columns."""
    found: dict[str, dict[int | float, str]] = {}
    for i, col in enumerate(ds.columns):
        if i in codes:
            found[col.name] = {float(code): v for v, code in codes[i].items()}
        elif col.type == "boolean":
            found[col.name] = {float(k): v for k, v in BOOLEAN_LABELS.items()}
    return found


def template_frame(spool: Spool) -> Any:
    """One row as wide as the dataset's widest texts, typed as the file's variables: what
    pyreadstat writes the file's metadata from (:mod:`.stats_layout`)."""
    import pandas as pd

    data: dict[str, Any] = {}
    for col, how, width in zip(spool.dataset.columns, spool.kinds, spool.widths, strict=True):
        if how == "text":
            data[col.name] = ["x" * width]
        elif how == "date":
            data[col.name] = [date(1970, 1, 1)]
        elif how == "timestamp":
            data[col.name] = pd.Series([datetime(1970, 1, 1)]).astype("datetime64[us]")
        else:
            data[col.name] = pd.array([1.0], dtype="float64")
    return pd.DataFrame(data)


def write_frame(
    ds: Dataset,
    df: Any,
    value_labels: dict[str, dict[int | float, str]],
    fmt: str,
    path: Path,
    note: str,
) -> None:
    """pyreadstat's file of the frame ``df`` of ``ds``'s columns, labelled from the data
    dictionary (the export writes its template so: :func:`template_frame`)."""
    import pyreadstat

    dates = [c.name for c in ds.columns if c.type == "date"]
    meanings: dict[str, str | None] = {c.name: c.meaning for c in ds.columns}
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
            version=DTA_VERSION,
        )


async def write_stats_files(
    sessions: async_sessionmaker[AsyncSession],
    ds: Dataset,
    query: Select[Any],
    targets: dict[str, Path],
    progress: Progress | None = None,
    note: str = "",
) -> dict[str, tuple[int, str]]:
    """Write ``ds`` once per format of ``targets`` (sav | dta: path), reading its rows
    once; per format, its rows and the file's SHA-256. Memory holds a chunk of rows: the
    rows wait in a temporary file beside the first target (:class:`.spool.Spool`)."""
    for fmt in targets:
        if fmt not in STATS_FORMATS:
            raise ValueError(f"unknown statistics format {fmt!r}: choose sav or dta")
    directory = next(iter(targets.values())).parent
    private_dir(directory, tighten=False)
    done: dict[str, tuple[int, str]] = {}
    with Spool(ds, directory) as spool:
        async for chunk in chunks(sessions, ds, query, progress):
            spool.add(chunk)
        async with sessions() as session:
            known = await region_ids(session)
        codes = {
            i: value_codes(c, known, spool.seen_regions)
            for i, c in enumerate(ds.columns)
            if c.values or c.regions
        }
        for fmt, path in targets.items():
            with tempfile.TemporaryDirectory(dir=directory, prefix=".template-") as tmp:
                template = Path(tmp) / f"template.{fmt}"
                frame = template_frame(spool)
                write_frame(ds, frame, labels(ds, codes), fmt, template, note)
                with open_private(path, "wb") as out:  # 0600 before any data reaches it
                    write_rows(fmt, spool, template, codes, out)
            done[fmt] = (spool.rows, sha256_of(path))
    return done


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
    done = await write_stats_files(sessions, ds, query, {fmt: path}, progress, note)
    return done[fmt]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as done:
        for block in iter(lambda: done.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = [
    "STATS_FORMATS",
    "NotInValueSet",
    "cut",
    "labels",
    "note_lines",
    "stata_name",
    "value_codes",
    "write_frame",
    "write_stats",
    "write_stats_files",
]
