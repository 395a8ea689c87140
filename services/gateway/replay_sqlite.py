"""A rebuild's SQLite files: one per partition while loading, merged into the new read model.

SQLite lets one process write a file at a time: partitions loading into the same file
would take turns for the whole of each batch's projection. So each partition loads into a
file of its own, a copy of the fresh read model (:func:`split`: its schema, the rows
migrations and the copied tables left); the first becomes the read model (:func:`adopt`)
and :func:`merge` copies the others' rows into it in SQLite's own code
(``INSERT ... SELECT``). The partitions' rows are disjoint (each
holds whole regions, :mod:`services.gateway.replay_partition`); the rows every copy started
with (the migrations' rows, the tables copied from the serving read model) are already in
the read model and are kept once (``OR IGNORE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.files import private_file
from shared.storage.engine import sqlite_url


async def split(conn: AsyncConnection, database: str, parts: int) -> list[Path]:
    """``parts`` new files next to ``database``, each a copy of it as it is now (0600, as
    the read model: they hold its copied access tokens and panel secrets too)."""
    driver = await _driver(conn)
    paths = [Path(f"{database}.part{i}") for i in range(parts)]
    for path in paths:
        _remove(path)
        private_file(path)  # empty: VACUUM INTO fills an empty file, keeping its mode
        await driver.execute("VACUUM INTO ?", (str(path),))
    return paths


def urls(paths: list[Path]) -> list[str]:
    return [sqlite_url(path) for path in paths]


async def merge(conn: AsyncConnection, paths: list[Path]) -> None:
    """Copy every table's rows of the files at ``paths`` into ``conn``'s database, then
    delete the files."""
    driver = await _driver(conn)
    for path in paths:
        await driver.execute("ATTACH DATABASE ? AS part", (str(path),))
        try:
            cursor = await driver.execute(
                "SELECT name FROM part.sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            tables = [name for (name,) in await cursor.fetchall()]
            await driver.execute("BEGIN IMMEDIATE")
            for table in tables:
                await driver.execute(
                    f'INSERT OR IGNORE INTO main."{table}" SELECT * FROM part."{table}"'
                )
            await driver.execute("COMMIT")
        finally:
            await driver.execute("DETACH DATABASE part")
        _remove(path)


def adopt(path: Path, database: str) -> None:
    """Make the partition file at ``path`` the read model at ``database`` (both closed):
    it began as a copy of it, so it holds every row the read model has, and its own; the
    other partitions are then merged into it (half the copying with two)."""
    _remove(Path(database))
    for suffix in ("", "-wal"):  # a WAL left behind (none after a clean close) goes along
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{database}{suffix}")
    _remove(path)


async def durable(conn: AsyncConnection, database: str | None) -> None:
    """Back to the gateway's settings (WAL, synchronous=NORMAL) once loaded, and the file
    on disk."""
    driver = await _driver(conn)
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"):
        await driver.execute(pragma)
    if database:
        await asyncio.to_thread(_fsync, database)


def _fsync(database: str) -> None:
    for name in (database, f"{database}-wal"):
        with contextlib.suppress(FileNotFoundError), open(name, "rb+") as f:
            os.fsync(f.fileno())


async def _driver(conn: AsyncConnection) -> Any:
    raw = await conn.get_raw_connection()
    return raw.driver_connection


def _remove(path: Path) -> None:
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        name.unlink(missing_ok=True)
