"""Benchmark: the gateway's CPU per request for one request sent many times (the burst).

    python bench/research_views.py --times 5 --runs 5 --views copActivityTable  # builds x5
    git archive <commit before a change> | tar -x -C /tmp/old
    python bench/gateway_burst.py --times 5 --requests 50 --rounds 2 --old /tmp/old

The same research view request (national ``copActivityTable`` by default) sent ``--requests``
times to a real gateway (``mgn service gateway`` on bench/research_views.py's cached database,
its own hub nats-server) after a warm-up of every view in ``--warm`` (the first agreement
request imports numpy, scipy and statsmodels); prints the gateway's CPU per request (every
thread, /proc/<pid>/task/*/schedstat) p50/p95/max and the requests over ``--over`` ms. Every
request does the same work, so a request far above the median paid for something else: a
full garbage collection (shared/runtime/heap.py).

``--old PATH``: also run a gateway from the checkout at PATH (e.g. main before a change),
alternately with this one, ``--rounds`` times each, in the same time window.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gateway_process import gateway_process
from bench.report import load, percentile
from bench.research_views import (
    CACHE,
    VIEWS,
    cpu_ns,
    prepare,
    query_of,
    samples,
    stamp,
    token,
)
from deploy.natsserver import NatsServer


def gateway_cpu(db: Path, checkout: Path | None, args: argparse.Namespace) -> list[float]:
    """CPU ms per request of ``--requests`` identical requests (after the warm-up)."""
    url = f"sqlite:///{db}"
    bearer = token(url)
    regions, group_ids, book = samples(db, args.seed)
    work = Path(tempfile.mkdtemp(prefix="mgn-gateway-burst-"))
    hub = NatsServer.hub(work / "hub")
    # another checkout's code: its directory first on the path, not the current one
    env = {"PYTHONPATH": str(checkout), "PYTHONSAFEPATH": "1"} if checkout else {}
    gateway, port = gateway_process(work, url, hub.client_url, env)
    rng = random.Random(args.seed)
    try:
        asyncio.run(hub.astart())
        gateway.spawn()
        gateway.wait_healthy(120)
        assert gateway.pid is not None
        headers = {"Authorization": f"Bearer {bearer}"}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120
        ) as client:

            def ask(name: str, kind: str) -> float:
                query = query_of(
                    VIEWS[name], kind, rng.choice(regions), rng.choice(group_ids), book
                )
                c0 = cpu_ns(gateway.pid or 0)
                response = client.post("/graphql", json={"query": query})
                c1 = cpu_ns(gateway.pid or 0)
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise SystemExit(f"{name} ({kind}): {response.status_code} {body}")
                return (c1 - c0) / 1e6

            for name in args.warm.split(","):
                ask(name, "national")
            return [ask(args.view, args.filter) for _ in range(args.requests)]
    finally:
        gateway.stop()
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=CACHE / "research-s0_02.db")
    parser.add_argument("--times", type=int, default=5, help="copies of its regions")
    parser.add_argument("--coded", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--view", default="copActivityTable", choices=sorted(VIEWS))
    parser.add_argument("--filter", default="national")
    parser.add_argument("--warm", default="copActivityTable,codingAgreement,table1")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--over", type=float, default=50.0, help="ms of CPU: list those above")
    parser.add_argument("--old", type=Path, help="code to compare with: main before a change")
    args = parser.parse_args()
    if not args.source.exists():
        parser.error(f"{args.source} does not exist: run bench/research.py --scale 0.02 first")
    db = asyncio.run(prepare(args.source, args.times, args.coded, args.seed))
    stamp(f"sqlite:///{db}")
    here = Path(__file__).resolve().parent.parent
    runs: list[tuple[str, Path | None]] = [("this", None)]
    if args.old is not None:
        runs = [("old", args.old.resolve()), ("this", None)]
    print(f"{args.view} ({args.filter}) x{args.requests}, {db.name}; this = {here}", flush=True)
    print(f"{'code':<6}{'cpu p50':>9}{'cpu p95':>9}{'cpu max':>9}  over {args.over:g} ms")
    for _ in range(args.rounds):
        for label, checkout in runs:
            cpu = gateway_cpu(db, checkout, args)
            over = [round(c) for c in cpu if c > args.over]
            print(
                f"{label:<6}{percentile(cpu, 0.5):>9.1f}{percentile(cpu, 0.95):>9.1f}"
                f"{max(cpu):>9.1f}  {len(over)}: {over}  ({load()})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
