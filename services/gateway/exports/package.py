"""Export files with their SHA-256, and ``--all``: every dataset the caller may read plus a
Frictionless Data Package descriptor (``datapackage.json``) naming the snapshot.

Each resource's ``schema`` is its data dictionary (:mod:`services.gateway.exports.registry`)
as Table Schema fields; its ``hash`` is ``sha256:<hex>`` of the file's bytes. The snapshot
(:mod:`services.gateway.snapshot`) is read before any rows: the rows are at least that new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.gateway.auth.guard import AccessDenied, Guard
from services.gateway.exports.dataset import Column
from services.gateway.exports.registry import DATASETS, Dataset
from services.gateway.exports.stats import STATS_FORMATS, write_stats_files
from services.gateway.exports.stream import FORMATS, scoped, stream
from services.gateway.snapshot import Snapshot, current
from shared.files import open_private

DESCRIPTOR = "datapackage.json"
# the formats ``--all`` writes beside each CSV when asked (``--also``): their media types
ALSO = {
    **STATS_FORMATS,
    "jsonl": FORMATS["jsonl"],
    "parquet": "application/vnd.apache.parquet",
}
# the data dictionary's types as Table Schema types (ids are pseudonymous texts)
TABLE_SCHEMA_TYPES = {
    "string": "string",
    "id": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "datetime",
}


@dataclass(frozen=True)
class Written:
    dataset: Dataset
    path: Path | None  # None: written to a stream (standard output)
    fmt: str
    rows: int
    bytes: int
    sha256: str
    # the same rows in other formats (``--also sav dta``), listed in the resource
    also: tuple[Written, ...] = ()


async def write(
    sessions: async_sessionmaker[AsyncSession],
    ds: Dataset,
    fmt: str,
    query: Select[Any],
    out: IO[bytes],
    progress: Callable[[int], None] | None = None,
    path: Path | None = None,
) -> Written:
    """Stream ``ds`` to ``out`` as UTF-8, hashing what goes out."""
    digest, size, rows = hashlib.sha256(), 0, [0]

    def counted(n: int) -> None:
        rows[0] = n
        if progress is not None:
            progress(n)

    async for piece in stream(sessions, ds, fmt, query, counted):
        data = piece.encode("utf-8")
        digest.update(data)
        size += len(data)
        out.write(data)
    return Written(ds, path, fmt, rows[0], size, digest.hexdigest())


def sha256_line(written: Written) -> str:
    """A line ``sha256sum --check`` reads."""
    name = written.path.name if written.path is not None else "-"
    return f"{written.sha256}  {name}\n"


def field(c: Column) -> dict[str, Any]:
    """A Table Schema field of the column; its value set (if any) as an enum constraint."""
    found: dict[str, Any] = {
        "name": c.name,
        "type": TABLE_SCHEMA_TYPES[c.type],
        "description": c.meaning,
    }
    if c.values:
        found["constraints"] = {"enum": list(c.values)}
    return found


def schema(ds: Dataset) -> dict[str, Any]:
    return {"fields": [field(c) for c in ds.columns]}


def resource(written: Written) -> dict[str, Any]:
    assert written.path is not None
    ds = written.dataset
    return {
        "name": ds.name,
        "path": written.path.name,
        "profile": "tabular-data-resource",
        "format": written.fmt,
        "mediatype": FORMATS[written.fmt].split(";")[0],
        "encoding": "utf-8",
        "description": ds.description,
        "hash": f"sha256:{written.sha256}",
        "bytes": written.bytes,
        "rows": written.rows,
        "schema": schema(ds),
        **(
            {
                "mgn:alternates": [
                    {
                        "path": a.path.name,
                        "format": a.fmt,
                        "mediatype": ALSO[a.fmt],
                        "hash": f"sha256:{a.sha256}",
                        "bytes": a.bytes,
                        "rows": a.rows,
                    }
                    for a in written.also
                    if a.path is not None
                ]
            }
            if written.also
            else {}
        ),
    }


def descriptor(snapshot: Snapshot, files: list[Written], refused: list[str]) -> dict[str, Any]:
    seq = snapshot.sequence
    return {
        "profile": "tabular-data-package",
        "name": f"mgn-national-{snapshot.stream.lower()}-{seq}",
        "title": "MicroENTRE Growth Network: pseudonymous national datasets",
        "description": f"The national read model at {snapshot.stream} stream sequence {seq} "
        f"(applied {snapshot.time or 'never'}). Ids are pseudonyms; survey means only "
        "where at least 3 answered."
        + (
            f" Not included (not allowed for the exporting role): {', '.join(refused)}."
            if refused
            else ""
        ),
        "created": datetime.now(UTC).isoformat(),
        "version": str(seq),
        "mgn:snapshot": snapshot.as_dict(),
        "resources": [resource(w) for w in files],
    }


async def write_dataset(
    sessions: async_sessionmaker[AsyncSession],
    ds: Dataset,
    query: Select[Any],
    directory: Path,
    also: tuple[str, ...] = (),
    note: str = "",
    progress: Callable[[int], None] | None = None,
) -> Written:
    """``ds`` as ``directory/<name>.csv`` and as each format of ``also`` (:data:`ALSO`);
    every file streamed, memory flat."""
    path = directory / f"{ds.name}.csv"
    with open_private(path, "wb") as out:
        written = await write(sessions, ds, "csv", query, out, progress, path)
    targets = {fmt: directory / f"{ds.name}.{fmt}" for fmt in dict.fromkeys(also)}
    done: dict[str, tuple[int, str]] = {}
    stats = {fmt: p for fmt, p in targets.items() if fmt in STATS_FORMATS}
    if stats:  # the rows read once for both (exports/stats.py)
        done.update(await write_stats_files(sessions, ds, query, stats, note=note))
    if "jsonl" in targets:
        with open_private(targets["jsonl"], "wb") as out:
            lines = await write(sessions, ds, "jsonl", query, out)
        done["jsonl"] = (lines.rows, lines.sha256)
    if "parquet" in targets:
        from services.gateway.exports.parquet import write_parquet

        extra = {"mgn:snapshot": note}
        done["parquet"] = await write_parquet(sessions, ds, query, targets["parquet"], None, extra)
    others = []
    for fmt, other in targets.items():
        rows, digest = done[fmt]
        others.append(Written(ds, other, fmt, rows, other.stat().st_size, digest))
    return replace(written, also=tuple(others))


async def write_all(
    sessions: async_sessionmaker[AsyncSession],
    guard: Guard,
    directory: Path,
    region: str | None = None,
    progress: Callable[[str, int], None] | None = None,
    also: tuple[str, ...] = (),
    jobs: int = 1,
) -> tuple[Snapshot, Path, list[Written], list[str]]:
    """Every dataset ``guard`` may read as CSV into ``directory`` (and as each format of
    ``also``: sav, dta, jsonl, parquet), then ``datapackage.json``; returns the snapshot,
    the descriptor's path, the files and the datasets refused. ``jobs`` > 1: the datasets
    are written by that many processes at once (:mod:`.processes`), each reading the
    database itself."""
    async with sessions() as session:
        snap = await current(session)
    note = f"snapshot: {snap.stream} stream sequence {snap.sequence} ({snap.time or 'never'})"
    allowed: dict[str, Select[Any]] = {}
    refused: list[str] = []
    for ds in DATASETS.values():
        try:
            allowed[ds.name] = scoped(ds, guard, region)
        except AccessDenied:
            refused.append(ds.name)
    url = database_url(sessions) if jobs > 1 else None
    if url is not None:
        from services.gateway.exports.processes import write_in_processes

        files = await write_in_processes(
            url, guard, region, list(allowed), directory, also, note, jobs, progress
        )
    else:
        files = []
        for name, query in allowed.items():
            step = None if progress is None else (lambda n, name=name: progress(name, n))
            ds = DATASETS[name]
            files.append(await write_dataset(sessions, ds, query, directory, also, note, step))
    target = directory / DESCRIPTOR
    with open_private(target, "wb") as out:
        text = json.dumps(descriptor(snap, files, refused), ensure_ascii=False, indent=2)
        out.write((text + "\n").encode("utf-8"))
    return snap, target, files, refused


def database_url(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    """The URL another process can open the sessions' database with (None: it cannot,
    e.g. an in-memory SQLite database or sessions bound to a connection)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        return None
    url = bind.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)
