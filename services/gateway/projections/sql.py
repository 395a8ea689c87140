"""Batched, dialect-specific upserts (``INSERT ... ON CONFLICT``) for the projections.

- PostgreSQL: ONE statement per table and batch, ``INSERT ... SELECT * FROM unnest(...)``
  with one array parameter per column (so a whole batch binds as many parameters as the
  table has columns, far below the 32,767 limit), compiled once and cached.
- SQLite: one statement run as an ``executemany`` of plain tuples
  (:func:`shared.storage.bulk.execute_many`: compiled once, no per-row parameter
  dictionaries; each execution binds one row, far below SQLite's 32,766 limit); a multi-row
  ``VALUES`` would be recompiled for every batch size, which measured slower.

The statement of each (table, key, merge, dialect) is built once per process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnCollection

from shared.storage.bulk import execute_many

# Re-exported for the projections: the one chunks() is shared.storage's.
from shared.storage.chunks import IN_CHUNK as IN_CHUNK
from shared.storage.chunks import chunks as chunks

Row = dict[str, Any]
Columns = ColumnCollection[str, Any]
# (current row's columns, excluded = the row we tried to insert) -> SET clause
Merge = Callable[[Columns, Columns], Mapping[str, Any]]


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Row],
    *,
    key: Sequence[str],
    merge: Merge | None,
) -> None:
    """Insert ``rows`` (each with every column of ``table``); on a key conflict apply
    ``merge`` (or skip the row if ``merge`` is None). Keys must be unique within ``rows``."""
    if not rows:
        return
    name = dialect_name(session)
    stmt = _statement(name, table, tuple(key), merge)
    if name == "postgresql":
        params = {col: [row[col] for row in rows] for col in table.c.keys()}  # noqa: SIM118
        await session.execute(stmt, params)
    else:
        await execute_many(session, stmt, rows)


_STATEMENTS: dict[tuple[str, Table, tuple[str, ...], Merge | None], Any] = {}


def _statement(name: str, table: Table, key: tuple[str, ...], merge: Merge | None) -> Any:
    cache_key = (name, table, key, merge)
    stmt = _STATEMENTS.get(cache_key)
    if stmt is not None:
        return stmt
    if name == "postgresql":
        stmt = postgresql.insert(table).from_select(table.c.keys(), _unnest(table))
    elif name == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - shared.storage admits only these two
        raise RuntimeError(f"unsupported database dialect {name!r}")
    if merge is None:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_=dict(merge(table.c, stmt.excluded))
        )
    _STATEMENTS[cache_key] = stmt
    return stmt


def _unnest(table: Table) -> Any:
    arrays = [bindparam(col.name, type_=postgresql.ARRAY(col.type)) for col in table.c]
    rows = func.unnest(*arrays).table_valued(*table.c.keys()).render_derived()
    return select(*rows.c)


def is_newer(new: ColumnElement[Any], current: ColumnElement[Any]) -> ColumnElement[bool]:
    """``new`` is set and greater than ``current`` (or ``current`` is unset)."""
    return and_(new.is_not(None), or_(current.is_(None), new > current))


def take_if(
    condition: ColumnElement[bool], new: ColumnElement[Any], current: ColumnElement[Any]
) -> ColumnElement[Any]:
    return case((condition, new), else_=current)


def greatest(new: ColumnElement[Any], current: ColumnElement[Any]) -> ColumnElement[Any]:
    return take_if(is_newer(new, current), new, current)


def least(new: ColumnElement[Any], current: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((and_(new.is_not(None), or_(current.is_(None), new < current)), new), else_=current)


def facet(
    cur: Columns, ex: Columns, version: str, columns: Sequence[str]
) -> dict[str, ColumnElement[Any]]:
    """SET clause for one facet: its columns come from the newer of the two versions."""
    newer = is_newer(ex[version], cur[version])
    return {name: take_if(newer, ex[name], cur[name]) for name in (*columns, version)}
