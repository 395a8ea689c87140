"""Alembic migrations of a service's database, run from code (start-up, ``mgn migrate``, tests).

Each service keeps its revisions in ``services/<name>/migrations/``: an ``env.py`` that calls
:func:`run_env` with the service's metadata, ``script.py.mako`` and ``versions/NNNN_*.py``.
Its revision is recorded in its own version table, ``alembic_version_<name>``.

Revisions are rendered in batch mode (``with op.batch_alter_table(...)``): on PostgreSQL that
is plain ``ALTER TABLE``, on SQLite, which cannot alter most things, Alembic copies the table.
Upgrades run in one transaction; on SQLite with foreign-key enforcement off while a table is
copied (it is checked before commit), on PostgreSQL under an advisory lock so that processes
starting at the same moment migrate one after the other. Within one process migrations run one
at a time: Alembic's ``context`` and ``op`` are module-level, two at once would mix them up.
"""

from __future__ import annotations

import asyncio
import importlib.util
import weakref
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = [
    "MigrationError",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "migrate",
    "new_revision",
    "run_env",
    "version_table",
]


class MigrationError(RuntimeError):
    """A migration that cannot run or left the database inconsistent."""


def version_table(service: str) -> str:
    """The table that records ``service``'s revision.

    One per service so that services can share a database; their tables' names must then not
    collide (every service has an ``outbox``): give each its own PostgreSQL schema.
    """
    return f"alembic_version_{service}"


def alembic_config(
    script_location: str | Path, *, version_table: str, connection: Connection | None = None
) -> Config:
    """An Alembic configuration without an ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.set_main_option("truncate_slug_length", "40")
    if importlib.util.find_spec("ruff") is not None:  # a development install: tidy new files
        config.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
        for name, options in (
            ("ruff_fix", "check --fix-only --exit-zero --quiet REVISION_SCRIPT_FILENAME"),
            ("ruff_format", "format --quiet REVISION_SCRIPT_FILENAME"),
        ):
            config.set_section_option("post_write_hooks", f"{name}.type", "module")
            config.set_section_option("post_write_hooks", f"{name}.module", "ruff")
            config.set_section_option("post_write_hooks", f"{name}.options", options)
    config.attributes["version_table"] = version_table
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def migrate(
    engine: AsyncEngine,
    script_location: str | Path,
    *,
    version_table: str,
    revision: str = "head",
) -> None:
    """Upgrade the database to ``revision`` (default: the newest); a no-op when it is there."""

    def upgrade(conn: Connection) -> None:
        config = alembic_config(script_location, version_table=version_table, connection=conn)
        command.upgrade(config, revision)

    await _in_transaction(engine, version_table, upgrade)


async def downgrade(
    engine: AsyncEngine,
    script_location: str | Path,
    *,
    version_table: str,
    revision: str = "base",
) -> None:
    """Downgrade the database to ``revision`` (default: before the first, no tables)."""

    def run(conn: Connection) -> None:
        config = alembic_config(script_location, version_table=version_table, connection=conn)
        command.downgrade(config, revision)

    await _in_transaction(engine, version_table, run)


async def current_revision(engine: AsyncEngine, *, version_table: str) -> str | None:
    """The revision the database is at (``None``: not migrated yet)."""

    def current(conn: Connection) -> str | None:
        context = MigrationContext.configure(conn, opts={"version_table": version_table})
        return context.get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(current)


def head_revision(script_location: str | Path) -> str | None:
    """The newest revision in ``script_location``."""
    config = alembic_config(script_location, version_table="unused")
    return ScriptDirectory.from_config(config).get_current_head()


async def new_revision(
    engine: AsyncEngine, script_location: str | Path, *, version_table: str, message: str
) -> Path | None:
    """Autogenerate the next revision: what the service's metadata has that the database,
    which must be at the head revision, has not. ``None`` when there is no difference.

    The file is ``versions/NNNN_<message>.py`` with the next number as its revision id.
    """
    script = ScriptDirectory.from_config(alembic_config(script_location, version_table="x"))
    numbers = [int(s.revision) for s in script.walk_revisions() if s.revision.isdigit()]
    rev_id = f"{max(numbers, default=0) + 1:04d}"

    def skip_empty(_context: MigrationContext, _rev: Any, directives: list[Any]) -> None:
        scripts = [d for d in directives if isinstance(d, MigrationScript)]
        if all(s.upgrade_ops is None or s.upgrade_ops.is_empty() for s in scripts):
            directives[:] = []

    def revision(conn: Connection) -> Path | None:
        config = alembic_config(script_location, version_table=version_table, connection=conn)
        written = command.revision(
            config,
            message=message,
            autogenerate=True,
            rev_id=rev_id,
            process_revision_directives=skip_empty,
        )
        if isinstance(written, list):
            written = written[0] if written else None
        return Path(written.path) if written is not None else None

    async with _one_at_a_time(), engine.connect() as conn:
        return await conn.run_sync(revision)


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``.

    Runs on the connection :func:`alembic_config` put in the configuration (the caller's
    transaction); ``metadata`` is what autogenerate compares the database with.
    """
    from alembic import context

    config = context.config
    connection = config.attributes.get("connection")
    if connection is None or context.is_offline_mode():
        raise MigrationError(
            "migrations run through shared.storage.migrations with a connection: "
            "use `mgn migrate <service> --db URL`, not the alembic command"
        )
    table = config.attributes["version_table"]

    def include_name(name: str | None, type_: str, _parents: Any) -> bool:
        # other services' version tables when services share a database
        return not (type_ == "table" and name is not None and name.startswith("alembic_version"))

    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=table,
        render_as_batch=True,  # revisions must also run on SQLite
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _one_at_a_time() -> asyncio.Lock:
    """This event loop's lock around Alembic (its ``context``/``op`` proxies are global)."""
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


async def _in_transaction(
    engine: AsyncEngine, version_table: str, run: Callable[[Connection], None]
) -> None:
    async with _one_at_a_time(), engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Batch mode copies a table and drops the old one: with enforcement on, dropping
            # a referenced table fails. It can only be switched outside a transaction.
            await _sqlite_foreign_keys(conn, on=False)
        try:
            async with conn.begin():
                if conn.dialect.name == "postgresql":
                    key = zlib.crc32(version_table.encode())
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
                await conn.run_sync(run)
                if sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise MigrationError(
                            f"the migration left rows whose foreign keys point nowhere: {broken}"
                        )
        finally:
            if sqlite:
                await _sqlite_foreign_keys(conn, on=True)


async def _sqlite_foreign_keys(conn: AsyncConnection, *, on: bool) -> None:
    def switch(sync_conn: Connection) -> None:
        # on the driver's connection: through SQLAlchemy it would first begin a transaction
        cursor = sync_conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        finally:
            cursor.close()

    await conn.run_sync(switch)
