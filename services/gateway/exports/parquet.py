"""Parquet files of a dataset (``mgn export NAME --format parquet --out FILE``), typed by
the data dictionary, written a chunk of rows at a time (one row group per chunk), so memory
stays flat. Needs pyarrow (``pip install 'mgn[parquet]'``)."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.exports.dataset import Dataset
from services.gateway.exports.stream import Progress, chunks

MISSING = "Parquet needs pyarrow: pip install 'mgn[parquet]'"


def _plain(values: Any) -> list[Any]:
    return [float(v) if isinstance(v, Decimal) else v for v in values]


def arrow_schema(ds: Dataset) -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "id": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema(
        [pa.field(c.name, types[c.type], metadata={"meaning": c.meaning}) for c in ds.columns],
        metadata={"dataset": ds.name, "description": ds.description},
    )


async def write_parquet(
    sessions: async_sessionmaker[AsyncSession],
    ds: Dataset,
    query: Select[Any],
    path: Path,
    progress: Progress | None = None,
    extra: dict[str, str] | None = None,
) -> tuple[int, str]:
    """Write ``ds`` to ``path``; return its rows and the file's SHA-256."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise RuntimeError(MISSING) from None
    from shared.files import open_private

    schema = arrow_schema(ds)
    if extra:
        schema = schema.with_metadata({**(schema.metadata or {}), **extra})
    rows = 0
    with open_private(path, "wb") as out, pq.ParquetWriter(out, schema) as writer:
        async for chunk in chunks(sessions, ds, query, progress):
            if not chunk:
                continue
            columns: list[Any] = list(zip(*chunk, strict=True))
            writer.write_table(
                pa.Table.from_arrays(
                    [
                        pa.array(list(col), type=f.type)
                        for col, f in zip(columns, schema, strict=True)
                    ],
                    schema=schema,
                )
            )
            rows += len(chunk)
    digest = hashlib.sha256()
    with path.open("rb") as done:
        for block in iter(lambda: done.read(1 << 20), b""):
            digest.update(block)
    return rows, digest.hexdigest()
