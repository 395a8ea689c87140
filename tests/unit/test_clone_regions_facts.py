"""bench/clone_regions.py keeps the facts consistent: the copies' facts (unit rows and the
workspace's sums per scope) equal what the gateway's rebuild computes from the copied rows,
and the views over them equal brute force over the copied raw tables (SQLite: the clone
works on a SQLite file)."""

from __future__ import annotations

from pathlib import Path

from bench.clone_regions import clone
from services.gateway.views.refresh import rebuild
from tests.unit.test_gateway_research_views import (
    apply,
    books,
    check_brute_force,
    check_workspace,
    code,
    codings_of,
    facts,
    make,
    network,
)


async def test_cloned_facts_equal_a_rebuild_from_the_cloned_rows(tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    engine, sessions = await make(f"sqlite:///{source}")
    try:
        net = network(seed=7)
        await apply(sessions, [net.events])
        await code(sessions, await books(sessions), codings_of(net, seed=5))
        before = await facts(sessions)
    finally:
        await engine.dispose()
    assert all(before.values()), "the world has every kind of fact"

    counts = clone(source, tmp_path / "x3.db", 3)
    assert counts["regions"] == 6
    engine, sessions = await make(f"sqlite:///{tmp_path / 'x3.db'}")
    try:
        copied = await facts(sessions)
        for name, rows in before.items():
            assert len(copied[name]) == 3 * len(rows) - (2 * _national(name, rows)), name
        async with sessions() as session, session.begin():
            await rebuild(session)
        assert await facts(sessions) == copied
        # the views over the copies, against brute force over the copied raw tables
        await check_brute_force(sessions)
        await check_workspace(sessions)
    finally:
        await engine.dispose()


def _national(name: str, rows: list[tuple[object, ...]]) -> int:
    """Rows of a sum kept for the nation (scope ''): one, not one per copy."""
    scoped = {
        "fact_mark_totals": 2,
        "fact_agree_days": 1,
        "fact_agree_coders": 1,
        "fact_months": 0,
        "fact_cop_months": 0,
    }
    if name not in scoped:
        return 0
    return sum(1 for row in rows if row[scoped[name]] == "")
