"""``mgn hub rebuild``: replay NATIONAL into a fresh read model while the hub keeps serving
(:mod:`services.gateway.rebuild`), then say how to switch to it."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats

from deploy.federation import HUB_STATE, HubAuth
from deploy.reconcile import PENDING_RESET
from services.gateway.rebuild import Progress, Rebuilt, bar, rebuild_into
from services.gateway.replay import WORKERS
from shared.files import write_private


def add_command(hub_cmds: Any) -> None:
    rebuild = hub_cmds.add_parser(
        "rebuild",
        help="replay NATIONAL into a fresh read model while the hub keeps serving",
        description="Build a new gateway read model from every event in NATIONAL (for a new "
        "view, a changed projection or a lost database) with a progress bar and an ETA, "
        "while the running hub keeps serving the old one. Access tokens and the "
        "researchers' codebooks, codings and panel secrets (kept by the gateway, in no "
        "event) are copied from the old one first. Then stop the hub and start it with "
        "--db pointing at the new database: its gateway applies the events that came in "
        "the meantime (each once) and serves the new read model.",
    )
    rebuild.add_argument("--workdir", type=Path, default=Path("var/hub"), help="(%(default)s)")
    rebuild.add_argument(
        "--db", dest="database_url", help="the serving read model (default SQLite in WORKDIR)"
    )
    rebuild.add_argument(
        "--into",
        help="URL of the new, empty read model (default SQLite WORKDIR/gateway-<UTC time>.db)",
    )
    rebuild.add_argument(
        "--batch", type=int, default=10_000, help="events read per batch (%(default)s)"
    )
    rebuild.add_argument(
        "--workers",
        type=int,
        default=WORKERS,
        help="worker processes decoding and applying, regions split among them (%(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    if args.batch < 1:
        raise SystemExit(f"mgn hub rebuild: error: --batch must be 1 or more, got {args.batch}")
    if args.workers < 1:
        raise SystemExit(f"mgn hub rebuild: error: --workers must be 1 or more, got {args.workers}")
    workdir = args.workdir.resolve()
    try:
        state = json.loads((workdir / HUB_STATE).read_text(encoding="utf-8"))
    except OSError:
        raise SystemExit(
            f"mgn hub rebuild: error: no running hub in {workdir} (start `mgn hub up` first: "
            "the events come from its NATIONAL stream)"
        ) from None
    auth = HubAuth.load_or_create(workdir / "auth.json")
    source = args.database_url or f"sqlite:///{workdir / 'gateway.db'}"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = args.into or f"sqlite:///{workdir / f'gateway-{stamp}.db'}"
    if target == source:
        raise SystemExit("mgn hub rebuild: error: --into must be a new database, not --db")
    print(f"Rebuilding the read model into {target} (the hub keeps serving {source})")

    def show(progress: Progress) -> None:
        sys.stdout.write("\r" + bar(progress))
        sys.stdout.flush()

    async def go() -> Rebuilt:
        nc = await nats.connect(auth.gateway_url(state["client_url"]), connect_timeout=5)
        try:
            return await rebuild_into(
                nc.jetstream(domain="hub"),
                target,
                source,
                batch_size=args.batch,
                workers=args.workers,
                report=show,
            )
        finally:
            await nc.close()

    done = asyncio.run(go())
    start = done.stream_seq + 1
    write_private(workdir / PENDING_RESET, json.dumps({"national_from_seq": start}))
    print(
        f"\nDone: {done.events:,} events in {done.seconds:,.1f} s "
        f"({done.events / max(done.seconds, 1e-9):,.0f} events/s), NATIONAL up to sequence "
        f"{done.stream_seq:,}; {done.kept_rows:,} rows of tokens and research work copied."
    )
    if done.duplicates or done.undecodable:
        print(
            f"{done.duplicates:,} events were in NATIONAL more than once (applied once); "
            f"{done.undecodable:,} could not be decoded and were left out (the serving "
            "gateway dead-lettered them)."
        )
    print(
        f"To switch: stop the hub (Ctrl-C in `mgn hub up`) and start it again with --db "
        f"{target}. Its gateway then applies NATIONAL from sequence {start} (the events "
        "that came during the rebuild; each once) and serves the new read model. Codings "
        "or tokens made after the copy above must be made again."
    )
    return 0
