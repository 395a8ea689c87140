"""A rebuild's SQLite partition files: private copies of the fresh read model, merged back
with every row once."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.gateway.orm import metadata
from services.gateway.replay import READ_DURING_LOAD, READ_FOR_FACTS
from services.gateway.replay_sqlite import adopt, merge, split, urls
from shared.storage import create_engine
from shared.storage.engine import sqlite_url


async def _kept_row(conn: AsyncConnection) -> None:
    """The read model before the split: table ``t`` with the row ('kept', 0)."""
    await conn.execute(text("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)"))
    await conn.execute(text("INSERT INTO t VALUES ('kept', 0)"))
    await conn.commit()


async def _one_row_in_each(paths: list[Path]) -> None:
    """Partition n gets the row ('pn', n + 1), as a worker writes its regions' rows."""
    for n, url in enumerate(urls(paths)):
        part = create_engine(url)
        try:
            async with part.begin() as write:
                await write.execute(text(f"INSERT INTO t VALUES ('p{n}', {n + 1})"))
        finally:
            await part.dispose()


async def test_partition_files_are_private_copies_merged_back_once(tmp_path: Path) -> None:
    database = tmp_path / "rebuilt.db"
    engine = create_engine(sqlite_url(database))
    try:
        async with engine.connect() as conn:
            await _kept_row(conn)
            paths = await split(conn, str(database), 2)

            assert [stat.S_IMODE(p.stat().st_mode) for p in paths] == [0o600, 0o600]
            await _one_row_in_each(paths)
            await merge(conn, paths)

            found = (await conn.execute(text("SELECT id, n FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in found] == [("kept", 0), ("p0", 1), ("p1", 2)]
            assert not any(p.exists() for p in paths)
    finally:
        await engine.dispose()


async def test_the_first_partition_adopted_as_the_read_model_and_the_rest_merged(
    tmp_path: Path,
) -> None:
    database = tmp_path / "rebuilt.db"
    engine = create_engine(sqlite_url(database))
    try:
        async with engine.connect() as conn:
            await _kept_row(conn)
            paths = await split(conn, str(database), 3)
        await engine.dispose()
        await _one_row_in_each(paths)

        adopt(paths[0], str(database))
        async with engine.connect() as conn:
            await merge(conn, paths[1:])
            found = (await conn.execute(text("SELECT id, n FROM t ORDER BY id"))).all()

        assert [tuple(r) for r in found] == [("kept", 0), ("p0", 1), ("p1", 2), ("p2", 3)]
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
        assert not any(p.exists() for p in paths)
    finally:
        await engine.dispose()


def test_the_indexes_a_partition_builds_for_its_facts_are_the_read_models() -> None:
    """A name that is not (or no longer) one of the read model's secondary indexes would
    leave a partition's facts reading whole tables."""
    secondary = {
        index.name
        for table in metadata.sorted_tables
        for index in table.indexes
        if not index.unique and index.name not in READ_DURING_LOAD
    }
    assert READ_FOR_FACTS - secondary == set()
