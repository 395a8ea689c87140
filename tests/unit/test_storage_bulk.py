"""shared.storage.bulk: the executemany of plain tuples stores what SQLAlchemy's own
executemany stores (types converted the same way), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects import sqlite

from shared.storage import UtcDateTime, create_engine, create_schema, session_factory
from shared.storage.bulk import execute_many, insert_rows, keyed_delete

metadata = MetaData()


def _table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", String(36), primary_key=True),
        Column("at", UtcDateTime(), nullable=True),
        Column("on", Date, nullable=True),
        Column("flag", Boolean, nullable=True),
        Column("n", Integer, nullable=True),
    )


things, copies = _table("things"), _table("copies")
HELSINKI = timezone(timedelta(hours=2))


def _rows(prefix: str) -> list[dict[str, object]]:
    return [
        {
            "id": f"{prefix}{i}",
            "at": datetime(2026, 3, 9, 22, 30, i, 1234 * i, tzinfo=HELSINKI) if i % 3 else None,
            "on": date(2026, 1, 1) + timedelta(days=i) if i % 4 else None,
            "flag": [True, False, None][i % 3],
            "n": i * 1000 if i % 5 else None,
        }
        for i in range(40)
    ]


async def _read(session: object, table: Table) -> list[tuple[object, ...]]:
    result = await session.execute(select(table).order_by(table.c.id))  # type: ignore[attr-defined]
    return [tuple(row) for row in result]


async def test_same_rows_as_sqlalchemys_executemany(database_url: str) -> None:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(insert(copies), _rows("x"))
            await insert_rows(session, things, _rows("x"))
            await insert_rows(session, things, _rows("y")[:1])  # a single row
            await insert_rows(session, things, [])  # nothing: no statement
        async with session_factory(engine)() as session:
            stored, expected = await _read(session, things), await _read(session, copies)
        assert stored[:-1] == expected
        assert stored[-1][0] == "y0"
        assert stored[1][1] == datetime(2026, 3, 9, 20, 30, 1, 1234, tzinfo=UTC)
    finally:
        await engine.dispose()


async def test_naive_datetime_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    try:
        async with session_factory(engine)() as session, session.begin():
            row = {"id": "a", "at": datetime(2026, 1, 1), "on": None, "flag": None, "n": None}
            with pytest.raises(Exception, match="naive datetime"):
                await insert_rows(session, things, [row])
    finally:
        await engine.dispose()


async def test_upsert_and_statement_with_other_parameters(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/bulk.db")
    await create_schema(engine, metadata)
    stmt = sqlite.insert(things)
    upsert = stmt.on_conflict_do_update(index_elements=["id"], set_={"n": stmt.excluded.n})
    try:
        async with session_factory(engine)() as session, session.begin():
            await insert_rows(session, things, _rows("x"))
            again = [{**row, "n": -1} for row in _rows("x")]
            await execute_many(session, upsert, again)
            assert set(await session.scalars(select(things.c.n))) == {-1}
            extra = things.insert().values(n=7)  # binds a parameter the rows do not have
            with pytest.raises(ValueError, match="parameters are the rows' columns"):
                await execute_many(session, extra, [{"id": "z"}])
    finally:
        await engine.dispose()


async def test_keyed_delete_removes_exactly_the_rows_of_the_keys(database_url: str) -> None:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    try:
        async with session_factory(engine)() as session, session.begin():
            await insert_rows(session, things, _rows("x"))
            await execute_many(session, keyed_delete(things, ["id"]), [{"id": "x3"}, {"id": "x7"}])
            # with a condition: only the rows of the keys that also meet it
            unset = keyed_delete(things, ["id"], things.c.n.is_(None))
            await execute_many(session, unset, [{"id": "x5"}, {"id": "x6"}, {"id": "nope"}])
            zero = keyed_delete(things, ["id", "n"], things.c.id != literal_column("'x1'"))
            await execute_many(session, zero, [{"id": "x1", "n": 1000}, {"id": "x2", "n": 2000}])
            left = set(await session.scalars(select(things.c.id)))
        assert left == {f"x{i}" for i in range(40)} - {"x3", "x7", "x5", "x2"}
    finally:
        await engine.dispose()
