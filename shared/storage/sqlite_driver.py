"""SQLAlchemy's aiosqlite driver with one trip to SQLite's thread per statement.

aiosqlite runs SQLite in a thread of its own and every call on a connection or cursor is a
round trip to it (a queue put, the thread woken, the result handed back through the event
loop's self-pipe). SQLAlchemy's adapter makes three or four per statement: open a cursor,
execute, fetch the rows, close. For the small statements of a request or of a trickle's
batch those trips, not SQLite, were the cost (``Connection._execute`` was ~half of the
groups write's samples in a py-spy profile of ``bench/write_path.py`` at load 23).

:class:`OneTripCursor` does a statement in ONE trip: a plain ``sqlite3`` cursor opened,
executed, read and closed inside aiosqlite's thread, and its description, row count, last
row id and rows kept here. Everything else (transactions, errors and their translation,
server-side cursors for streaming) is SQLAlchemy's aiosqlite adapter unchanged;
:func:`dbapi` gives :func:`shared.storage.engine.create_engine` the module to use.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_


class _Outcome:
    """What SQLAlchemy reads of a cursor after a statement, kept from SQLite's thread."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self) -> None:
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def close(self) -> None:
        """Nothing to release: the ``sqlite3`` cursor closed in SQLite's thread."""


Work = Callable[[sqlite3.Cursor], Any]


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False  # close() has nothing to await

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Outcome()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _run(self, work: Work) -> Any:
        """``work`` on a fresh ``sqlite3`` cursor in aiosqlite's thread, one trip there."""
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        outcome: _Outcome = self._cursor  # type: ignore[assignment]

        def trip() -> tuple[Any, list[Any] | None, int, int | None]:
            cursor = driver._conn.cursor()
            try:
                work(cursor)
                description = cursor.description
                rows = cursor.fetchall() if description else None
                return description, rows, cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        description, rows, rowcount, lastrowid = await driver._execute(trip)  # type: ignore[no-untyped-call]
        outcome.description, outcome.rowcount, outcome.lastrowid = (
            description,
            rowcount,
            lastrowid,
        )
        self._rows = collections.deque(rows or ())
        return self

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            if parameters is None:
                return await self._run(lambda cursor: cursor.execute(operation))
            return await self._run(lambda cursor: cursor.execute(operation, parameters))

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        params: Sequence[Any] = seq_of_parameters
        async with self._adapt_connection._execute_mutex:
            return await self._run(lambda cursor: cursor.executemany(operation, params))

    def nextset(self) -> None:
        return None  # SQLite has one result set per statement

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter does (aiosqlite 0.22+)
        return OneTripConnection(self, await_(connection))


def dbapi() -> OneTripDBAPI:
    """The DB-API module for ``create_async_engine(..., module=dbapi())``."""
    return OneTripDBAPI(aiosqlite, sqlite3)


__all__ = ["OneTripCursor", "dbapi"]
