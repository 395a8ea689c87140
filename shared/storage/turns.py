"""Fair write turns for SQLite: one writer at a time per engine, first come first served,
the outbox relay ahead of the queue.

SQLite has one writer. With ``BEGIN IMMEDIATE`` and a busy timeout, concurrent writers
in one process poll the lock (sleep, retry): the order is luck, and under a stream of API
writes the outbox relay waited seconds for its turn (write p99 2–3 s, relay delay ~3 s in
bench/pipeline.py). Here every transaction of an engine made by
:func:`shared.storage.create_engine` first takes a turn from an in-process FIFO queue
(no polling); transactions started inside :func:`priority_turn` (the relay) are served
before the others. The turn is released on commit or rollback, and when the connection
goes back to the pool or is closed, so a failed or cancelled transaction cannot keep it.

Other processes writing the same file still meet on SQLite's busy timeout, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import weakref
from collections import deque
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

_TURNS: weakref.WeakKeyDictionary[Any, WriteTurns] = weakref.WeakKeyDictionary()
_priority: contextvars.ContextVar[bool] = contextvars.ContextVar("mgn_priority", default=False)


@contextlib.contextmanager
def priority_turn() -> Iterator[None]:
    """Transactions begun in this block (in this task) go ahead of the queue."""
    token = _priority.set(True)
    try:
        yield
    finally:
        _priority.reset(token)


class WriteTurns:
    """A FIFO lock with two classes of waiters; the holder is a DBAPI connection."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.holder: Any = None
        self.granted = 0
        self._first: deque[tuple[asyncio.Future[None], Any]] = deque()
        self._rest: deque[tuple[asyncio.Future[None], Any]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._first) + len(self._rest)

    async def acquire(self, owner: Any, *, priority: bool = False) -> None:
        if self.holder is owner:
            return
        if self.holder is None and not self.waiting:
            self._grant(owner)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._first if priority else self._rest
        entry = (waiter, owner)
        queue.append(entry)
        try:
            async with asyncio.timeout(self.timeout):
                await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and self.holder is owner:
                self.release(owner)  # granted as we were cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(entry)
            raise

    def release(self, owner: Any) -> None:
        if self.holder is not owner:
            return
        self.holder = None
        for queue in (self._first, self._rest):
            while queue:
                waiter, next_owner = queue.popleft()
                if not waiter.done():
                    self._grant(next_owner)
                    waiter.set_result(None)
                    return

    def _grant(self, owner: Any) -> None:
        self.holder = owner
        self.granted += 1


def install_write_turns(engine: AsyncEngine, begin_sql: str, timeout: float = 30.0) -> WriteTurns:
    """Make every transaction on ``engine`` take a turn, then run ``begin_sql``."""
    turns = WriteTurns(timeout)
    sync_engine = engine.sync_engine

    def begin(conn: Connection) -> None:
        owner = conn.connection.dbapi_connection
        try:
            await_(turns.acquire(owner, priority=_priority.get()))
        except TimeoutError as exc:
            raise OperationalError(
                begin_sql,
                None,
                Exception(f"database is locked: no write turn within {turns.timeout:g}s"),
            ) from exc
        try:
            conn.exec_driver_sql(begin_sql)
        except BaseException:
            turns.release(owner)
            raise

    def end(conn: Connection) -> None:
        turns.release(conn.connection.dbapi_connection)

    def returned(dbapi_connection: Any, *_: Any) -> None:
        turns.release(dbapi_connection)

    event.listen(sync_engine, "begin", begin)
    event.listen(sync_engine, "commit", end)
    event.listen(sync_engine, "rollback", end)
    event.listen(sync_engine.pool, "checkin", returned)
    event.listen(sync_engine.pool, "close", returned)
    event.listen(sync_engine.pool, "invalidate", returned)
    _TURNS[sync_engine] = turns
    return turns


def write_turns(engine: AsyncEngine) -> WriteTurns | None:
    """The engine's turns (SQLite engines with immediate transactions), else None."""
    return _TURNS.get(engine.sync_engine)
