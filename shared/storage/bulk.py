"""Many rows through one statement: an ``executemany`` without SQLAlchemy's per-row work.

``session.execute(insert(table), rows)`` builds a parameter dictionary for every row
(``construct_params``) and runs the columns' bind processors through it: on SQLite, where
the driver is cheap, that per-row work measured as much CPU as the database's own for the
projection's batches (bench/project_cost.py). :func:`execute_many` compiles the statement
once per process and dialect and hands the driver plain tuples, converted by the very bind
processors SQLAlchemy would have used (a UTC datetime column still refuses a naive value).

On PostgreSQL it is ``session.execute(statement, rows)`` (asyncpg's own batching); the
projections' upserts there use one ``unnest`` statement per batch instead
(:mod:`services.gateway.projections.sql`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    columns: tuple[tuple[str, Processor | None], ...]  # parameter order, with its processor


_COMPILED: dict[tuple[int, str, tuple[str, ...]], tuple[Insert, _Compiled]] = {}
_INSERTS: dict[Table, Insert] = {}


async def insert_rows(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """``INSERT INTO table`` every row of ``rows`` (all with the same keys), as
    :func:`execute_many`."""
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = table.insert()
    await execute_many(session, statement, rows)


async def execute_many(
    session: AsyncSession, statement: Insert, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run ``statement`` once for every row of ``rows`` (all with the same keys: the
    statement's parameters) in one executemany, in ``session``'s transaction."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        await session.execute(statement, list(rows))
        return
    compiled = _compile(statement, dialect, tuple(rows[0]))
    columns = compiled.columns
    params = [
        tuple(row[key] if process is None else process(row[key]) for key, process in columns)
        for row in rows
    ]
    connection = await session.connection()
    await connection.exec_driver_sql(compiled.sql, params)


def _compile(statement: Insert, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    cache_key = (id(statement), dialect.name, keys)
    found = _COMPILED.get(cache_key)
    if found is not None and found[0] is statement:
        return found[1]
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    order = compiled.positiontup
    if order is None or sorted(order) != sorted(keys):
        raise ValueError(
            f"execute_many takes a statement whose parameters are the rows' columns "
            f"({', '.join(keys)}); this one binds {', '.join(order or ())}"
        )
    columns = tuple(
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in order
    )
    result = _Compiled(compiled.string, columns)
    # keyed by id(): the statement is kept alive in the entry, so the id is not reused
    _COMPILED[cache_key] = (statement, result)
    return result
