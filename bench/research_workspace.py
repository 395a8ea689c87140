"""Benchmark: the researchers' workspace queries (Table 1, agreement, the panel) over a
synthetic national read model.

    python bench/research_workspace.py                       # SQLite, 100 regions
    python bench/research_workspace.py --db postgres
    python bench/research_workspace.py --regions 1000        # 1.2 M meetings (slow to build)

Data, written straight into the gateway's tables (not through the projection: this measures
the queries), then the workspace's facts rebuilt from them (services/gateway/research/counts.py,
timed): ``--regions`` regions of ``--groups`` groups, each with ten members and
``--meetings`` monthly held meetings from 2015; a share ``--coded`` of the meetings coded by
two researchers with Wenger's codebook (1-3 codes each, a tenth "nothing found") and
reconciled; every member interviewed every other year by its person (a person key each).
Each query is asked ``--runs`` times through the GraphQL schema in process (a researcher's
context); prints p50/p95 and PASS/FAIL against p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import PG_ADMIN, database_url
from bench.report import load, percentile
from services.gateway.graphql import GatewayContext, schema
from services.gateway.orm import groups, interviews, meetings, members, memos, metadata
from services.gateway.research import counts
from services.gateway.research.store import ensure_first_codebook
from services.gateway.research.tables import (
    CONSENSUS,
    codebooks,
    coding_marks,
    codings,
    panel_persons,
)
from shared.contracts import ACTIVITY_TYPES
from shared.storage import create_engine, create_schema, session_factory

CHUNK = 2000
LIMIT_MS = 100.0


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


async def build(url: str, args: argparse.Namespace) -> tuple[Any, str, str, str]:
    rng = random.Random(args.seed)
    engine = create_engine(url)
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await ensure_first_codebook(session)
        book = str(await session.scalar(select(codebooks.c.id)))
    rows: dict[str, list[dict[str, Any]]] = {
        t: [] for t in ("groups", "members", "meetings", "memos", "codings", "marks", "iv", "pp")
    }
    start = datetime(2015, 1, 10, 16, tzinfo=UTC)
    first_region = first_group = ""
    for r in range(args.regions):
        region = f"r{r:04d}"
        first_region = first_region or region
        for _g in range(args.groups):
            g = _id(rng)
            first_group = first_group or g
            rows["groups"].append(
                {
                    "id": g,
                    "region": region,
                    "name": f"G{g[:4]}",
                    "municipality": "X",
                    "founded_on": date(2015, 1, 1),
                    "version": 1,
                }
            )
            for _m in range(10):
                mid = _id(rng)
                joined = date(2015 + rng.randrange(8), 1 + rng.randrange(12), 1)
                left = (
                    joined + timedelta(days=rng.randrange(300, 3000))
                    if rng.random() < 0.3
                    else None
                )
                rows["members"].append(
                    {
                        "id": mid,
                        "region": region,
                        "group_id": g,
                        "active": left is None,
                        "status": "LEFT" if left else "ACTIVE",
                        "joined_on": joined,
                        "employees": rng.randrange(10),
                        "turnover_eur": rng.randrange(2_000_000),
                        "left_on": left,
                        "version": 1,
                    }
                )
                person = _id(rng)
                for year in range(joined.year, 2025, 2):
                    iv = _id(rng)
                    rows["iv"].append(
                        {
                            "id": iv,
                            "region": region,
                            "member_id": mid,
                            "interviewed_on": date(year, 6, 1),
                            "intends_to_grow": rng.choice(("yes", "no", "unsure")),
                            "planned_hires": rng.randrange(3),
                            "barriers": "financing,time",
                            "version": 1,
                        }
                    )
                    rows["pp"].append(
                        {"interview_id": iv, "region": region, "person_key": person[:32]}
                    )
            for k in range(args.meetings):
                m = _id(rng)
                at = start + timedelta(days=30 * k)
                rows["meetings"].append(
                    {
                        "id": m,
                        "region": region,
                        "group_id": g,
                        "status": "HELD",
                        "starts_at": at,
                        "held_at": at,
                        "recorded": False,
                        "version": 2,
                    }
                )
                rows["memos"].append(
                    {
                        "meeting_id": m,
                        "region": region,
                        "group_id": g,
                        "summary": "A memo.",
                        "published_at": at,
                        "version": 3,
                    }
                )
                if rng.random() >= args.coded:
                    continue
                found = rng.sample(ACTIVITY_TYPES, rng.randrange(1, 4))
                for coder in ("coder-a", "coder-b", CONSENSUS):
                    c = _id(rng)
                    nothing = rng.random() < 0.1 and coder != CONSENSUS
                    rows["codings"].append(
                        {
                            "id": c,
                            "codebook_id": book,
                            "meeting_id": m,
                            "coder_id": coder,
                            "region": region,
                            "group_id": g,
                            "nothing_found": nothing,
                            "note": "",
                            "coded_at": at,
                        }
                    )
                    mine = [] if nothing else (found if coder != "coder-b" else found[:1])
                    for code in mine:
                        rows["marks"].append(
                            {
                                "id": _id(rng),
                                "coding_id": c,
                                "code": code,
                                "example": f"e {code}",
                                "quote": "",
                                "featured": False,
                            }
                        )
    tables = {
        "groups": groups,
        "members": members,
        "meetings": meetings,
        "memos": memos,
        "codings": codings,
        "marks": coding_marks,
        "iv": interviews,
        "pp": panel_persons,
    }
    for name, table in tables.items():
        data = rows[name]
        for i in range(0, len(data), CHUNK):
            async with sessions() as session, session.begin():
                await session.execute(insert(table), data[i : i + CHUNK])
        print(f"  {name:<9}{len(data):>10,} rows", flush=True)
    t = time.perf_counter()
    async with sessions() as session, session.begin():  # as the gateway's rebuild does
        await counts.rebuild(session)
    print(f"  workspace facts rebuilt in {time.perf_counter() - t:.1f} s", flush=True)
    return engine, book, first_region, first_group


async def measure(sessions: Any, query: str, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds (wall clock, and this process's CPU: the machine's load does not inflate
    it, though the database's own threads are in it) of ``runs`` executions after one not
    counted (the first agreement pays for importing statsmodels, scipy and krippendorff:
    seconds, once per process)."""
    took, cpu = [], []
    for n in range(runs + 1):
        ctx = GatewayContext.create(sessions)
        t, c = time.perf_counter(), time.process_time()
        result = await schema.execute(query, context_value=ctx)
        if n:
            took.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        if result.errors:
            raise SystemExit(f"{query}: {result.errors}")
    return took, cpu


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--regions", type=int, default=100)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--meetings", type=int, default=120, help="per group")
    parser.add_argument("--coded", type=float, default=0.3)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / ".cache")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    url = await database_url(args.db, args.workdir, "workspace", PG_ADMIN)
    print(
        f"building: {args.regions} regions x {args.groups} groups x {args.meetings} meetings, "
        f"{args.coded:.0%} coded, {args.db} ({load()})",
        flush=True,
    )
    t0 = time.perf_counter()
    engine, book, region, group = await build(url, args)
    print(f"built in {time.perf_counter() - t0:.0f} s", flush=True)
    sessions = session_factory(engine)
    b = f'codebookId: "{book}"'
    reg = f'region: "{region}"'
    year = 'from: "2019-01-01", to: "2019-12-31"'
    t1 = "rows { groups meetings activities examples { text } }"
    agree = "meetings pooled { kappa alpha } perCode { kappa alpha }"
    queries = {
        "table1 national": f"{{ table1({b}) {{ {t1} }} }}",
        "table1 national, one year": f"{{ table1({b}, {year}) {{ {t1} }} }}",
        "table1 region": f"{{ table1({b}, {reg}) {{ {t1} }} }}",
        "table1 region, one year": f"{{ table1({b}, {reg}, {year}) {{ {t1} }} }}",
        "table1 group": f'{{ table1({b}, groupId: "{group}") {{ {t1} }} }}',
        "codebookAgreement region": f"{{ codebookAgreement({b}, {reg}) {{ {agree} }} }}",
        "codebookAgreement national, a year": f"{{ codebookAgreement({b}, {year}) {{ {agree} }} }}",
        "codebookAgreement national": f"{{ codebookAgreement({b}) {{ {agree} }} }}",
        "codingProgress region": f"{{ codingProgress({b}, {reg}, first: 100) {{ coders }} }}",
        "panelInterviews page": "{ panelInterviews(first: 100) { items { personKey wave } } }",
        "growthIntentions region": f"{{ growthIntentions({reg}) {{ period yes }} }}",
        "growthIntentions national": "{ growthIntentions(by: JOIN_COHORT) { period yes } }",
        "retentionByCohort national": "{ retentionByCohort { cohort survival { rate } } }",
        "firmSizeByYear national": "{ firmSizeByYear { year firms } }",
    }
    print(f"\n{'query':<40}{'p50 ms':>9}{'p95 ms':>9}{'cpu p50':>9}  verdict ({load()})")
    for name, query in queries.items():
        took, cpu = await measure(sessions, query, args.runs)
        p50, p95 = percentile(took, 0.5), percentile(took, 0.95)
        verdict = "PASS" if p95 < LIMIT_MS else "FAIL"
        print(
            f"{name:<40}{p50:>9.1f}{p95:>9.1f}{percentile(cpu, 0.5):>9.1f}  {verdict}", flush=True
        )
    await engine.dispose()
    if args.db == "postgres":  # only this run's database: other benchmarks may be running
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        finally:
            await conn.close()
    else:
        os.remove(url.removeprefix("sqlite:///"))


if __name__ == "__main__":
    asyncio.run(main())
