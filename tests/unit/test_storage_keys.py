"""shared.storage.keys.among: ``column IN (keys)`` as one bound parameter finds exactly the
rows ``IN`` finds, for any number of keys (beyond the databases' parameter limits), on
SQLite and PostgreSQL; and on SQLite it is an index seek per key, not a scan."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, delete, select

from shared.storage import create_engine, create_schema, session_factory
from shared.storage.bulk import insert_rows
from shared.storage.keys import among

metadata = MetaData()
items = Table(
    "keyed_items",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("n", Integer, nullable=False),
)
Index("ix_keyed_items_kind", items.c.kind)

ROWS: list[dict[str, Any]] = [
    {"id": f"id-{i:05d}", "kind": f"k{i % 7}", "n": i} for i in range(2000)
]


@pytest.mark.parametrize(
    "keys",
    [
        [],
        ["id-00003"],
        ["id-00003", "id-00003", "missing", "id-01999"],
        [f"id-{i:05d}" for i in range(0, 2000, 3)],
        [f"id-{i:05d}" for i in range(40_000)],  # more than SQLite's 32,766 parameters
    ],
    ids=["none", "one", "duplicates and unknown", "a third", "40,000 keys"],
)
async def test_same_rows_as_in(database_url: str, keys: list[str]) -> None:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    try:
        async with session_factory(engine)() as session, session.begin():
            await insert_rows(session, items, ROWS)
            found = await session.scalars(
                select(items.c.id).where(among(session, items.c.id, keys)).order_by(items.c.id)
            )
            assert list(found) == sorted({r["id"] for r in ROWS} & set(keys))
            by_number = await session.scalars(
                select(items.c.id).where(among(session, items.c.n, [5, 7, 5000]))
            )
            assert sorted(by_number) == ["id-00005", "id-00007"]
    finally:
        await engine.dispose()


async def test_delete_and_reuse_of_the_statement(database_url: str) -> None:
    """The same statement shape with different keys (SQLAlchemy's compiled cache) keeps
    the keys of each call."""
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    try:
        async with session_factory(engine)() as session, session.begin():
            await insert_rows(session, items, ROWS)
            for kind in ("k1", "k2"):
                await session.execute(delete(items).where(among(session, items.c.kind, [kind])))
            left = await session.scalars(select(items.c.kind).distinct().order_by(items.c.kind))
            assert list(left) == ["k0", "k3", "k4", "k5", "k6"]
    finally:
        await engine.dispose()


async def test_sqlite_plan_is_an_index_seek(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/plan.db")
    await create_schema(engine, metadata)
    try:
        async with session_factory(engine)() as session:
            for column, index in ((items.c.id, "sqlite_autoindex"), (items.c.kind, "ix_keyed")):
                query = select(items.c.n).where(among(session, column, ["a", "b"]))
                compiled = query.compile(dialect=engine.dialect)
                connection = await session.connection()
                plan = await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {compiled.string}",
                    tuple(compiled.params[name] for name in compiled.positiontup or ()),
                )
                details = [row[-1] for row in plan]
                assert any(d.startswith("SEARCH keyed_items USING INDEX " + index) for d in details)
                assert not any(d.startswith("SCAN keyed_items") for d in details), details
    finally:
        await engine.dispose()
