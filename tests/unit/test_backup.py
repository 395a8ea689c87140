"""Backups of SQLite databases without servers: a copy taken while a row is unpublished is
put back as it was; a restore refuses a backup of another node or another kind of database,
naming the problem; the console's database (staff, audit trail) is restored with the
region's. (With real servers and PostgreSQL: tests/e2e/test_operations_commands.py.)"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from deploy.backup import MANIFEST, BackupError, Database, restore_databases, take_backup
from deploy.backup_commands import console_counted
from services.console import audit
from services.console.accounts import StaffStore
from services.groups.orm import TABLES
from shared.storage import create_engine, session_factory
from shared.storage.migrations import migrate, version_table

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "groups" / "migrations"


async def _prepare(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine, MIGRATIONS, version_table=version_table("groups"))
        async with engine.begin() as conn:
            await conn.execute(
                insert(TABLES.outbox),
                [
                    {"event_id": f"e{i}", "subject": "mgn.oulu.groups.group.created",
                     "body": b"{}", "created_at": datetime.now(UTC),
                     "published_at": None if i == 2 else datetime.now(UTC)}
                    for i in range(3)
                ],
            )  # fmt: skip
    finally:
        await engine.dispose()


async def _unpublished(url: str) -> int:
    engine = create_engine(url, sqlite_immediate=False)
    try:
        async with engine.connect() as conn:
            stmt = select(func.count()).where(TABLES.outbox.c.published_at.is_(None))
            return int((await conn.execute(stmt)).scalar_one())
    finally:
        await engine.dispose()


async def _publish_all(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(update(TABLES.outbox).values(published_at=datetime.now(UTC)))
    finally:
        await engine.dispose()


def test_sqlite_backup_and_restore_round_trip(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'groups.db'}"
    asyncio.run(_prepare(url))
    db = Database("groups", url, TABLES)
    manifest = take_backup("region", "oulu", [db], tmp_path / "backup")
    (entry,) = manifest["databases"]
    assert entry["events_written"] == 3
    assert entry["events_unpublished"] == 1
    assert (tmp_path / "backup").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "backup" / "groups.db").stat().st_mode & 0o777 == 0o600
    assert json.loads((tmp_path / "backup" / MANIFEST).read_text())["not_included"]

    asyncio.run(_publish_all(url))  # the database moves on after the backup
    assert asyncio.run(_unpublished(url)) == 0
    restore_databases("region", "oulu", [db], tmp_path / "backup")
    assert asyncio.run(_unpublished(url)) == 1  # as it was at the backup
    assert (tmp_path / "groups.db").stat().st_mode & 0o777 == 0o600

    with pytest.raises(BackupError, match="is not empty"):
        take_backup("region", "oulu", [db], tmp_path / "backup")
    with pytest.raises(BackupError, match=r"backup of region 'oulu', not of region 'kainuu'"):
        restore_databases("region", "kainuu", [db], tmp_path / "backup")
    postgres = Database("groups", "postgresql://mgn@127.0.0.1/oulu_groups", TABLES)
    with pytest.raises(BackupError, match="backup is of a sqlite database"):
        restore_databases("region", "oulu", [postgres], tmp_path / "backup")
    with pytest.raises(BackupError, match="is not a backup"):
        restore_databases("region", "oulu", [db], tmp_path)


CONSOLE_MIGRATIONS = MIGRATIONS.parents[1] / "console" / "migrations"


async def _console_with(url: str, *usernames: str) -> None:
    """The console's database with these staff accounts added (each in the audit trail)."""
    engine = create_engine(url)
    try:
        await migrate(engine, CONSOLE_MIGRATIONS, version_table=version_table("console"))
        async with session_factory(engine)() as session:
            for name in usernames:
                await StaffStore(session).add(name, role="admin", password="long enough pw")
                await audit.record(session, actor="cli:test", action="staff.add",
                                   target=f"staff:{name}")  # fmt: skip
            await session.commit()
    finally:
        await engine.dispose()


async def _console_state(url: str) -> tuple[list[str], list[str]]:
    engine = create_engine(url, sqlite_immediate=False)
    try:
        async with session_factory(engine)() as session:
            staff = [s.username for s in await StaffStore(session).all()]
            trail, _ = await audit.entries(session)
            return sorted(staff), sorted(e.target for e in trail)
    finally:
        await engine.dispose()


def test_console_database_is_backed_up_and_restored(tmp_path: Path) -> None:
    """The console's staff accounts and audit trail come back with a region's restore; its
    manifest entry counts rows (it has no outbox); a backup without it keeps the current."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    asyncio.run(_console_with(url, "ada"))
    console = Database("console", url, None, console_counted())
    manifest = take_backup("region", "oulu", [console], tmp_path / "backup")
    (entry,) = manifest["databases"]
    assert entry["rows"] == {"staff accounts": 1, "API tokens": 0, "audit entries": 1}

    asyncio.run(_console_with(url, "bea"))  # after the backup
    assert asyncio.run(_console_state(url)) == (["ada", "bea"], ["staff:ada", "staff:bea"])
    restored = restore_databases("region", "oulu", [console], tmp_path / "backup")
    assert restored["kept"] == []
    assert asyncio.run(_console_state(url)) == (["ada"], ["staff:ada"])

    groups_url = f"sqlite:///{tmp_path / 'groups.db'}"
    asyncio.run(_prepare(groups_url))
    groups = Database("groups", groups_url, TABLES)
    take_backup("region", "oulu", [groups], tmp_path / "old")  # as before consoles were copied
    with pytest.raises(BackupError, match="has no copy of console"):
        restore_databases("region", "oulu", [groups, console], tmp_path / "old")
    kept = restore_databases(
        "region", "oulu", [groups, console], tmp_path / "old", optional=("console",)
    )
    assert kept["kept"] == ["console"]
    assert asyncio.run(_console_state(url)) == (["ada"], ["staff:ada"])
