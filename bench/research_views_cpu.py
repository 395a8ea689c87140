"""Benchmark: the roll-up views' queries in one process, CPU per answer, by filter.

    python bench/research_views.py --times 5 --views meetingsOverTime   # builds the x5 cache
    python bench/research_views_cpu.py --times 5
    python bench/research_views_cpu.py --times 10 --runs 5

Runs the selects the GraphQL fields run (services/gateway/views/queries.py) for
copActivityTable (with examples, and byYear), meetingsOverTime, feedbackTrend, groupMonths
(a page of 100) and regionOverview (a page of 100) with each filter of :data:`FILTERS`
(national, one region, one group, the year 2019, and an exact-day period whose first and
last months are partial) on a cached ``bench/research_views.py`` database, and prints the
process's CPU per answer (p50/p95 ms; SQLite's thread included) after one warm-up. Without
HTTP, token and GraphQL (a fixed ~10-20 ms per request over HTTP), so x5 and x10 show
what grows with the number of regions.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import load, percentile
from bench.research_views import CACHE, stamp
from services.gateway.orm import fact_meetings, fact_months, regions
from services.gateway.views import queries
from services.gateway.views.queries import Scope
from shared.storage import create_engine, session_factory

FILTERS = ("national", "region", "group", "year", "days")
DAYS = (date(2019, 3, 5), date(2021, 7, 9))  # partial first and last months
PAGE = 100


def _group_months(scope: Scope) -> Select[Any]:
    rolled = queries.group_months_rolled(scope)
    if rolled is not None:
        return rolled[0].order_by(fact_months.c.scope, fact_months.c.month).limit(PAGE + 1)
    v = fact_meetings.c
    return queries.group_months(scope).order_by(v.group_id, v.month).limit(PAGE + 1)


VIEWS: dict[str, Callable[[Scope], Select[Any]]] = {
    "copActivityTable": lambda s: queries.cop_table(s, examples=True),
    "copActivityTable byYear": lambda s: queries.cop_table(s, examples=True, by_year=True),
    "meetingsOverTime": queries.meetings_over_time,
    "feedbackTrend": queries.feedback_trend,
    "groupMonths (100)": _group_months,
    "regionOverview (100)": lambda s: (
        queries.region_overview(s).order_by(regions.c.id).limit(PAGE + 1)
    ),
}


def scope_of(kind: str, region: str, group: str) -> Scope:
    return {
        "national": Scope(),
        "region": Scope(region=region),
        "group": Scope(group_id=group),
        "year": Scope(from_=date(2019, 1, 1), to=date(2019, 12, 31)),
        "days": Scope(from_=DAYS[0], to=DAYS[1]),
    }[kind]


def applies(name: str, kind: str) -> bool:
    return not (name.startswith("regionOverview") and kind in ("region", "group"))


async def measure(url: str, runs: int, only: set[str], kinds: list[str], seed: int) -> None:
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        region_ids = [r for (r,) in db.execute("SELECT id FROM regions ORDER BY id")]
        group_ids = [g for (g,) in db.execute("SELECT id FROM groups ORDER BY id")]
    finally:
        db.close()
    print(f"{len(region_ids):,} regions, {len(group_ids):,} groups ({load()})", flush=True)
    print(f"{'view':<26}{'filter':<10}{'rows':>6}{'cpu p50':>9}{'cpu p95':>9}", flush=True)
    rng = random.Random(seed)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        for name, build in VIEWS.items():
            if only and name not in only:
                continue
            for kind in kinds:
                if not applies(name, kind):
                    continue
                cpu, rows = [], 0
                for n in range(runs + 1):
                    scope = scope_of(kind, rng.choice(region_ids), rng.choice(group_ids))
                    async with sessions() as session:
                        c0 = time.process_time()
                        rows = len((await session.execute(build(scope))).all())
                        c1 = time.process_time()
                    if n:  # the first is a warm-up
                        cpu.append((c1 - c0) * 1000)
                print(
                    f"{name:<26}{kind:<10}{rows:>6}{percentile(cpu, 0.5):>9.1f}"
                    f"{percentile(cpu, 0.95):>9.1f}",
                    flush=True,
                )
    finally:
        await engine.dispose()
    print(f"({load()})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--times", type=int, default=5, help="which x<times> cache")
    parser.add_argument("--db", type=Path, default=None, help="a research_views database")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--views", default="", help="comma list (default: every view)")
    parser.add_argument("--filters", default=",".join(FILTERS))
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    db = args.db or CACHE / f"views-research-s0_02-c0.3-seed3-x{args.times}.db"
    if not db.exists():
        parser.error(f"{db} does not exist: run bench/research_views.py --times {args.times}")
    url = f"sqlite:///{db}"
    stamp(url)  # tables, indexes and roll-ups this code has that the cached file lacks
    only = set(args.views.split(",")) if args.views else set()
    asyncio.run(measure(url, args.runs, only, args.filters.split(","), args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
