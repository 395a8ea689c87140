"""A dataset's rows kept on disk, column by column, for the SPSS and Stata writers.

Both formats declare every string variable's width in their header, before the rows, so a
file cannot be written before every row has been seen. The rows are read once (a chunk at
a time, :func:`.stream.chunks`) and kept here, in a temporary file, as numpy arrays of a
chunk each: texts as UTF-8 bytes, numbers as doubles (missing: NaN), dates as days and UTC
times as microseconds since 1970. The widest text of each column is counted on the way;
the writers (:mod:`.stats_layout`) then read the chunks back one at a time. Memory holds a
chunk, never the dataset.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import numpy as np

from services.gateway.exports.dataset import Column, Dataset

NAT = np.iinfo(np.int64).min  # a missing UTC time among the microseconds
_EPOCH = datetime(1970, 1, 1)
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_MICROSECOND = timedelta(microseconds=1)


class NotInValueSet(ValueError):
    """A value the data dictionary does not list for its column (the dictionary is behind)."""


def kind(column: Column) -> str:
    """How the column is kept: ``code`` (a value set), ``text``, ``number``, ``date`` or
    ``timestamp``."""
    if column.values or column.regions:
        return "code"
    if column.type in ("string", "id"):
        return "text"
    if column.type in ("integer", "number", "boolean"):
        return "number"
    if column.type in ("date", "timestamp"):
        return column.type
    raise ValueError(f"{column.name}: no file type for {column.type!r}")  # pragma: no cover


def _texts(values: Sequence[Any]) -> np.ndarray:
    return np.array([b"" if v is None else str(v).encode("utf-8") for v in values], dtype=bytes)


def _days(values: Sequence[Any]) -> np.ndarray:
    return np.array(
        [np.nan if v is None else v.toordinal() - _EPOCH_DAY for v in values], dtype=np.float64
    )


def _microseconds(values: Sequence[Any]) -> np.ndarray:
    """UTC times (aware, or naive meaning UTC) as microseconds since 1970."""
    found = []
    for v in values:
        if v is None:
            found.append(NAT)
            continue
        if v.tzinfo is not None:
            v = v.astimezone(UTC).replace(tzinfo=None)
        found.append((v - _EPOCH) // _MICROSECOND)
    return np.array(found, dtype=np.int64)


@dataclass
class Spool:
    """The rows of ``dataset``, added a chunk at a time (:meth:`add`), read back by
    :meth:`chunks`; ``widths``: the widest text (bytes) of each column, at least 1."""

    dataset: Dataset
    directory: Path
    rows: int = 0
    widths: list[int] = field(default_factory=list)
    seen_regions: set[str] = field(default_factory=set)
    _file: IO[bytes] | None = None
    _chunks: int = 0

    def __post_init__(self) -> None:
        self.kinds = [kind(c) for c in self.dataset.columns]
        self.widths = [1] * len(self.kinds)
        self._allowed = [frozenset(c.values) for c in self.dataset.columns]

    def __enter__(self) -> Spool:
        self._file = tempfile.TemporaryFile(dir=self.directory, prefix=".spool-")
        return self

    def __exit__(self, *_: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        assert self._file is not None, "a Spool is used inside its with block"
        for i, values in enumerate(zip(*rows, strict=True)):
            column, how = self.dataset.columns[i], self.kinds[i]
            if how in ("code", "text"):
                if how == "code":
                    self._check(i, column, set(values) - {None})
                array = _texts(values)
                self.widths[i] = max(self.widths[i], array.dtype.itemsize)
            elif how == "number":
                array = np.array(values, dtype=np.float64)  # None: NaN; booleans 0/1
            elif how == "date":
                array = _days(values)
            else:
                array = _microseconds(values)
            np.save(self._file, array, allow_pickle=False)
        self.rows += len(rows)
        self._chunks += 1

    def _check(self, i: int, column: Column, seen: set[Any]) -> None:
        if column.regions:
            self.seen_regions |= seen
            return
        unknown = sorted(seen - self._allowed[i])
        if unknown:
            raise NotInValueSet(
                f"{self.dataset.name}.{column.name}: {', '.join(map(repr, unknown))} not in "
                f"the data dictionary's values ({', '.join(column.values)})"
            )

    def chunks(self) -> Iterator[list[np.ndarray]]:
        """The chunks as added: per chunk, one array per column."""
        assert self._file is not None, "a Spool is used inside its with block"
        self._file.seek(0)
        for _ in range(self._chunks):
            yield [np.load(self._file, allow_pickle=False) for _ in self.kinds]


__all__ = ["NAT", "NotInValueSet", "Spool", "kind"]
