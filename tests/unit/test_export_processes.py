"""``mgn export --all`` written by several processes (services/gateway/exports/processes.py):
the same files, rows and SHA-256 as one process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.cli import main
from services.gateway.auth import Guard, Role
from services.gateway.exports.package import database_url, write_all
from shared.storage import create_engine, session_factory
from tests.unit.test_gateway_research_graphql import World
from tests.unit.test_gateway_research_graphql import world as research_world  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")  # the world is built once per module


async def test_two_processes_write_what_one_writes(
    research_world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    guard = Guard(Role.AGENCY, "oulu")  # some datasets refused, some rows filtered
    _, _, alone, refused = await write_all(research_world.sessions, guard, one, also=("sav",))
    seen: list[str] = []
    _, _, shared, refused_too = await write_all(
        research_world.sessions,
        guard,
        two,
        also=("sav",),
        jobs=2,
        progress=lambda name, _rows: seen.append(name),
    )
    assert refused_too == refused
    assert refused
    assert [w.dataset.name for w in shared] == [w.dataset.name for w in alone]
    assert sorted(seen) == sorted(w.dataset.name for w in alone)
    for a, b in zip(alone, shared, strict=True):
        assert (a.rows, a.bytes, a.sha256) == (b.rows, b.bytes, b.sha256)
        assert b.path is not None
        assert b.path.parent == two
        assert (one / a.dataset.name).with_suffix(".csv").read_bytes() == b.path.read_bytes()
        assert [(x.fmt, x.rows) for x in b.also] == [(x.fmt, x.rows) for x in a.also]
    assert sum(w.rows for w in shared) > 0
    first, second = (json.loads((d / "datapackage.json").read_text()) for d in (one, two))
    for package in (first, second):
        package.pop("created")
        for res in package["resources"]:  # an SPSS file records when it was written
            for alt in res.get("mgn:alternates", []):
                alt.pop("hash")
    assert first == second


async def test_a_database_other_processes_cannot_open_is_written_in_this_one(
    tmp_path: Path,
) -> None:
    memory = create_engine("sqlite:///:memory:")
    try:
        assert database_url(session_factory(memory)) is None
    finally:
        await memory.dispose()
    on_disk = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert database_url(session_factory(on_disk)) == f"sqlite+aiosqlite:///{tmp_path}/x.db"
    finally:
        await on_disk.dispose()


@pytest.mark.asyncio(loop_scope="function")
async def test_cli_refuses_no_jobs(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--jobs 0: give 1 or more"):
        main(["export", "--all", "--jobs", "0", "--out", str(tmp_path), "--db", "sqlite://"])
