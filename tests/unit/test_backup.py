"""Backups of SQLite databases without servers: a copy taken while a row is unpublished is
put back as it was; a restore refuses a backup of another node or another kind of database,
naming the problem. (With real servers and PostgreSQL: tests/e2e/test_operations_commands.py.)"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from deploy.backup import MANIFEST, BackupError, Database, restore_databases, take_backup
from services.groups.orm import TABLES
from shared.storage import create_engine
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
