"""The SQLite driver does a statement in one trip to aiosqlite's thread, and behaves as
SQLAlchemy's aiosqlite adapter does (rows, counts, ids, errors, streaming)."""

from __future__ import annotations

from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from shared.storage import create_engine
from shared.storage.sqlite_driver import OneTripDBAPI


@pytest.fixture
async def engine(tmp_path: Any) -> Any:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_the_engine_uses_the_one_trip_driver(engine: Any) -> None:
    assert isinstance(engine.sync_engine.dialect.loaded_dbapi, OneTripDBAPI)


async def test_rows_counts_and_ids_come_back(engine: Any) -> None:
    async with engine.begin() as conn:
        first = await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert (first.lastrowid, first.rowcount) == (1, 1)
        many = await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}])
        assert many.rowcount == 2
        assert (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all() == [
            (1, "a"),
            (2, "b"),
            (3, "c"),
        ]
        assert (await conn.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))).rowcount == 2
        assert (await conn.execute(text("SELECT v FROM t WHERE id = 9"))).first() is None
    async with engine.connect() as conn:
        streamed = await conn.stream(text("SELECT v FROM t ORDER BY id"))
        assert [row.v async for row in streamed] == ["a", "b!", "c!"]


async def test_errors_are_sqlalchemys_and_roll_back(engine: Any) -> None:
    async def twice() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('x')"))
            await conn.execute(text("INSERT INTO t (v) VALUES ('x')"))

    with pytest.raises(IntegrityError):
        await twice()
    with pytest.raises(OperationalError, match="no such table"):
        async with engine.connect() as conn:
            await conn.execute(text("SELECT * FROM missing"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_a_statement_is_one_trip_to_sqlites_thread(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = 0
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal trips
        trips += 1
        return await original(self, fn, *args, **kwargs)

    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection is open before counting
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
        rows = (await conn.execute(text("SELECT id FROM t"))).all()
        await conn.execute(text("INSERT INTO t (v) VALUES ('y')"))
    assert rows == []
    # two statements, two trips (SQLAlchemy's adapter made 3-4 each: cursor, execute,
    # fetch, close), plus the connection's rollback as it goes back to the pool
    assert trips == 3
