"""Every service's Alembic migrations, on SQLite and PostgreSQL.

``test_migrated_schema_matches_orm`` is the one that fails when an ``orm.py`` changed without a
new revision: write it with ``mgn migrate <service> --autogenerate -m "..."``
(docs/service-pattern.md, "Changing a table").
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import re
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    MetaData,
    String,
    Table,
    Uuid,
    func,
    inspect,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

import services
from deploy.cli import main
from shared.storage import create_engine
from shared.storage.migrations import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    migrate,
    new_revision,
    version_table,
)
from tests.fixtures.db import DatabaseMaker


def _services() -> dict[str, tuple[Path, MetaData]]:
    """Every service with migrations: name -> (its migrations, its orm.py's metadata)."""
    found: dict[str, tuple[Path, MetaData]] = {}
    for env in sorted(Path(services.__file__).parent.glob("*/migrations/env.py")):
        name = env.parent.parent.name
        orm = importlib.import_module(f"services.{name}.orm")
        metadata = getattr(orm, "metadata", None) or orm.Base.metadata
        found[name] = (env.parent, metadata)
    return found


SERVICES = _services()


@pytest.fixture(params=sorted(SERVICES))
def service(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def engine(database_url: str) -> Any:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _diffs(conn: Connection, metadata: MetaData, table: str) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"version_table": table})
    return list(compare_metadata(context, metadata))


def _where(clause: Any) -> str:
    """A partial index's condition as text both databases agree on."""
    return re.sub(r"\s+", " ", re.sub(r"[()]", "", str(clause))).strip().lower()


def _partial_indexes(conn: Connection) -> dict[str, str]:
    """Index name -> WHERE condition of the database's partial indexes."""
    inspector = inspect(conn)
    key = f"{conn.dialect.name}_where"
    found: dict[str, str] = {}
    for name in inspector.get_table_names():
        for index in inspector.get_indexes(name):
            where = index.get("dialect_options", {}).get(key)
            if where is not None and index["name"]:
                found[index["name"]] = _where(where)
    return found


def _expected_partial_indexes(metadata: MetaData, dialect: str) -> dict[str, str]:
    return {
        str(index.name): _where(index.dialect_options[dialect]["where"])
        for table in metadata.tables.values()
        for index in table.indexes
        if index.dialect_options[dialect]["where"] is not None
    }


async def test_upgrade_from_empty_then_again_is_a_no_op(service: str, engine: AsyncEngine) -> None:
    location, metadata = SERVICES[service]
    table = version_table(service)
    assert await current_revision(engine, version_table=table) is None

    await migrate(engine, location, version_table=table)
    head = head_revision(location)
    assert head is not None
    assert await current_revision(engine, version_table=table) == head
    async with engine.connect() as conn:
        tables = await conn.run_sync(_tables)
    assert tables == {*metadata.tables, table}

    await migrate(engine, location, version_table=table)  # nothing to do
    assert await current_revision(engine, version_table=table) == head
    async with engine.connect() as conn:
        assert await conn.run_sync(_tables) == tables


async def test_migrated_schema_matches_orm(service: str, engine: AsyncEngine) -> None:
    """Fails when orm.py changed and no revision says so."""
    location, metadata = SERVICES[service]
    table = version_table(service)
    await migrate(engine, location, version_table=table)
    async with engine.connect() as conn:
        diffs = await conn.run_sync(_diffs, metadata, table)
        # Alembic does not compare partial indexes' conditions: compare them here.
        partial = await conn.run_sync(_partial_indexes)
    assert diffs == [], (
        f"{service}: orm.py and the migrations differ; write a revision with "
        f'`mgn migrate {service} --autogenerate -m "..."`: {diffs}'
    )
    assert partial == _expected_partial_indexes(metadata, engine.dialect.name)
    if "outbox" in metadata.tables:  # the console publishes no events
        assert "ix_outbox_unpublished" in partial


async def test_downgrade_to_base_and_up_again(service: str, engine: AsyncEngine) -> None:
    location, _ = SERVICES[service]
    table = version_table(service)
    await migrate(engine, location, version_table=table)

    await downgrade(engine, location, version_table=table)
    assert await current_revision(engine, version_table=table) is None
    async with engine.connect() as conn:
        assert await conn.run_sync(_tables) <= {table}

    await migrate(engine, location, version_table=table)
    assert await current_revision(engine, version_table=table) == head_revision(location)


def test_revisions_are_one_numbered_line(service: str) -> None:
    """NNNN_slug.py, numbered upwards from 0001, each revising the one before (a number may
    be skipped while it is reserved for a branch still in flight)."""
    location, _ = SERVICES[service]
    script = ScriptDirectory.from_config(alembic_config(location, version_table="x"))
    assert len(script.get_heads()) == 1, f"{service}: several heads: {script.get_heads()}"
    revisions = list(reversed(list(script.walk_revisions())))
    assert revisions[0].revision == "0001"
    assert revisions[0].down_revision is None
    for before, revision in itertools.pairwise(revisions):
        assert revision.revision.isdigit()
        assert len(revision.revision) == 4
        assert int(revision.revision) > int(before.revision)
        assert revision.down_revision == before.revision
    for revision in revisions:
        assert Path(revision.path).name.startswith(f"{revision.revision}_")


async def test_processes_starting_at_once_migrate_one_after_the_other(database_url: str) -> None:
    """Two processes of a service starting at once: one migrates, the other waits for it (an
    advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite), then finds nothing to do."""
    command = [sys.executable, "-m", "deploy.cli", "migrate", "groups", "--db", database_url]
    processes = [
        await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        for _ in range(3)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 60)
    for process, (out, _) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, out.decode()
    engine = create_engine(database_url)
    try:
        head = head_revision(SERVICES["groups"][0])
        assert await current_revision(engine, version_table=version_table("groups")) == head
    finally:
        await engine.dispose()


async def test_services_of_one_process_migrate_at_once(make_database_url: DatabaseMaker) -> None:
    """A federation in one process (tests, the demo) starts its services concurrently."""
    engines = {name: create_engine(await make_database_url(name)) for name in SERVICES}
    try:
        await asyncio.gather(
            *(
                migrate(engines[name], location, version_table=version_table(name))
                for name, (location, _) in SERVICES.items()
            )
        )
        for name, (_, metadata) in SERVICES.items():
            async with engines[name].connect() as conn:
                assert await conn.run_sync(_diffs, metadata, version_table(name)) == []
    finally:
        for e in engines.values():
            await e.dispose()


def test_cli_prints_the_revision_before_and_after(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    head = head_revision(SERVICES["meetings"][0])
    assert main(["migrate", "meetings", "--db", database_url]) == 0
    out = capsys.readouterr().out
    assert "revision before: None" in out
    assert f"revision after:  {head}" in out

    assert main(["migrate", "meetings", "--db", database_url]) == 0
    assert f"revision before: {head}" in capsys.readouterr().out


def workflow_metadata(*, changed: bool) -> MetaData:
    """A small service's orm.py before and after a developer's change: a wider name (on
    SQLite Alembic then copies ``parents``, which ``children`` refers to) and a new column."""
    metadata = MetaData()
    Table(
        "parents",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("name", String(300 if changed else 200), nullable=False),
    )
    Table(
        "children",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("parent_id", ForeignKey("parents.id"), nullable=False, index=True),
        *([Column("motto", String(100), nullable=True)] if changed else []),
    )
    return metadata


def _workflow_env(*, changed: bool) -> str:
    return (
        "from shared.storage.migrations import run_env\n"
        "from tests.integration.test_migrations import workflow_metadata\n\n"
        f"run_env(workflow_metadata(changed={changed}))\n"
    )


async def test_changing_a_table_workflow(engine: AsyncEngine, tmp_path: Path) -> None:
    """docs/service-pattern.md "Changing a table": autogenerate a revision from the changed
    metadata, upgrade (rows survive), nothing more to write, downgrade."""
    location = tmp_path / "migrations"
    (location / "versions").mkdir(parents=True)
    shutil.copy(SERVICES["groups"][0] / "script.py.mako", location)
    table = "alembic_version_workflow"

    async def diffs(changed: bool) -> list[Any]:
        async with engine.connect() as conn:
            return await conn.run_sync(_diffs, workflow_metadata(changed=changed), table)

    (location / "env.py").write_text(_workflow_env(changed=False))
    first = await new_revision(engine, location, version_table=table, message="initial")
    assert first is not None
    assert first.name == "0001_initial.py"
    await migrate(engine, location, version_table=table)
    assert await diffs(False) == []
    tables = workflow_metadata(changed=False).tables
    parent_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(tables["parents"].insert(), {"id": parent_id, "name": "Kasvu"})
        await conn.execute(
            tables["children"].insert(), {"id": uuid.uuid4(), "parent_id": parent_id}
        )

    (location / "env.py").write_text(_workflow_env(changed=True))
    second = await new_revision(engine, location, version_table=table, message="Wider names!")
    assert second is not None
    assert second.name == "0002_wider_names.py"
    assert "batch_alter_table" in second.read_text()  # so that it also runs on SQLite
    await migrate(engine, location, version_table=table)
    assert await current_revision(engine, version_table=table) == "0002"
    assert await diffs(True) == []
    async with engine.connect() as conn:
        joined = select(func.count()).select_from(tables["children"].join(tables["parents"]))
        assert await conn.scalar(joined) == 1
    assert await new_revision(engine, location, version_table=table, message="again") is None

    await downgrade(engine, location, version_table=table, revision="0001")
    assert await diffs(False) == []
    await downgrade(engine, location, version_table=table)
    assert await current_revision(engine, version_table=table) is None
