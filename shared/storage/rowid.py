"""SQLite tables stored by their primary key (``WITHOUT ROWID``), for migrations.

A SQLite table normally keeps its rows in a B-tree ordered by a hidden integer ``rowid`` and
its primary key in a second B-tree; a ``WITHOUT ROWID`` table keeps the rows in the primary
key's B-tree only. For tables keyed by natural keys (UUID text) with small rows (attendance,
the processed-events record, histories) every insert then touches one B-tree fewer, and a
lookup by key reads one instead of two (https://sqlite.org/withoutrowid.html). In an ORM it
is the table option ``sqlite_with_rowid=False``; PostgreSQL ignores it.

SQLite cannot change this of an existing table: :func:`store_by_primary_key` rebuilds the
named tables (the same definition with ``WITHOUT ROWID``, rows copied, indexes recreated
from their stored definitions) and :func:`store_by_rowid` undoes it. Both are no-ops on
PostgreSQL and on tables already stored that way, so a revision that calls them runs on any
database. Call them from an Alembic revision's ``upgrade()`` / ``downgrade()``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

SUFFIX = " WITHOUT ROWID"


def store_by_primary_key(conn: Connection, tables: Iterable[str]) -> None:
    """Rebuild each of ``tables`` as ``WITHOUT ROWID`` (SQLite only)."""
    for table in tables:
        _rebuild(conn, table, without_rowid=True)


def store_by_rowid(conn: Connection, tables: Iterable[str]) -> None:
    """Rebuild each of ``tables`` as an ordinary rowid table (SQLite only)."""
    for table in tables:
        _rebuild(conn, table, without_rowid=False)


def without_rowid(conn: Connection, table: str) -> bool:
    """Whether SQLite stores ``table`` without a rowid."""
    return _definition(conn, table).upper().endswith(SUFFIX)


def _definition(conn: Connection, table: str) -> str:
    sql = conn.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).scalar()
    if sql is None:
        raise LookupError(f"no table {table!r} in this SQLite database")
    return str(sql).rstrip().rstrip(";").rstrip()


def _rebuild(conn: Connection, table: str, *, without_rowid: bool) -> None:
    if conn.dialect.name != "sqlite":
        return
    definition = _definition(conn, table)
    if definition.upper().endswith(SUFFIX) == without_rowid:
        return
    new = definition + SUFFIX if without_rowid else definition[: -len(SUFFIX)]
    indexes = list(
        conn.execute(
            text(
                "SELECT sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = :name AND sql IS NOT NULL"
            ),
            {"name": table},
        ).scalars()
    )
    old = f"_{table}_old"
    conn.exec_driver_sql(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    conn.exec_driver_sql(new)  # the stored definition names the table as it was
    conn.exec_driver_sql(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
    conn.exec_driver_sql(f'DROP TABLE "{old}"')  # and its indexes, recreated below
    for index in indexes:
        conn.exec_driver_sql(index)


__all__ = ["store_by_primary_key", "store_by_rowid", "without_rowid"]
