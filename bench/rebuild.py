"""Benchmark: `mgn hub rebuild`'s engine replaying N events of NATIONAL into a fresh read model.

    python bench/rebuild.py --events 1000000 --db sqlite     # the issue's size
    python bench/rebuild.py --events 100000 --db postgres

A hub nats-server of its own gets a stream ``FEED`` that NATIONAL sources; ``--events``
realistic events (bench/events.py, over ``--regions`` regions) are published to it, then
:func:`services.gateway.rebuild.rebuild_into` replays NATIONAL into a fresh database with its
progress bar. Prints the time, events/s and what that predicts for 1,000,000 events.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nats

from bench.databases import PG_ADMIN, database_url, drop_postgres_databases
from bench.report import load
from bench.scaling import Case, fill
from deploy.natsserver import NatsServer
from services.gateway.rebuild import Progress, bar, rebuild_into


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--regions", type=int, default=100)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mgn-rebuild-"))
    print(f"rebuild benchmark (work dir {workdir}; {load()})")
    hub = NatsServer.hub(workdir / "hub")
    hub.start()
    try:
        case = Case(f"{args.events:,} events", args.events, args.regions)
        count = asyncio.run(fill(hub, case))
        print(f"NATIONAL holds {count:,} events over {args.regions} regions ({load()})")
        url = asyncio.run(database_url(args.db, workdir, "rebuild", args.pg_admin_url))

        def show(p: Progress) -> None:
            sys.stdout.write("\r" + bar(p))
            sys.stdout.flush()

        async def go() -> tuple[int, float]:
            nc = await nats.connect(hub.client_url)
            try:
                done = await rebuild_into(
                    nc.jetstream(), url, None, batch_size=args.batch, report=show
                )
                return done.events, done.seconds
            finally:
                await nc.close()

        events, seconds = asyncio.run(go())
        rate = events / seconds
        print(
            f"\n{args.db}: {events:,} events in {seconds:,.1f} s = {rate:,.0f} events/s "
            f"({load()}); 1,000,000 events would take {1e6 / rate / 60:,.1f} min "
            f"(target < 2 min: {'PASS' if 1e6 / rate < 120 else 'FAIL'})"
        )
    finally:
        hub.stop()
        if args.db == "postgres":
            asyncio.run(drop_postgres_databases(args.pg_admin_url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
