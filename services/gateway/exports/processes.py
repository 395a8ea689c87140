"""``mgn export --all`` with its datasets written by several processes at once.

One process formats rows at about the speed its database connection reads them, so on a
machine with more than one core the package is written in about the time of its largest
datasets instead of all of them one after another. Each worker (a spawned process, so
nothing of the caller's event loop or connections is shared) opens the database by its URL
and writes whole datasets (:func:`.package.write_dataset`), the largest first; the caller
gets back each file's rows, bytes and SHA-256 in the order it asked for them. Memory: each
worker holds one dataset's chunk at a time, as a single process does, so the peak is
``jobs`` times one process's.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from services.gateway.auth.guard import Guard
from services.gateway.exports.package import Written

# the datasets that take longest at the size of the nation (measured, bench/README.md),
# started first so that no worker is left with a big one at the end
LARGEST_FIRST = ("group_health", "attendance", "activities", "meetings", "cop_activity_table")

# a file as the worker reports it: path, format, rows, bytes, SHA-256
Report = tuple[str, str, int, int, str]


async def write_in_processes(
    url: str,
    guard: Guard,
    region: str | None,
    names: list[str],
    directory: Path,
    also: tuple[str, ...],
    note: str,
    jobs: int,
    progress: Callable[[str, int], None] | None = None,
) -> list[Written]:
    """The datasets ``names`` (the guard allows them) written by ``jobs`` processes."""
    from services.gateway.exports.registry import DATASETS

    order = sorted(names, key=lambda n: LARGEST_FIRST.index(n) if n in LARGEST_FIRST else 99)
    loop = asyncio.get_running_loop()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(order) or 1), mp_context=spawn) as pool:
        futures = {
            name: loop.run_in_executor(
                pool, _write_one, url, guard, region, name, str(directory), also, note
            )
            for name in order
        }
        for done in asyncio.as_completed(list(futures.values())):
            name, main, _ = await done
            if progress is not None:
                progress(name, main[2])
        reports = {name: future.result() for name, future in futures.items()}
    files = []
    for name in names:
        _, main, others = reports[name]
        ds = DATASETS[name]
        written = Written(ds, Path(main[0]), main[1], main[2], main[3], main[4])
        alternates = tuple(Written(ds, Path(o[0]), o[1], o[2], o[3], o[4]) for o in others)
        files.append(replace(written, also=alternates))
    return files


def _write_one(
    url: str,
    guard: Guard,
    region: str | None,
    name: str,
    directory: str,
    also: tuple[str, ...],
    note: str,
) -> tuple[str, Report, list[Report]]:
    """In a worker: one dataset's files, reported as plain values."""
    return name, *asyncio.run(_write(url, guard, region, name, Path(directory), also, note))


async def _write(
    url: str,
    guard: Guard,
    region: str | None,
    name: str,
    directory: Path,
    also: tuple[str, ...],
    note: str,
) -> tuple[Report, list[Report]]:
    from services.gateway.exports.package import write_dataset
    from services.gateway.exports.registry import DATASETS
    from services.gateway.exports.stream import scoped
    from shared.storage import create_engine, session_factory

    ds = DATASETS[name]
    # read only: with BEGIN IMMEDIATE (the default) each worker's transaction would take
    # SQLite's write lock for a whole dataset and the others would wait for it
    engine = create_engine(url, sqlite_immediate=False)
    try:
        w = await write_dataset(
            session_factory(engine), ds, scoped(ds, guard, region), directory, also, note
        )
    finally:
        await engine.dispose()
    return _report(w), [_report(a) for a in w.also]


def _report(w: Written) -> Report:
    return (str(w.path), w.fmt, w.rows, w.bytes, w.sha256)
