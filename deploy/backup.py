"""Copies of a node's databases, and putting one back: ``mgn region backup|restore`` and
``mgn hub backup|restore``.

- SQLite: SQLite's online backup API (a consistent copy while the service writes).
  PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --single-transaction``.
- Each backup is a directory with one file per database and ``backup.json`` (mode 0600),
  which says what it holds and what it does not: see :data:`NOT_IN_A_BACKUP`. A region's
  backup holds its three services' databases and the console's (staff accounts, sessions,
  API tokens, the audit trail), which has no outbox: its manifest counts its rows instead.
- A restore needs the node stopped (it refuses while the supervisor runs) and says what the
  restored databases lack; :mod:`deploy.reconcile` squares a region's databases with the
  events its stream already holds.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.engine import make_url

from shared.files import private_dir, write_private
from shared.messaging.tables import MessagingTables
from shared.storage import create_engine

MANIFEST = "backup.json"
NOT_IN_A_BACKUP = (
    "the NATS streams (the region's stream REGION_<R>, NATIONAL and DEADLETTER at the hub): "
    "they live in the nats-server store and are not copied",
    "events committed after the backup was taken",
    "the credentials file and auth.json (keep them apart, as secrets)",
    "logs, the demo mail directory and the supervisor's state",
)


class BackupError(RuntimeError):
    """A backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Database:
    """One database of a node: whose it is, where it is, and its messaging tables (None
    for the console's, which publishes no events: ``counted`` names the tables whose rows
    the manifest counts, e.g. ``{"staff accounts": staff}``)."""

    name: str  # groups, meetings, feedback, console, gateway
    url: str
    tables: MessagingTables | None
    counted: Mapping[str, Table] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"

    @property
    def file_name(self) -> str:
        return f"{self.name}.db" if self.backend == "sqlite" else f"{self.name}.dump"


# -- taking a backup -----------------------------------------------------------------------


def take_backup(kind: str, node: str, databases: list[Database], out: Path) -> dict[str, Any]:
    """Copy every database into ``out`` (created, mode 0700) and write its manifest."""
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty; give --out a new directory")
    private_dir(out)
    entries = []
    for db in databases:
        target = out / db.file_name
        facts = asyncio.run(_facts(db))  # before the copy: the copy holds at least these
        if db.backend == "sqlite":
            _sqlite_copy(_sqlite_path(db.url), target)
        else:
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "-f", str(target)], db)
        target.chmod(0o600)
        entries.append({"name": db.name, "backend": db.backend, "file": db.file_name, **facts})
    manifest = {
        "kind": kind,
        "node": node,
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "databases": entries,
        "not_included": list(NOT_IN_A_BACKUP),
    }
    write_private(out / MANIFEST, json.dumps(manifest, indent=2))
    return manifest


async def _facts(db: Database) -> dict[str, Any]:
    """What the database holds now: its outbox (events written, unpublished), or for a
    database without one the number of rows of each of its ``counted`` tables."""
    engine = create_engine(db.url, sqlite_immediate=False)
    try:
        async with engine.connect() as conn:
            if db.tables is None:
                rows = {
                    label: int(
                        (await conn.execute(select(func.count()).select_from(t))).scalar_one()
                    )
                    for label, t in db.counted.items()
                }
                return {"rows": rows}
            outbox = db.tables.outbox
            total, unpublished, newest = (
                await conn.execute(
                    select(
                        func.count(),
                        func.count().filter(outbox.c.published_at.is_(None)),
                        func.max(outbox.c.created_at),
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return {
        "events_written": int(total or 0),
        "events_unpublished": int(unpublished or 0),
        "newest_event_at": newest.isoformat() if newest is not None else None,
    }


def read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{directory} is not a backup: {MANIFEST} is missing") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{directory / MANIFEST} cannot be read: {exc}") from None
    return manifest


# -- restoring -----------------------------------------------------------------------------


def restore_databases(
    kind: str, node: str, databases: list[Database], source: Path, *, optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Put every database of ``source`` back in place of the current one. A database named
    in ``optional`` that the backup lacks (taken before it was backed up) is left as it is
    and listed in the returned manifest's ``"kept"``."""
    manifest = read_manifest(source)
    if manifest.get("kind") != kind or manifest.get("node") != node:
        raise BackupError(
            f"{source} is a backup of {manifest.get('kind')} {manifest.get('node')!r}, "
            f"not of {kind} {node!r}"
        )
    entries = {entry["name"]: entry for entry in manifest["databases"]}
    missing = [db.name for db in databases if db.name not in entries]
    if [name for name in missing if name not in optional]:
        raise BackupError(f"{source} has no copy of {', '.join(missing)}")
    manifest["kept"] = missing
    databases = [db for db in databases if db.name in entries]
    for db in databases:
        entry = entries[db.name]
        if entry["backend"] != db.backend:
            raise BackupError(
                f"{db.name}: the backup is of a {entry['backend']} database, the target "
                f"({_safe(db.url)}) is {db.backend}"
            )
        copy = source / entry["file"]
        if not copy.is_file():
            raise BackupError(f"{copy} is missing")
    for db in databases:
        copy = source / entries[db.name]["file"]
        if db.backend == "sqlite":
            target = _sqlite_path(db.url)
            private_dir(target.parent, tighten=False)
            for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
                leftover.unlink(missing_ok=True)
            _sqlite_copy(copy, target)
            target.chmod(0o600)
        else:
            tool = _pg_tool("pg_restore")
            _run([tool, "--clean", "--if-exists", "--no-owner", "--single-transaction"], db, copy)
    return manifest


# -- helpers -------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url}: not a SQLite file")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise BackupError(
            f"{name} not found on PATH nor in /usr/lib/postgresql/*/bin: install the "
            "PostgreSQL client (e.g. apt-get install postgresql-client) of the server's version"
        )
    return found


def _run(command: list[str], db: Database, dump: Path | None = None) -> None:
    """``pg_dump`` (``dump`` None) or ``pg_restore`` of ``dump`` on ``db``; the password goes
    through the environment, not the command line, where ``ps`` would show it."""
    parts = make_url(db.url)
    env = {
        **os.environ,
        "PGHOST": parts.host or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "postgres",
    }
    if parts.password:
        env["PGPASSWORD"] = str(parts.password)
    database = parts.database or ""
    argv = [*command, database] if dump is None else [*command, "-d", database, str(dump)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(
            f"{db.name}: {Path(command[0]).name} failed on {_safe(db.url)} "
            f"(exit {done.returncode}): {done.stderr.strip()[-2000:]}"
        )
