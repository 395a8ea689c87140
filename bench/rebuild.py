"""Benchmark: `mgn hub rebuild`'s engine replaying N events of NATIONAL into a fresh read model.

    python bench/rebuild.py --events 1000000 --db sqlite     # the issue's size
    python bench/rebuild.py --events 100000 --db sqlite,postgres --workdir /tmp/rb100k

A hub nats-server of its own gets a stream ``FEED`` that NATIONAL sources; ``--events``
realistic events (bench/events.py, over ``--regions`` regions) are published to it, then
:func:`services.gateway.rebuild.rebuild_into` replays NATIONAL into a fresh database with its
progress bar. Prints the time (and of each phase: load, record and indexes, facts), events/s,
the CPU this process spent per event (decoding, projecting and, with SQLite, the database's
own work, which runs in the process; PostgreSQL's server processes are not counted) and what
that predicts for 1,000,000 events.

The events are generated in this process by bench/events.py (``bench.scaling.Case``:
``--regions`` regions' streams interleaved) and published with ``publish_async`` straight to
``FEED`` on the hub, which NATIONAL sources; filling is timed separately.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nats
from nats.js.errors import NotFoundError
from sqlalchemy.engine import make_url

from bench.databases import PG_ADMIN, database_url, drop_postgres_databases
from bench.report import load
from bench.scaling import Case, fill
from deploy.natsserver import NatsServer
from services.gateway.rebuild import Progress, Rebuilt, bar, rebuild_into
from services.gateway.replay import WORKERS
from shared.messaging.jetstream import NATIONAL_STREAM


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    """CPU seconds (user + system) of this process, all its threads, or (RUSAGE_CHILDREN)
    of its finished children: the rebuild's worker processes."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--regions", type=int, default=100)
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite, postgres or both (comma list), one after another; none: only fill",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rebuilds per database")
    parser.add_argument("--batch", type=int, default=10_000, help="events read per batch")
    parser.add_argument(
        "--workers", type=int, default=WORKERS, help="worker processes (partitions by region)"
    )
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the hub's store here; a later run with the same --workdir, --events and "
        "--regions rebuilds from the stream already filled (default: a new temporary one)",
    )
    args = parser.parse_args()
    dbs = [d.strip() for d in args.db.split(",") if d.strip() and d.strip() != "none"]
    if not set(dbs) <= {"sqlite", "postgres"}:
        parser.error(f"--db takes sqlite and/or postgres, got {args.db!r}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mgn-rebuild-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"rebuild benchmark (work dir {workdir}; {load()})")
    hub = NatsServer.hub(workdir / "hub")
    hub.start()
    try:
        case = Case(f"{args.events:,} events", args.events, args.regions)
        held = asyncio.run(_held(hub))
        if held and held != args.events:
            raise SystemExit(f"NATIONAL in {workdir} holds {held:,} events, not {args.events:,}")
        if held:
            print(f"NATIONAL holds {held:,} events already (filled by an earlier run)")
        else:
            filling = time.monotonic()
            count = asyncio.run(fill(hub, case))
            filled = time.monotonic() - filling
            print(
                f"NATIONAL holds {count:,} events over {args.regions} regions, generated and "
                f"published in {filled:,.1f} s ({load()})"
            )
        for db in dbs:
            for _ in range(args.repeat):
                _rebuild(hub, db, workdir, args.batch, args.workers, args.pg_admin_url)
    finally:
        hub.stop()
        if "postgres" in dbs:
            asyncio.run(drop_postgres_databases(args.pg_admin_url))
    return 0


async def _held(hub: NatsServer) -> int:
    nc = await nats.connect(hub.client_url)
    try:
        return (await nc.jetstream().stream_info(NATIONAL_STREAM)).state.messages
    except NotFoundError:
        return 0
    finally:
        await nc.close()


def _rebuild(
    hub: NatsServer, db: str, workdir: Path, batch: int, workers: int, pg_admin_url: str
) -> None:
    name = f"rebuild{uuid.uuid4().hex[:6]}"
    url = asyncio.run(database_url(db, workdir, name, pg_admin_url))

    def show(p: Progress) -> None:
        sys.stdout.write("\r" + bar(p))
        sys.stdout.flush()

    async def go() -> Rebuilt:
        nc = await nats.connect(hub.client_url)
        try:
            return await rebuild_into(
                nc.jetstream(), url, None, batch_size=batch, workers=workers, report=show
            )
        finally:
            await nc.close()

    print(f"{db}: rebuilding, {workers} worker process(es) ({load()})")
    mine, workers_cpu = _cpu(), _cpu(resource.RUSAGE_CHILDREN)
    done = asyncio.run(go())
    mine, workers_cpu = _cpu() - mine, _cpu(resource.RUSAGE_CHILDREN) - workers_cpu
    cpu = mine + workers_cpu
    events, seconds = done.events, done.seconds
    rate = events / seconds
    phases = ", ".join(
        f"{name} {s:,.1f} s wall / {1e6 * done.cpu.get(name, 0.0) / events:,.0f} us CPU per event"
        for name, s in done.phases.items()
    )
    print(
        f"\n{db}: {events:,} events in {seconds:,.1f} s = {rate:,.0f} events/s; "
        f"CPU {cpu:,.1f} s = {1e6 * cpu / events:,.0f} us per event: this process (reading, "
        f"indexes, facts) {1e6 * mine / events:,.0f}, worker processes (decoding, projecting) "
        f"{1e6 * workers_cpu / events:,.0f} ({load()})"
    )
    print(f"  phases: {phases}")
    print(
        f"  1,000,000 events would take {1e6 / rate / 60:,.1f} min at this rate "
        f"(target < 2 min: {'PASS' if 1e6 / rate < 120 else 'FAIL'}), "
        f"{1e6 * cpu / events / 60:,.1f} CPU-min"
    )
    if db == "sqlite":
        Path(make_url(url).database or "").unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
