"""Benchmark: the research views and 100-item pages over data at the scale of domain.md.

    python bench/research.py --db sqlite --scale 0.1     # 100 regions, 10,000 companies
    python bench/research.py --db postgres --scale 0.1
    nice -n 10 python bench/research.py --db sqlite      # 1,000 regions, 100,000 companies

Data: 1,000 x scale regions of 100 companies each (in groups of 10), ten years (2015-2024)
of monthly meetings (scheduled + held with attendance, a few cancelled), 1-3 CoP activities
per meeting (a second researcher codes a tenth of them), a survey after half the meetings
(0-6 responses, most closed), members leaving and initiatives. Generated synthetically
THROUGH THE PROJECTION PATH: every region's events are one batch given to
``services.gateway.projections.project`` (the function the consumer calls), which also
keeps the research facts of what each batch touched in the same transaction. Events are
built as validated contract models directly (no JSON round trip; the projection reads the
decoded event, not the payload). The generated database is cached under bench/.cache
(gitignored) and reused by later runs with the same --db, --scale and --seed.

Then every research view is asked through the GraphQL schema (national and per region, with
filters), and 100-item pages of the big connections at random cursors; prints p50/p95 per
query and PASS/FAIL against p95 < 100 ms (views) and < 50 ms (pages).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.gateway.graphql import GatewayContext, schema
from services.gateway.graphql.cursor import encode as encode_cursor
from services.gateway.orm import groups, metadata, regions
from services.gateway.projections import project
from services.gateway.views.compute import WENGER_TYPES
from shared.contracts import (
    ActivityRecorded,
    DecodedEvent,
    Envelope,
    Event,
    GroupCreated,
    InitiativeStarted,
    InitiativeUpdated,
    MeetingCancelled,
    MeetingHeld,
    MeetingScheduled,
    MemberJoined,
    MemberLeft,
    RegionAnnounced,
    ResponseSubmitted,
    SurveyClosed,
    SurveyOpened,
)
from shared.storage import create_engine, create_schema, session_factory

CACHE = Path(__file__).resolve().parent / ".cache"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
VIEW_P95_MS, PAGE_P95_MS = 100.0, 50.0
COMPANIES_PER_REGION, MEMBERS_PER_GROUP, YEARS = 100, 10, 10
START = date(2015, 1, 1)


class Region:
    """One region's events, in the order its outboxes would publish them."""

    def __init__(self, index: int, rng: random.Random) -> None:
        self.id = f"r{index:04d}"
        self.rng = rng
        self.events: list[DecodedEvent] = []
        self.seq: dict[uuid.UUID, int] = {}

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def emit(self, event: Event, aggregate: uuid.UUID, at: datetime) -> None:
        self.seq[aggregate] = n = self.seq.get(aggregate, 0) + 1
        envelope = Envelope(
            event_id=self.uid(),
            type=event.TYPE,
            schema_version=event.VERSION,
            region=self.id,
            aggregate_id=aggregate,
            sequence=n,
            occurred_at=at,
            payload={},
        )
        self.events.append(DecodedEvent(envelope=envelope, event=event))


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def region_events(index: int, seed: int) -> list[DecodedEvent]:
    rng = random.Random(seed * 100_003 + index)
    r = Region(index, rng)
    r.emit(RegionAnnounced(display_name=f"Region {index}"), r.uid(), _noon(START))
    coders = [r.uid() for _ in range(2)]
    for g in range(COMPANIES_PER_REGION // MEMBERS_PER_GROUP):
        _group(r, g, coders)
    return r.events


def _group(r: Region, g: int, coders: list[uuid.UUID]) -> None:
    rng = r.rng
    group = r.uid()
    founded = START + timedelta(days=rng.randrange(60))
    r.emit(
        GroupCreated(group_id=group, name=f"{r.id}-{g}", founded_on=founded), group, _noon(founded)
    )
    members: dict[uuid.UUID, date | None] = {}  # id -> left_on
    for _ in range(MEMBERS_PER_GROUP):
        m = r.uid()
        joined = founded + timedelta(days=rng.randrange(400))
        r.emit(
            MemberJoined(
                member_id=m, group_id=group, joined_on=joined, employees=rng.randrange(10)
            ),
            m,
            _noon(joined),
        )
        left = joined + timedelta(days=rng.randrange(300, 6000)) if rng.random() < 0.3 else None
        if left is not None and left < date(2025, 1, 1):
            r.emit(MemberLeft(member_id=m, group_id=group, left_on=left), m, _noon(left))
            members[m] = left
        else:
            members[m] = None
    people = list(members)
    for month in range(YEARS * 12):
        year, mon = START.year + month // 12, month % 12 + 1
        starts = datetime(year, mon, 10 + rng.randrange(15), 16, tzinfo=UTC)
        here = [m for m, left in members.items() if left is None or left > starts.date()]
        meeting = r.uid()
        host = rng.choice(here or people)
        r.emit(
            MeetingScheduled(
                meeting_id=meeting, group_id=group, host_member_id=host, starts_at=starts, theme="t"
            ),
            meeting,
            starts - timedelta(days=14),
        )
        if rng.random() < 0.04:
            r.emit(MeetingCancelled(meeting_id=meeting, group_id=group), meeting, starts)
            continue
        came = rng.sample(here, max(1, int(len(here) * rng.uniform(0.5, 0.95)))) if here else []
        r.emit(
            MeetingHeld(
                meeting_id=meeting, group_id=group, held_at=starts, attendee_member_ids=tuple(came)
            ),
            meeting,
            starts + timedelta(hours=2),
        )
        coded_by = coders if rng.random() < 0.1 else coders[:1]
        for coder in coded_by:
            for kind in rng.sample(WENGER_TYPES, rng.randrange(1, 4)):
                a = r.uid()
                r.emit(
                    ActivityRecorded(
                        activity_id=a,
                        meeting_id=meeting,
                        group_id=group,
                        activity_type=kind,  # type: ignore[arg-type]
                        example=f"{kind.replace('_', ' ')} at {r.id}",
                        coder_id=coder,
                    ),
                    a,
                    starts + timedelta(days=1),
                )
        if came and rng.random() < 0.5:
            _survey(r, group, meeting, len(came), starts)
        if month % 12 == 6:
            _initiative(r, group, people, starts)


def _survey(r: Region, group: uuid.UUID, meeting: uuid.UUID, invited: int, at: datetime) -> None:
    rng = r.rng
    s = r.uid()
    r.emit(
        SurveyOpened(
            survey_id=s,
            meeting_id=meeting,
            group_id=group,
            invited=invited,
            closes_at=at + timedelta(days=7),
        ),
        s,
        at + timedelta(hours=3),
    )
    answers = rng.randrange(0, min(invited, 6) + 1)
    for _ in range(answers):
        resp = r.uid()
        overall = rng.randrange(2, 6)
        r.emit(
            ResponseSubmitted(
                response_id=resp,
                survey_id=s,
                meeting_id=meeting,
                group_id=group,
                overall=overall,
                usefulness=rng.randrange(1, 6),
                recommend=min(10, overall * 2 + rng.randrange(0, 2)),
            ),
            resp,
            at + timedelta(days=1),
        )
    if rng.random() < 0.9:
        closed = SurveyClosed(
            survey_id=s, meeting_id=meeting, group_id=group, invited=invited, responses=answers
        )
        r.emit(closed, s, at + timedelta(days=7))


def _initiative(r: Region, group: uuid.UUID, people: list[uuid.UUID], at: datetime) -> None:
    rng = r.rng
    i = r.uid()
    joined = tuple(rng.sample(people, rng.randrange(2, 5)))
    r.emit(
        InitiativeStarted(
            initiative_id=i, group_id=group, title="joint", member_ids=joined, started_on=at.date()
        ),
        i,
        at,
    )
    if rng.random() < 0.6:
        done = at + timedelta(days=rng.randrange(30, 300))
        r.emit(
            InitiativeUpdated(
                initiative_id=i,
                group_id=group,
                status=rng.choice(["completed", "paused", "abandoned"]),  # type: ignore[arg-type]
                member_ids=joined,
                updated_on=done.date(),
            ),
            i,
            done,
        )


# -- databases --------------------------------------------------------------------------------


def database_url(db: str, scale: float) -> str:
    tag = f"s{scale:g}".replace(".", "_")
    if db == "sqlite":
        return f"sqlite:///{CACHE / f'research-{tag}.db'}"
    return f"postgresql://postgres@127.0.0.1:5432/views_bench_{tag}"


def _meta_path(db: str, scale: float) -> Path:
    return CACHE / f"research-{db}-s{scale:g}.json"


async def _reset(db: str, url: str) -> None:
    if db == "sqlite":
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - before any I/O
        return
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _bulk_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA cache_size=-1000000")  # 1 GB (KiB when negative)
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA wal_autocheckpoint=100000")
    cursor.close()


async def generate(db: str, scale: float, seed: int) -> dict[str, Any]:
    """Fill (or reuse) the cached database; returns what was generated and how fast."""
    CACHE.mkdir(parents=True, exist_ok=True)
    meta = _meta_path(db, scale)
    url = database_url(db, scale)
    if meta.exists():
        found: dict[str, Any] = json.loads(meta.read_text())
        if found.get("seed") == seed:
            print(f"reusing the cached {db} database ({found['events']:,} events)", flush=True)
            return found
    meta.unlink(missing_ok=True)
    await _reset(db, url)
    engine = create_engine(url)
    if db == "sqlite":  # bulk load: a big page cache; a crash only loses this cache file
        event.listen(engine.sync_engine, "connect", _bulk_pragmas)
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    count = max(1, round(1000 * scale))
    events = 0
    build = apply = 0.0
    started = time.perf_counter()
    try:
        for index in range(count):
            t0 = time.perf_counter()
            batch = region_events(index, seed)
            t1 = time.perf_counter()
            async with sessions() as session, session.begin():
                await project(session, batch)
            t2 = time.perf_counter()
            build, apply, events = build + t1 - t0, apply + t2 - t1, events + len(batch)
            if index % max(1, count // 20) == 0 or index == count - 1:
                rate = events / (time.perf_counter() - started)
                print(
                    f"  {index + 1}/{count} regions, {events:,} events, {rate:,.0f} ev/s",
                    flush=True,
                )
    finally:
        await engine.dispose()
    seconds = time.perf_counter() - started
    found = {
        "db": db,
        "scale": scale,
        "seed": seed,
        "regions": count,
        "events": events,
        "seconds": round(seconds, 1),
        "events_per_second": round(events / seconds),
        "build_seconds": round(build, 1),
        "project_seconds": round(apply, 1),
    }
    meta.write_text(json.dumps(found, indent=2))
    return found


# -- measuring ------------------------------------------------------------------------------


VIEWS: dict[str, str] = {
    "copActivityTable": "copActivityTable{R} { activityType year activities example }",
    "copActivityTable(type, period)": (
        'copActivityTable(type: VISITS, from: "2018-01-01", to: "2020-12-31"{RC}) '
        "{ year activities }"
    ),
    "meetingsOverTime": "meetingsOverTime{R} { month meetingsHeld attendanceRate }",
    "retention": "retention{R} { year membersStart retained retentionRate }",
    "feedbackTrend": "feedbackTrend{R} { month responseRate meanOverall recommendScore }",
    "initiativeStatuses": "initiativeStatuses{R} { status initiatives members }",
    "codingAgreement(first: 100)": (
        "codingAgreement(first: 100{RC}) { edges { node { coderA kappa perType { kappa } } } }"
    ),
}
PAGES: dict[str, str] = {
    "regionOverview(first: 100)": (
        "regionOverview(first: 100{A}) { edges { node { region meetingsHeld attendanceRate } } }"
    ),
    "groupHealth(first: 100)": (
        "groupHealth(first: 100{A}) { edges { node { groupId churnRate hostedShare } } }"
    ),
    "hostRotation(first: 100)": (
        "hostRotation(first: 100{A}) { edges { node { groupId distinctHosts } } }"
    ),
    "groupMonths(region, first: 100)": (
        "groupMonths(first: 100{RC}) { edges { node { month attendanceRate } } }"
    ),
    "meetings(first: 100)": "meetings(first: 100{RC}) { edges { node { id startsAt } } }",
    "activities(first: 100)": "activities(first: 100{RC}) { edges { node { id example } } }",
    "groups(first: 100)": "groups(first: 100{RC}) { edges { node { id name } } }",
}


async def _timed(sessions: Any, query: str) -> float:
    t0 = time.perf_counter()
    result = await schema.execute(query, context_value=GatewayContext.create(sessions))
    elapsed = (time.perf_counter() - t0) * 1000
    if result.errors:
        raise RuntimeError(f"{query}: {result.errors}")
    return elapsed


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(db: str, scale: float, runs: int, seed: int) -> list[dict[str, Any]]:
    engine = create_engine(database_url(db, scale))
    sessions = session_factory(engine)
    rng = random.Random(seed)
    try:
        async with sessions() as session:
            region_ids = [r for (r,) in await session.execute(select(regions.c.id))]
            health_keys = [
                (r, g) for r, g in await session.execute(select(groups.c.region, groups.c.id))
            ]
            group_total = await session.scalar(select(func.count()).select_from(groups))
        print(f"{len(region_ids)} regions, {group_total} groups in the read model", flush=True)
        results = []
        for name, template in VIEWS.items():
            times = []
            for i in range(runs):
                region = rng.choice(region_ids)
                national = i % 2 == 0  # half national, half one region
                field = template.replace("{R}", "" if national else f'(region: "{region}")')
                field = field.replace("{RC}", "" if national else f', region: "{region}"')
                times.append(await _timed(sessions, "{ " + field + " }"))
            results.append(_row("view", name, times, VIEW_P95_MS))
        for name, template in PAGES.items():
            times = []
            for _ in range(runs):
                region = rng.choice(region_ids)
                r, g = rng.choice(health_keys)
                after = {
                    "regionOverview(first: 100)": encode_cursor("regionOverview", [region]),
                    "groupHealth(first: 100)": encode_cursor("groupHealth", [r, g]),
                    "hostRotation(first: 100)": encode_cursor("hostRotation", [r, g]),
                }.get(name)
                field = template.replace("{A}", f', after: "{after}"' if after else "")
                field = field.replace("{RC}", f', region: "{region}"')
                times.append(await _timed(sessions, "{ " + field + " }"))
            results.append(_row("page", name, times, PAGE_P95_MS))
        times = [await _timed(sessions, "{ regions { id lastEventAt } }") for _ in range(runs)]
        results.append(_row("reference", "regions (unpaged, all)", times, VIEW_P95_MS))
        results.append(await live_batch(sessions, region_ids, rng))
    finally:
        await engine.dispose()
    return results


async def live_batch(sessions: Any, region_ids: list[str], rng: random.Random) -> dict[str, Any]:
    """The cost of the same-transaction fact maintenance on the live path: a batch of 40
    events spread over 20 regions (a new group and its first member in each), projected
    with the facts' upkeep and rolled back (the cached database stays as generated)."""
    chosen = rng.sample(region_ids, min(20, len(region_ids)))
    batch: list[DecodedEvent] = []
    for region_id in chosen:
        r = Region(int(region_id[1:]), rng)
        g, m = r.uid(), r.uid()
        day = date(2025, 1, 2)
        r.emit(GroupCreated(group_id=g, name="new", founded_on=day), g, _noon(day))
        r.emit(MemberJoined(member_id=m, group_id=g, joined_on=day, employees=1), m, _noon(day))
        batch += r.events
    times = []
    for _ in range(3):
        async with sessions() as session:
            t0 = time.perf_counter()
            await project(session, batch)
            times.append((time.perf_counter() - t0) * 1000)
            await session.rollback()
    row = _row("live", f"batch of {len(batch)} events over {len(chosen)} regions", times, 0)
    row["verdict"] = f"{statistics.median(times) / len(chosen):.1f} ms per region touched"
    return row


def _row(kind: str, name: str, times: list[float], limit: float) -> dict[str, Any]:
    p95 = _p(times, 0.95)
    return {
        "kind": kind,
        "name": name,
        "runs": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(p95, 1),
        "limit_ms": limit,
        "verdict": "PASS" if p95 < limit else "FAIL",
    }


async def _describe(args: argparse.Namespace) -> dict[str, Any]:
    """What a database without its record holds (a generation stopped part-way)."""
    engine = create_engine(database_url(args.db, args.scale))
    try:
        async with session_factory(engine)() as session:
            count = await session.scalar(select(func.count()).select_from(regions))
            events = await session.scalar(select(func.sum(regions.c.events_applied)))
    finally:
        await engine.dispose()
    return {
        "db": args.db,
        "scale": args.scale,
        "regions": int(count or 0),
        "events": int(events or 0),
        "seconds": float("nan"),
        "events_per_second": 0,
        "build_seconds": float("nan"),
        "project_seconds": float("nan"),
        "partial": True,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 1,000 regions")
    parser.add_argument("--runs", type=int, default=40, help="queries per line")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="measure the database as it is (e.g. a generation stopped part-way)",
    )
    args = parser.parse_args()
    print(f"== research views on {args.db}, scale {args.scale:g}", flush=True)
    if args.measure_only:
        meta = _meta_path(args.db, args.scale)
        made = json.loads(meta.read_text()) if meta.exists() else await _describe(args)
    else:
        made = await generate(args.db, args.scale, args.seed)
    print(
        f"generated {made['events']:,} events for {made['regions']:,} regions in "
        f"{made['seconds']:,.0f} s ({made['events_per_second']:,} ev/s; building events "
        f"{made['build_seconds']:,.0f} s, projecting + views {made['project_seconds']:,.0f} s)",
        flush=True,
    )
    results = await measure(args.db, args.scale, args.runs, args.seed)
    width = max(len(r["name"]) for r in results)
    print(f"{'kind':<10} {'query':<{width}} {'p50 ms':>8} {'p95 ms':>8} {'limit':>6}  verdict")
    for r in results:
        print(
            f"{r['kind']:<10} {r['name']:<{width}} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
            f"{r['limit_ms']:>6.0f}  {r['verdict']}"
        )
    out = CACHE / f"results-{args.db}-s{args.scale:g}.json"
    out.write_text(json.dumps({"generated": made, "results": results}, indent=2))
    failed = [r for r in results if r["kind"] in ("view", "page") and r["verdict"] == "FAIL"]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
