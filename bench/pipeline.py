"""Benchmark: regional writes to the national read model, beside the raw ceilings.

    python bench/pipeline.py                               # SQLite and PostgreSQL (if it answers)
    python bench/pipeline.py --db sqlite --events 20000 --writes 2000 --rate 200

Prints, in one run on this machine (each measurement ``--repeat`` times, default 2, with the
load average beside it, because the machine may be shared):
  1. raw ceilings: nats-py JetStream publish and pull consume + ack; batched SQL upsert on
     each database;
  2. national projection alone: ``--events`` realistic events already in NATIONAL (sourced
     from a region's stream over the leafnode link), projected by the gateway's consumer;
  3. end to end through real processes (hub, leaf, groups/meetings/feedback, gateway):
     ``--writes`` regional writes over the groups API until visible in the national read
     model, closed loop at full speed and open loop at ``--rate`` writes/s;
  4. the regional write path: CPU per write over the node's processes (leaf server, groups,
     meetings, feedback) in each end-to-end run, and with ``--profile DIR`` the functions
     each regional service spent its time in (cProfile, ``DIR/<service>.prof``);
  5. (part "scaling") consumer CPU per event at each --history size of one region's history
     and with --spread events over --regions regions (bench/scaling.py);
  6. PASS/FAIL against the targets (projection >= 10,000 events/s; p99 < 1 s at 200 writes/s;
     <= 8 ms of the node's CPU per write at 200 writes/s; consumer CPU per event flat within
     1.3x from the --history sizes of one region to --regions regions).
See bench/README.md for how to read the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ceilings import nats_ceiling, sql_ceiling
from bench.databases import (
    KINDS,
    PG_ADMIN,
    database_url,
    drop_postgres_databases,
    postgres_answers,
)
from bench.e2e import NotVisibleError, measure, start_federation
from bench.profiles import profile_report
from bench.projection import fill_national, projection_rate
from bench.report import Verdicts, format_e2e, load
from bench.scaling import cases as scaling_cases
from bench.scaling import measure as scaling_measure
from deploy.federation import REGIONAL_SERVICES
from deploy.natsserver import NatsServer


def _kinds(value: str) -> list[str]:
    kinds = [k.strip() for k in value.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"unknown database {', '.join(unknown) or '(none)'}: use sqlite, postgres or both"
        )
    return kinds


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of event counts: {value!r}") from exc
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be at least 1, got {value!r}")
    return sizes


def _rates(value: str) -> list[float]:
    try:
        rates = [float(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of writes/s: {value!r}") from exc
    if not rates or any(rate <= 0 for rate in rates):
        raise argparse.ArgumentTypeError(f"rates must be above 0, got {value!r}")
    return rates


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--db", type=_kinds, default=list(KINDS), help="sqlite, postgres or sqlite,postgres"
    )
    parser.add_argument(
        "--events", type=_positive, default=20_000, help="events for ceilings and projection"
    )
    parser.add_argument("--writes", type=_positive, default=2_000, help="end-to-end writes")
    parser.add_argument(
        "--rate", type=_rates, default=[200.0], help="open-loop writes/s, e.g. 200 or 200,30"
    )
    parser.add_argument(
        "--concurrency", type=_positive, default=16, help="writes in flight at full speed"
    )
    parser.add_argument("--batch", type=_positive, default=500, help="gateway batch size")
    parser.add_argument("--repeat", type=_positive, default=2, help="runs of each measurement")
    parser.add_argument(
        "--skip",
        default="",
        help="comma list of parts to skip: ceilings, projection, e2e, scaling",
    )
    parser.add_argument(
        "--history",
        type=_sizes,
        default=[5_000, 50_000, 200_000],
        help="scaling: events of one region's history, e.g. 5000,50000,200000",
    )
    parser.add_argument("--regions", type=_positive, default=1_000, help="scaling: regions")
    parser.add_argument(
        "--spread", type=_positive, default=50_000, help="scaling: events over --regions"
    )
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="directory: run the services under cProfile (their .prof files go there) and "
        "print where each regional service spent its time",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kinds: list[str] = args.db
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if "postgres" in kinds and not postgres_answers(args.pg_admin_url):
        print(f"PostgreSQL does not answer at {args.pg_admin_url}: leaving it out")
        kinds.remove("postgres")
    if not kinds:
        print("no database to measure")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="mgn-bench-"))
    print(f"mgn pipeline benchmark  (work dir {workdir}; {load()})")
    verdicts = Verdicts([])
    try:
        if not {"ceilings", "projection"} <= skip:
            ceilings_and_projection(args, kinds, workdir, skip, verdicts)
        if "e2e" not in skip:
            end_to_end(args, kinds, workdir, verdicts)
        if "scaling" not in skip:
            scaling(args, kinds, workdir, verdicts)
    finally:
        if "postgres" in kinds:
            asyncio.run(drop_postgres_databases(args.pg_admin_url))
    print("\n6. Against the targets")
    for line in verdicts.lines:
        print(f"   {line}")
    return 0


def ceilings_and_projection(
    args: argparse.Namespace, kinds: list[str], workdir: Path, skip: set[str], verdicts: Verdicts
) -> None:
    hub = NatsServer.hub(workdir / "hub")
    leaf = None
    hub.start()
    try:
        leaf = NatsServer.region("bench", workdir / "leaf", hub.leafnode_url)
        leaf.start()
        consume: list[float] = []
        upsert: dict[str, list[float]] = {kind: [] for kind in kinds}
        if "ceilings" not in skip:
            print("\n1. Raw ceilings on this machine")
            for run in range(args.repeat):
                pub, con = asyncio.run(nats_ceiling(hub.client_url, args.events, b"x" * 450))
                consume.append(con)
                print(
                    f"   [{run + 1}] nats-py JetStream publish, 500 in flight ...... "
                    f"{pub:>9,.0f} msg/s   {load()}"
                )
                print(
                    f"   [{run + 1}] nats-py pull consume + ack, batches of 500 .... "
                    f"{con:>9,.0f} msg/s   {load()}"
                )
            for kind in kinds:
                for run in range(args.repeat):
                    url = asyncio.run(database_url(kind, workdir, "ceiling", args.pg_admin_url))
                    rate = asyncio.run(sql_ceiling(url, args.events))
                    upsert[kind].append(rate)
                    print(
                        f"   [{run + 1}] SQL upsert, 500-row batches, {kind:<8} ...... "
                        f"{rate:>9,.0f} rows/s  {load()}"
                    )
        if "projection" not in skip:
            print(f"\n2. National projection alone: {args.events:,} events, NATIONAL → read model")
            asyncio.run(fill_national(hub, leaf, args.events))
            for kind in kinds:
                rates = []
                for run in range(args.repeat):
                    url = asyncio.run(database_url(kind, workdir, "projection", args.pg_admin_url))
                    result = asyncio.run(projection_rate(hub, url, args.events, args.batch))
                    rates.append(result.events_per_s)
                    print(
                        f"   [{run + 1}] gateway consumer + projection, {kind:<8} .. "
                        f"{result.events_per_s:>9,.0f} events/s {load()}\n"
                        f"       CPU {result.cpu_us_per_event:,.0f} µs/event in the consumer "
                        f"process = {result.per_core:,.0f} events/s per core"
                        + _ratios(result.events_per_s, consume, upsert[kind])
                    )
                verdicts.projection(kind, rates)
    finally:
        if leaf:
            leaf.stop()
        hub.stop()


def _ratios(rate: float, consume: list[float], upsert: list[float]) -> str:
    """The projection beside the same run's raw ceilings (their best runs)."""
    if not consume or not upsert:
        return ""
    return (
        f"\n       = {rate / max(consume):.2f} x the NATS consume ceiling, "
        f"{rate / max(upsert):.2f} x the SQL upsert ceiling (rows/s)"
    )


def scaling(args: argparse.Namespace, kinds: list[str], workdir: Path, verdicts: Verdicts) -> None:
    print("\n5. Consumer CPU per event as history grows (fresh NATIONAL and read model each)")
    for kind in kinds:
        cpu: dict[str, float] = {}
        for case in scaling_cases(args.history, args.regions, args.spread):
            url = asyncio.run(database_url(kind, workdir, "scaling", args.pg_admin_url))
            run = scaling_measure(workdir, case, url, args.batch)
            cpu[case.label] = run.cpu_us_per_event
            print(
                f"   {kind:<8} {case.label:<28} {run.events_per_s:>8,.0f} events/s  "
                f"CPU {run.cpu_us_per_event:>5,.0f} µs/event "
                f"(last quarter {run.last_quarter_cpu_us:,.0f})  {load()}"
            )
        verdicts.flat(kind, cpu)


def end_to_end(
    args: argparse.Namespace, kinds: list[str], workdir: Path, verdicts: Verdicts
) -> None:
    print(
        f"\n3. End to end: {args.writes:,} regional writes (groups API) → national read model"
        "\n   (writes/s issued and completed; latencies in ms: write = API call, visible ="
        "\n   due → in the read model, relay = outbox commit → published; CPU over all processes)"
    )
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        os.environ["MGN_PROFILE_DIR"] = str(args.profile.resolve())  # deploy/cli.py
    for kind in kinds:
        fed = start_federation(kind, workdir, args.pg_admin_url)
        try:
            modes: list[tuple[str, float | None]] = [("full speed", None)]
            modes += [(f"{rate:g}/s open", rate) for rate in args.rate]
            paced: dict[float, list[dict[str, float]]] = {}
            stuck = False
            for label, rate in modes:
                for run in range(args.repeat):
                    if stuck:
                        print(f"   [{run + 1}] {kind:<8} {label:<11} skipped: pipeline stuck")
                        continue
                    try:
                        r = asyncio.run(measure(fed, args.writes, rate, args.concurrency))
                    except NotVisibleError as exc:
                        print(f"   [{run + 1}] {kind:<8} {label:<11} FAILED: {exc} | {load()}")
                        r = {"visible p99 ms": float("inf"), "completed/s": 0.0}
                        stuck = True
                    else:
                        print(format_e2e(run + 1, kind, label, r))
                    if rate:
                        paced.setdefault(rate, []).append(r)
            verdicts.latency(kind, paced)
            verdicts.write_cost(kind, paced)
            verdicts.live_cost(kind, paced)
        finally:
            fed.stop()
        if args.profile is not None:
            print(f"\n4. Regional write path on {kind}: where each service spent its time")
            print(profile_report(args.profile, REGIONAL_SERVICES))


if __name__ == "__main__":
    sys.exit(main())
