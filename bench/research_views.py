"""Benchmark: every research view with filters over HTTP, against a real gateway process.

    python bench/research.py --scale 0.02               # 20 regions through the projection
    python bench/research_views.py --times 50           # x50: 1,000 regions / 10,000 groups
    python bench/research_views.py --times 1 --runs 5   # the 20 regions themselves, quickly

Data: a ``bench/research.py`` SQLite database (``--source``; regions of 100 companies in 10
groups, ten years of monthly meetings, activities, surveys, initiatives, all through the
projection) plus the researchers' workspace on those same meetings and members (a share
``--coded`` of the held meetings coded by two researchers with Wenger's codebook and
reconciled, a memo per held meeting, every member interviewed every other year under a
person key), the facts then rebuilt as the gateway does (services/gateway/views/refresh.py);
then its regions copied ``--times`` over (bench/clone_regions.py, the facts copied
consistently). Both steps are cached under bench/.cache.

Then a real gateway (``mgn service gateway`` on that file, with its own hub nats-server on
free ports) is asked every research view (GraphQL fields listed in :data:`VIEWS`) with each
filter of :data:`FILTERS` (national, one region, one group, one year, an exact-day period
whose first and last months are partial), ``--runs`` times each
after one warm-up, over HTTP as a researcher (a token made for the run). Prints per view and
filter the wall-clock p50/p95 of the request and the gateway's CPU per request (p50/p95, from
/proc/<pid>/task/*/schedstat: nanoseconds on a CPU, every thread, so SQLite's too): on a
loaded machine CPU is the steady number. PASS/FAIL: wall-clock p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from sqlalchemy import insert, inspect, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.clone_regions import clone
from bench.gateway_process import gateway_process
from bench.report import load, percentile
from deploy.natsserver import NatsServer
from services.gateway import app as gateway_app
from services.gateway.auth.tokens import create_token
from services.gateway.orm import interviews, memos, metadata
from services.gateway.research.store import ensure_first_codebook
from services.gateway.research.tables import (
    CONSENSUS,
    codebooks,
    coding_marks,
    codings,
    panel_persons,
)
from services.gateway.views import rollups
from services.gateway.views.refresh import rebuild
from shared.contracts import ACTIVITY_TYPES
from shared.storage import create_engine, session_factory
from shared.storage.migrations import alembic_config, version_table

CACHE = Path(__file__).resolve().parent / ".cache"
ROLLUPS = (rollups.MONTHS.table, rollups.COP.table)
LIMIT_MS = 100.0
CHUNK = 5000


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# -- the data -------------------------------------------------------------------------------


async def add_workspace(path: Path, coded: float, seed: int) -> dict[str, int]:
    """Codings, memos and panel interviews on the database's own meetings and members, then
    every fact rebuilt from the read model (what the gateway's rebuild does)."""
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    try:
        held = db.execute(
            "SELECT id, region, group_id, starts_at FROM meetings WHERE status = 'HELD' ORDER BY id"
        ).fetchall()
        people = db.execute(
            "SELECT id, region, joined_on FROM members WHERE joined_on IS NOT NULL ORDER BY id"
        ).fetchall()
    finally:
        db.close()
    engine = create_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await ensure_first_codebook(session)
            book = str(await session.scalar(select(codebooks.c.id)))
        rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("memos", "c", "k", "iv", "pp")}
        for meeting, region, group, starts in held:
            at = datetime.fromisoformat(starts).replace(tzinfo=UTC)
            rows["memos"].append(
                {
                    "meeting_id": meeting,
                    "region": region,
                    "group_id": group,
                    "summary": "A memo of the meeting.",
                    "published_at": at + timedelta(days=2),
                    "version": 1,
                }
            )
            if rng.random() >= coded:
                continue
            found = rng.sample(ACTIVITY_TYPES, rng.randrange(1, 4))
            for coder in ("coder-a", "coder-b", CONSENSUS):
                c = _id(rng)
                nothing = coder != CONSENSUS and rng.random() < 0.1
                rows["c"].append(
                    {
                        "id": c,
                        "codebook_id": book,
                        "meeting_id": meeting,
                        "coder_id": coder,
                        "region": region,
                        "group_id": group,
                        "nothing_found": nothing,
                        "note": "",
                        "reconciled_by": "coder-a" if coder == CONSENSUS else None,
                        "coded_at": at + timedelta(days=3),
                    }
                )
                mine = [] if nothing else (found if coder != "coder-b" else found[:1])
                for code in mine:
                    rows["k"].append(
                        {
                            "id": _id(rng),
                            "coding_id": c,
                            "code": code,
                            "example": f"{code.replace('_', ' ')} in {region}",
                            "quote": "",
                            "featured": rng.random() < 0.05,
                        }
                    )
        for member, region, joined in people:
            person = uuid.UUID(int=rng.getrandbits(128)).hex  # a region's person key
            for year in range(date.fromisoformat(joined).year, 2025, 2):
                iv = _id(rng)
                rows["iv"].append(
                    {
                        "id": iv,
                        "region": region,
                        "member_id": member,
                        "interviewed_on": date(year, 6, 1),
                        "intends_to_grow": rng.choice(("yes", "no", "unsure")),
                        "planned_hires": rng.randrange(3),
                        "barriers": "financing,time",
                        "version": 1,
                    }
                )
                rows["pp"].append({"interview_id": iv, "region": region, "person_key": person})
        tables = {
            "memos": memos,
            "c": codings,
            "k": coding_marks,
            "iv": interviews,
            "pp": panel_persons,
        }
        for name, table in tables.items():
            data = rows[name]
            for i in range(0, len(data), CHUNK):
                async with sessions() as session, session.begin():
                    await session.execute(insert(table), data[i : i + CHUNK])
        async with sessions() as session, session.begin():
            await rebuild(session)
        return {t.name: len(rows[k]) for k, t in tables.items()}
    finally:
        await engine.dispose()


async def prepare(source: Path, times: int, coded: float, seed: int) -> Path:
    """The measured database (cached): ``source`` with the workspace, ``times`` over."""
    base = CACHE / f"views-{source.stem}-c{coded:g}-seed{seed}.db"
    if not base.exists():
        t0 = time.perf_counter()
        part = base.with_suffix(".part")
        shutil.copyfile(source, part)
        made = await add_workspace(part, coded, seed)
        part.rename(base)
        print(f"workspace added in {time.perf_counter() - t0:.0f} s: {made}", flush=True)
    target = CACHE / f"{base.stem}-x{times}.db"
    if not target.exists():
        t0 = time.perf_counter()
        part = target.with_suffix(".part")
        counts = clone(base, part, times)
        part.rename(target)
        print(
            f"cloned x{times} in {time.perf_counter() - t0:.0f} s: {counts.get('regions')} "
            f"regions, {counts.get('groups')} groups, {counts.get('meetings')} meetings",
            flush=True,
        )
    return target


def stamp(url: str) -> None:
    """Mark the schema (made from orm.py, as the bench made it) as the migrations' newest,
    so the gateway's start-up migration has nothing to do; tables and indexes orm.py has
    that the cached file lacks (added since it was made) are created first, and roll-ups
    it lacked are filled from its facts (what the migration's rebuild would do)."""
    engine = create_engine(url)

    async def run() -> None:
        def at_head(conn: Any) -> list[str]:
            known = set(inspect(conn).get_table_names())
            added = [t.name for t in metadata.sorted_tables if t.name not in known]
            metadata.create_all(conn, checkfirst=True)
            for table in metadata.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            location = Path(gateway_app.__file__).parent / "migrations"
            config = alembic_config(
                location, version_table=version_table("gateway"), connection=conn
            )
            command.stamp(config, "head")
            return added

        async with engine.begin() as conn:
            added = await conn.run_sync(at_head)
        if {t.name for t in ROLLUPS} & set(added):
            started = time.process_time()
            async with session_factory(engine)() as session, session.begin():
                await rollups.rebuild(session)
            print(f"roll-ups filled from the facts: {time.process_time() - started:.0f} s CPU")
        await engine.dispose()

    asyncio.run(run())


def token(url: str) -> str:
    async def run() -> str:
        engine = create_engine(url)
        try:
            issued = await create_token(session_factory(engine), "researcher", label="bench")
            return issued.token
        finally:
            await engine.dispose()

    return asyncio.run(run())


def samples(path: Path, seed: int) -> tuple[list[str], list[str], str]:
    """Regions, groups (to pick from at random) and the codebook's id."""
    db = sqlite3.connect(path)
    try:
        regions = [r for (r,) in db.execute("SELECT id FROM regions ORDER BY id")]
        group_ids = [g for (g,) in db.execute("SELECT id FROM groups ORDER BY id")]
        book = db.execute("SELECT id FROM codebooks ORDER BY version LIMIT 1").fetchone()[0]
    finally:
        db.close()
    return regions, group_ids, book


# -- the queries ----------------------------------------------------------------------------

PAGE = "first: 100"
VIEWS: dict[str, str] = {
    "copActivityTable": "copActivityTable({F}) { activityType activities meetings groups example }",
    "copActivityTable byYear": (
        "copActivityTable(byYear: true{,F}) { activityType year activities groups }"
    ),
    "meetingsOverTime": "meetingsOverTime({F}) { month meetingsHeld attendanceRate }",
    "groupMonths": f"groupMonths({PAGE}{{,F}}) {{ edges {{ node {{ month attendanceRate }} }} }}",
    "retention": "retention({F}) { year membersStart retained retentionRate }",
    "hostRotation": (
        f"hostRotation({PAGE}{{,F}}) {{ edges {{ node {{ groupId distinctHosts "
        "meanDaysBetween } } }"
    ),
    "feedbackTrend": "feedbackTrend({F}) { month responseRate meanOverall recommendScore }",
    "initiativeStatuses": "initiativeStatuses({F}) { status initiatives members }",
    "groupHealth": (
        f"groupHealth({PAGE}{{,F}}) {{ edges {{ node {{ groupId churnRate hostedShare "
        "longestStreak feedbackTrend } } }"
    ),
    "codingAgreement": (
        f"codingAgreement({PAGE}{{,F}}) {{ edges {{ node {{ coderA kappa perType {{ kappa }} "
        "} } }"
    ),
    "regionOverview": (
        f"regionOverview({PAGE}{{,P}}) {{ edges {{ node {{ region meetingsHeld attendanceRate "
        "activities } } }"
    ),
    "table1": (
        "table1(codebookId: {B}{,F}) { rows { groups meetings activities examples { text } } }"
    ),
    "codebookAgreement": (
        "codebookAgreement(codebookId: {B}{,F}) { meetings pooled { kappa alpha } "
        "perCode { kappa alpha } }"
    ),
    "codingProgress": f"codingProgress(codebookId: {{B}}, {PAGE}{{,F}}) {{ coders }}",
    "panelInterviews": f"panelInterviews({PAGE}{{,F}}) {{ items {{ personKey wave }} }}",
    "growthIntentions byYear": "growthIntentions(by: YEAR{,F}) { period persons yes }",
    "growthIntentions byCohort": "growthIntentions(by: JOIN_COHORT{,F}) { period persons yes }",
    "retentionByCohort": "retentionByCohort({F}) { cohort joined survival { rate } }",
    "firmSizeByYear": "firmSizeByYear({F}) { year firms employeesMedian }",
    "activities": f"activities({PAGE}{{,F}}) {{ edges {{ node {{ id example }} }} }}",
    "memos": f"memos({PAGE}{{,F}}) {{ edges {{ node {{ meetingId summary }} }} }}",
}
FILTERS = ("national", "region", "group", "year", "days")
YEAR = 'from: "2019-01-01", to: "2019-12-31"'
DAYS = 'from: "2019-03-05", to: "2021-07-09"'  # partial first and last months


def query_of(template: str, kind: str, region: str, group: str, book: str) -> str:
    args = {
        "national": "",
        "region": f'region: "{region}"',
        "group": f'groupId: "{group}"',
        "year": YEAR,
        "days": DAYS,
    }[kind]
    period = {"year": YEAR, "days": DAYS}.get(kind, "")
    text = template.replace("{B}", f'"{book}"')
    for mark, value in (("F", args), ("P", period)):
        text = text.replace(f"({{{mark}}})", f"({value})" if value else "")
        text = text.replace(f"{{,{mark}}}", f", {value}" if value else "")
    return "{ " + text + " }"


def applies(name: str, kind: str) -> bool:
    # the per-region overview lists every region: it takes a period only
    return not (name == "regionOverview" and kind in ("region", "group"))


def cpu_ns(pid: int) -> int:
    """Nanoseconds ``pid`` has run on a CPU, all its threads (schedstat's first field)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as stat:
                total += int(stat.read().split()[0])
        except OSError:  # a thread that ended meanwhile
            continue
    return total


def measure(
    client: httpx.Client,
    pid: int,
    name: str,
    kind: str,
    runs: int,
    picks: tuple[list[str], list[str], str],
    rng: random.Random,
) -> dict[str, Any]:
    regions, group_ids, book = picks
    took, cpu = [], []
    for n in range(runs + 1):
        query = query_of(VIEWS[name], kind, rng.choice(regions), rng.choice(group_ids), book)
        c0, t0 = cpu_ns(pid), time.perf_counter()
        response = client.post("/graphql", json={"query": query})
        t1, c1 = time.perf_counter(), cpu_ns(pid)
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise SystemExit(f"{name} ({kind}): {response.status_code} {body}\n{query}")
        if n:  # the first is a warm-up (statsmodels' first import, caches)
            took.append((t1 - t0) * 1000)
            cpu.append((c1 - c0) / 1e6)
    p95 = percentile(took, 0.95)
    return {
        "view": name,
        "filter": kind,
        "runs": runs,
        "p50_ms": round(percentile(took, 0.5), 1),
        "p95_ms": round(p95, 1),
        "cpu_p50_ms": round(percentile(cpu, 0.5), 1),
        "cpu_p95_ms": round(percentile(cpu, 0.95), 1),
        "verdict": "PASS" if p95 < LIMIT_MS else "FAIL",
    }


def run(db: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    url = f"sqlite:///{db}"
    stamp(url)
    bearer = token(url)
    picks = samples(db, args.seed)
    print(
        f"{len(picks[0]):,} regions, {len(picks[1]):,} groups in {db.name} "
        f"({db.stat().st_size / 1e9:.1f} GB)",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="mgn-research-views-"))
    hub = NatsServer.hub(work / "hub")
    gateway, port = gateway_process(work, url, hub.client_url)
    results = []
    try:
        asyncio.run(hub.astart())
        gateway.spawn()
        gateway.wait_healthy(120)
        assert gateway.pid is not None
        rng = random.Random(args.seed)
        only = set(args.views.split(",")) if args.views else set(VIEWS)
        headers = {"Authorization": f"Bearer {bearer}"}
        base = f"http://127.0.0.1:{port}"
        print(
            f"\n{'view':<27}{'filter':<10}{'p50 ms':>8}{'p95 ms':>8}{'cpu p50':>9}"
            f"{'cpu p95':>9}  verdict   ({load()})",
            flush=True,
        )
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for name in VIEWS:
                if name not in only:
                    continue
                for kind in args.filters.split(","):
                    if not applies(name, kind):
                        continue
                    r = measure(client, gateway.pid, name, kind, args.runs, picks, rng)
                    results.append(r)
                    print(
                        f"{name:<27}{kind:<10}{r['p50_ms']:>8.1f}{r['p95_ms']:>8.1f}"
                        f"{r['cpu_p50_ms']:>9.1f}{r['cpu_p95_ms']:>9.1f}  {r['verdict']}",
                        flush=True,
                    )
        print(f"({load()})", flush=True)
    finally:
        gateway.stop()
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=CACHE / "research-s0_02.db",
        help="a bench/research.py SQLite database (default: its --scale 0.02 cache)",
    )
    parser.add_argument("--times", type=int, default=50, help="copies of its regions")
    parser.add_argument("--coded", type=float, default=0.3, help="share of meetings coded")
    parser.add_argument("--runs", type=int, default=20, help="requests per view and filter")
    parser.add_argument("--filters", default=",".join(FILTERS))
    parser.add_argument("--views", default="", help="comma list (default: every view)")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    if not args.source.exists():
        parser.error(f"{args.source} does not exist: run bench/research.py --scale 0.02 first")
    db = asyncio.run(prepare(args.source, args.times, args.coded, args.seed))
    results = run(db, args)
    out = CACHE / f"views-results-x{args.times}.json"
    out.write_text(json.dumps(results, indent=2))
    return 1 if any(r["verdict"] == "FAIL" for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
