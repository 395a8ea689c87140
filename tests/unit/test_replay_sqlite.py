"""A rebuild's SQLite partition files: private copies of the fresh read model, merged back
with every row once."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from services.gateway.replay_sqlite import merge, split, urls
from shared.storage import create_engine
from shared.storage.engine import sqlite_url


async def test_partition_files_are_private_copies_merged_back_once(tmp_path: Path) -> None:
    database = tmp_path / "rebuilt.db"
    engine = create_engine(sqlite_url(database))
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES ('kept', 0)"))
            await conn.commit()
            paths = await split(conn, str(database), 2)

            assert [stat.S_IMODE(p.stat().st_mode) for p in paths] == [0o600, 0o600]
            for n, url in enumerate(urls(paths)):
                part = create_engine(url)
                try:
                    async with part.begin() as write:
                        await write.execute(text(f"INSERT INTO t VALUES ('p{n}', {n + 1})"))
                finally:
                    await part.dispose()
            await merge(conn, paths)

            found = (await conn.execute(text("SELECT id, n FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in found] == [("kept", 0), ("p0", 1), ("p1", 2)]
            assert not any(p.exists() for p in paths)
    finally:
        await engine.dispose()
