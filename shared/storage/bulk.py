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
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, delete
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Delete, Insert, UpdateBase

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    keys: tuple[str, ...]  # the rows' keys in parameter order
    processors: tuple[tuple[int, Processor], ...]  # (position, bind processor) where any

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row's values in parameter order, through their bind processors."""
        if len(self.keys) == 1:
            (key,) = self.keys
            process = self.processors[0][1] if self.processors else None
            return [(row[key] if process is None else process(row[key]),) for row in rows]
        values = itemgetter(*self.keys)
        if not self.processors:
            return [values(row) for row in rows]
        out = []
        for row in rows:
            params = list(values(row))
            for position, process in self.processors:
                params[position] = process(params[position])
            out.append(tuple(params))
        return out


_COMPILED: dict[tuple[int, str, tuple[str, ...]], tuple[UpdateBase, _Compiled]] = {}
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


def keyed_delete(table: Table, keys: Sequence[str], *where: ColumnElement[bool]) -> Delete:
    """``DELETE FROM table WHERE`` each of ``keys`` equals the row's value of that name (and
    ``where``, which must bind no parameters), for :func:`execute_many`: an index seek per
    row where ``keys`` lead an index. (SQLite plans a row-value ``IN (VALUES ...)`` of the
    keys as a scan of the whole table.)"""
    return delete(table).where(*(table.c[k] == bindparam(k) for k in keys), *where)


async def execute_many(
    session: AsyncSession, statement: UpdateBase, rows: Sequence[Mapping[str, Any]]
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
    connection = await session.connection()
    await connection.exec_driver_sql(compiled.sql, compiled.parameters(rows))


def _compile(statement: UpdateBase, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
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
    processors = tuple(
        (position, process)
        for position, name in enumerate(order)
        if (process := compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        is not None
    )
    result = _Compiled(compiled.string, tuple(order), processors)
    # keyed by id(): the statement is kept alive in the entry, so the id is not reused
    _COMPILED[cache_key] = (statement, result)
    return result
