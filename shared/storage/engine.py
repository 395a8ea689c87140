"""Async SQLAlchemy engines for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import ConnectionPoolEntry

from shared.files import private_file
from shared.storage import sqlite_driver
from shared.storage.turns import install_write_turns

SQLITE_BUSY_SECONDS = 30.0  # how long a SQLite writer waits for the lock or its turn


class DatabaseUrlError(ValueError):
    """A database URL that mgn cannot use."""


SUPPORTED = ("sqlite+aiosqlite", "postgresql+asyncpg")


def normalise_url(url: str) -> str:
    """Accept ``sqlite:///x.db`` or ``postgresql://...`` (or async forms); return the async form."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"invalid database URL {url!r}: {exc}") from exc
    driver = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+asyncpg",
        "postgres": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
    }.get(parsed.drivername)
    if driver is None:
        raise DatabaseUrlError(
            f"unsupported database {parsed.drivername!r} in {url!r}: use sqlite:///path.db "
            "or postgresql://user@host:port/dbname"
        )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def create_engine(
    url: str, *, sqlite_immediate: bool = True, sqlite_cache_mb: int = 0, **kwargs: Any
) -> AsyncEngine:
    """Create an engine; SQLite files get WAL, a busy timeout and foreign keys on.

    ``sqlite_cache_mb``: the most memory SQLite's page cache of each connection may take
    (0: SQLite's default, 2 MB). It is taken as pages are read, not up front.

    With ``sqlite_immediate`` every SQLite transaction starts with ``BEGIN IMMEDIATE``
    after taking a fair write turn (:mod:`shared.storage.turns`): writers in this process
    queue first come first served (the outbox relay first) instead of polling the lock, and
    never fail with "database is locked" when a read lock is upgraded. Read-only engines may
    turn it off.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            # 0600 before SQLite opens it (its -wal and -shm files take the file's mode),
            # in a directory created 0700; a file of another user is left as it is
            with contextlib.suppress(PermissionError):
                private_file(database)
        kwargs.setdefault("module", sqlite_driver.dbapi())  # one trip to SQLite's thread
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if sqlite_cache_mb < 0:
            raise ValueError(f"sqlite_cache_mb must be 0 or more, got {sqlite_cache_mb}")
        if sqlite_cache_mb:
            event.listen(engine.sync_engine, "connect", _cache_pragma(sqlite_cache_mb))
        if sqlite_immediate:
            install_write_turns(engine, "BEGIN IMMEDIATE", timeout=SQLITE_BUSY_SECONDS)
        else:
            event.listen(engine.sync_engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _cache_pragma(megabytes: int) -> Any:
    def pragma(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA cache_size=-{megabytes * 1024}")  # negative: KiB
        cursor.close()

    return pragma


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
    dbapi_connection.isolation_level = None
