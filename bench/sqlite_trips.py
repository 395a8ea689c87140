"""CPU per small SQL statement on SQLite: the project's driver (one trip to aiosqlite's
thread per statement, shared/storage/sqlite_driver.py) against SQLAlchemy's own aiosqlite
adapter (3-4 trips: cursor, execute, fetch, close).

    python bench/sqlite_trips.py [--statements 3000] [--repeat 3]

Each run: a fresh SQLite file through ``shared.storage.create_engine``, then transactions of
one indexed SELECT and one UPDATE (as a request's or a small batch's statements are);
after a warm-up of each, prints process CPU (``time.process_time``, aiosqlite's thread
included) per statement, BEGIN and COMMIT included, and the load average. The two drivers
alternate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import text
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.storage import create_engine, session_factory


async def per_statement(one_trip: bool, statements: int) -> float:
    """CPU µs per statement."""
    kwargs: dict[str, Any] = {}
    if not one_trip:
        kwargs["module"] = AsyncAdapt_aiosqlite_dbapi(aiosqlite, sqlite3)
    engine = create_engine(f"sqlite:///{tempfile.mkdtemp()}/trips.db", **kwargs)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
            await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
        sessions = session_factory(engine)
        started = time.process_time()
        for i in range(statements // 2):
            async with sessions() as session, session.begin():
                await session.execute(text("SELECT v FROM t WHERE id = 1"))
                await session.execute(text("UPDATE t SET v = :v WHERE id = 1"), {"v": str(i)})
        return 1e6 * (time.process_time() - started) / statements
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for one_trip in (False, True):  # warm-up: imports, statement caches
        asyncio.run(per_statement(one_trip, 200))
    for _ in range(args.repeat):
        for one_trip, label in ((False, "SQLAlchemy's adapter"), (True, "one trip")):
            cpu = asyncio.run(per_statement(one_trip, args.statements))
            load = " ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"{label:>22}: {cpu:6.0f} us CPU per statement | load {load}", flush=True)


if __name__ == "__main__":
    main()
