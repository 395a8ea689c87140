"""Benchmark: the gateway's decode + apply path alone, in this process, without NATS.

    python bench/project_cost.py --events 50000                 # one region, SQLite
    python bench/project_cost.py --events 50000 --regions 1000 --db postgres
    python bench/project_cost.py --events 50000 --profile /tmp/project.prof

The case's events (bench/events.py, as bench/scaling.py builds them) are encoded as they
travel (subject + JSON body) beforehand; then, per batch of ``--batch``, exactly what the
gateway's consumer does with a fetched batch minus the broker: :func:`shared.contracts.decode`
with the subject check, and the consumer's ``projecting`` apply (admit against the processed
marks, the families, the facts, the snapshot, one commit) into a fresh read model. Prints the
process CPU µs per event over the run and over its last quarter (the events that meet the
most history), and wall-clock events/s. With SQLite the database work runs in this process
and is counted; PostgreSQL's server processes are not. ``--profile FILE`` runs it under
cProfile and prints the top functions by cumulative and own time; ``--statements N``
(SQLite) prints the N statements, COMMIT included, that took most CPU in SQLite's thread.

    python bench/project_cost.py --events 200000 --statements 20
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiosqlite

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cpu import own_cpu_seconds
from bench.databases import PG_ADMIN, database_url, drop_postgres_databases
from bench.report import load
from bench.scaling import Case
from services.gateway.orm import TABLES
from services.gateway.orm import metadata as gateway_metadata
from services.gateway.projections import project
from services.gateway.settings import GatewaySettings
from shared.contracts import DecodedEvent, decode, encode, subject_for
from shared.messaging.consumer import projecting
from shared.storage import create_engine, create_schema, session_factory
from shared.storage.sqlite_driver import OneTripCursor

# --statements: CPU seconds in SQLite's thread and executions, by statement
STATEMENT_CPU: dict[str, float] = defaultdict(float)
STATEMENT_RUNS: dict[str, int] = defaultdict(int)


def _time_statements() -> None:
    """Make the one-trip SQLite driver add each statement's CPU in SQLite's thread
    (execute and fetch, :func:`time.thread_time`) to :data:`STATEMENT_CPU` by its SQL (the
    bench runs one statement at a time)."""
    run = OneTripCursor._run
    label = [""]

    def labelled(method: Any) -> Any:
        async def call(self: Any, operation: Any, parameters: Any) -> Any:
            label[0] = " ".join(str(operation).split())
            return await method(self, operation, parameters)

        return call

    async def timed_run(self: Any, work: Any) -> Any:
        sql, fetched = label[0], []

        def timed(cursor: Any) -> None:
            started = time.thread_time()
            work(cursor)
            if cursor.description:  # fetched here, timed; the trip's fetchall finds none
                fetched.append(cursor.fetchall())
            STATEMENT_CPU[sql] += time.thread_time() - started
            STATEMENT_RUNS[sql] += 1

        done = await run(self, timed)
        if fetched:
            self._rows = collections.deque(fetched[0])
        return done

    async def timed_commit(self: Any) -> None:
        def timed() -> None:
            started = time.thread_time()
            self._conn.commit()
            STATEMENT_CPU["COMMIT"] += time.thread_time() - started
            STATEMENT_RUNS["COMMIT"] += 1

        await self._execute(timed)

    aiosqlite.Connection.commit = timed_commit  # type: ignore[method-assign]
    OneTripCursor._run = timed_run  # type: ignore[method-assign]
    OneTripCursor._execute_async = labelled(OneTripCursor._execute_async)  # type: ignore[method-assign]
    OneTripCursor._executemany_async = labelled(OneTripCursor._executemany_async)  # type: ignore[method-assign]


async def run(
    url: str, wire: list[tuple[str, bytes]], batch: int, cache_mb: int
) -> tuple[float, float, float, float]:
    """(wall s, CPU s, CPU s of the last quarter, CPU s of the event loop's thread) of
    decoding and applying ``wire``."""
    engine = create_engine(url, sqlite_cache_mb=cache_mb)
    await create_schema(engine, gateway_metadata)
    apply = projecting(session_factory(engine), TABLES, project)
    quarter_at = int(len(wire) * 0.75) // batch * batch
    tail_cpu = 0.0
    try:
        started, cpu, loop_cpu = time.perf_counter(), own_cpu_seconds(), time.thread_time()
        for start in range(0, len(wire), batch):
            if start == quarter_at:
                tail_cpu = own_cpu_seconds()
            events: list[DecodedEvent] = []
            for offset, (subject, body) in enumerate(wire[start : start + batch]):
                decoded = decode(body, subject)  # the consumer's own steps (its _with_stream_seq)
                events.append(DecodedEvent(decoded.envelope, decoded.event, start + offset + 1))
            await apply(events)
        end, loop_end = own_cpu_seconds(), time.thread_time()
        return time.perf_counter() - started, end - cpu, end - tail_cpu, loop_end - loop_cpu
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--regions", type=int, default=1)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument(
        "--sqlite-cache-mb",
        type=int,
        default=GatewaySettings().sqlite_cache_mb,
        help="SQLite page cache per connection (the gateway's setting by default; 0: 2 MB)",
    )
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile stats here")
    parser.add_argument(
        "--statements",
        type=int,
        default=0,
        help="SQLite: print the N statements that took most CPU in SQLite's thread",
    )
    args = parser.parse_args()
    if args.statements:
        _time_statements()
    workdir = Path(tempfile.mkdtemp(prefix="mgn-project-cost-"))
    case = Case(f"{args.events:,} events, {args.regions:,} regions", args.events, args.regions)
    wire = [(subject_for(e), encode(e)) for e in case.envelopes()]
    url = asyncio.run(database_url(args.db, workdir, "cost", args.pg_admin_url))
    print(
        f"{case.label} ({len(wire):,} encoded), {args.db}, batches of {args.batch}, "
        f"SQLite cache {args.sqlite_cache_mb or 2} MB ({load()})"
    )
    try:
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        wall, cpu, tail, loop_cpu = asyncio.run(run(url, wire, args.batch, args.sqlite_cache_mb))
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        n = len(wire)
        driver = max(cpu - loop_cpu, 0.0)  # PostgreSQL: none (its work is the server's)
        last = n - int(n * 0.75) // args.batch * args.batch
        print(
            f"{args.db}: {n / wall:,.0f} events/s, CPU {1e6 * cpu / n:,.0f} µs/event "
            f"(last quarter {1e6 * tail / last:,.0f}; event loop's thread "
            f"{1e6 * loop_cpu / n:,.0f}, the driver's threads {1e6 * driver / n:,.0f}) "
            f"= {n / cpu:,.0f} events/s per core ({load()})"
        )
        if args.statements:
            print("CPU in SQLite's thread by statement (µs per event; runs):")
            for sql, seconds in sorted(STATEMENT_CPU.items(), key=lambda kv: -kv[1])[
                : args.statements
            ]:
                print(f"{1e6 * seconds / n:8.1f}  {STATEMENT_RUNS[sql]:7,}  {sql[:150]}")
        if args.profile:
            stats = pstats.Stats(str(args.profile))
            stats.sort_stats("cumulative").print_stats(35)
            stats.sort_stats("tottime").print_stats(30)
    finally:
        if args.db == "postgres":
            asyncio.run(drop_postgres_databases(args.pg_admin_url))
        shutil.rmtree(workdir, ignore_errors=True)  # its SQLite files (~260 MB at 200,000 events)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
