"""Benchmark: streaming every research view's export (rows/s), over a research bench database;
with ``--all``, the whole ``mgn export --all`` package: its time and peak memory by size.

    python bench/research.py --scale 1              # builds bench/.cache/research-s1.db first
    python bench/view_exports.py --db "sqlite+aiosqlite:///file:bench/.cache/research-s1.db?mode=ro&uri=true"
    python bench/view_exports.py --all --source bench/.cache/research-s0_02.db --times 1,5,10

Streams each view dataset as CSV and as JSON lines, as a researcher, through the same code
as ``GET /exports/<name>.<fmt>`` and ``mgn export`` into a byte counter (read only: the
database is neither migrated nor written).

``--all``: for each of ``--times``, the research database ``--source`` with its regions
copied that many times (bench/clone_regions.py), then the package written by a process of
its own (``write_all``, the code of ``mgn export --all`` after its migration step, as a
researcher): wall time, rows, megabytes, the process's peak resident set size and its CPU
seconds (steadier than wall time on a shared machine), and the load average after it. Flat
memory means the peak stays put while the rows grow. ``--also sav`` (repeatable: sav, dta,
jsonl, parquet) adds those files to the package, as ``mgn export --all --also``: rows counts
each dataset once, MB and files count every file.

    python bench/view_exports.py --child --db sqlite:///x5.db --out DIR --also sav --also dta \
        --also jsonl --also parquet       # one package of an existing database, one line
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from services.gateway.auth import ANONYMOUS
from services.gateway.exports.registry import VIEW_DATASETS
from services.gateway.exports.stream import scoped, stream
from shared.storage import create_engine, session_factory


async def main(url: str) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        for name, ds in VIEW_DATASETS.items():
            for fmt in ("csv", "jsonl"):
                rows = [0]

                def progress(total: int, rows: list[int] = rows) -> None:
                    rows[0] = total

                size = 0
                started = time.perf_counter()
                query = scoped(ds, ANONYMOUS)
                async for piece in stream(sessions, ds, fmt, query, progress):
                    size += len(piece)
                took = time.perf_counter() - started
                print(
                    f"{name:20} {fmt:5} {rows[0]:>10,} rows {took:7.2f} s "
                    f"{rows[0] / took:>9,.0f} rows/s {size / 1e6:7.1f} MB",
                    flush=True,
                )
    finally:
        await engine.dispose()


async def package(url: str, out: Path, jobs: int, also: tuple[str, ...] = ()) -> None:
    """The child: write the package as ``mgn export --all`` does, print one summary line
    (peak RSS: of this process or of its largest worker; CPU: this process's and its
    workers')."""
    from services.gateway.exports.package import write_all

    engine = create_engine(url)
    try:
        started = time.perf_counter()
        _snap, _target, files, _refused = await write_all(
            session_factory(engine), ANONYMOUS, out, jobs=jobs, also=also
        )
        took = time.perf_counter() - started
        rows = sum(w.rows for w in files)
        size = sum(w.bytes + sum(a.bytes for a in w.also) for w in files)
        mine = resource.getrusage(resource.RUSAGE_SELF)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak = max(mine.ru_maxrss, workers.ru_maxrss) / 1024
        cpu = sum(u.ru_utime + u.ru_stime for u in (mine, workers))
        count = len(files) + sum(len(w.also) for w in files)
        print(f"{count} {rows} {size} {took:.2f} {peak:.0f} {cpu:.2f}")
    finally:
        await engine.dispose()


def packages(source: Path, times: list[int], jobs: int, also: list[str]) -> None:
    from bench.clone_regions import clone

    print(
        f"{'copies':>6} {'regions':>8} {'rows':>12} {'MB':>8} {'seconds':>8} {'rows/s':>9} "
        f"{'peak RSS MiB':>12} {'CPU s':>7} {'rows/CPU s':>10} {'load':>5}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(dir=source.parent) as tmp:
        for n in times:
            db = Path(tmp) / f"x{n}.db"
            started = time.perf_counter()
            counts = clone(source, db, n)
            cloned = time.perf_counter() - started
            out = Path(tmp) / f"package-{n}"
            out.mkdir()
            child = [
                sys.executable,
                __file__,
                "--child",
                "--db",
                f"sqlite:///{db}",
                "--out",
                str(out),
                "--jobs",
                str(jobs),
                *(f"--also={fmt}" for fmt in also),
            ]
            done = subprocess.run(child, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"export --all failed: {done.stderr[-2000:]}")
            files, rows, size, took, peak, cpu = done.stdout.split()
            print(
                f"{n:>6} {counts.get('regions', 0):>8,} {int(rows):>12,} {int(size) / 1e6:>8.0f} "
                f"{float(took):>8.1f} {int(rows) / float(took):>9,.0f} {peak:>12} {cpu:>7} "
                f"{int(rows) / float(cpu):>10,.0f} {os.getloadavg()[0]:>5.1f}   "
                f"({files} files; copies made in {cloned:.0f} s)",
                flush=True,
            )
            db.unlink()
            for f in out.iterdir():
                f.unlink()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="database URL of a research bench run")
    parser.add_argument("--all", action="store_true", help="the --all package by size")
    parser.add_argument("--source", type=Path, help="with --all: a research bench SQLite file")
    parser.add_argument("--times", default="1,5", help="with --all: copies of its regions")
    parser.add_argument(
        "--jobs", type=int, default=1, help="with --all: processes writing datasets at once"
    )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        choices=["sav", "dta", "jsonl", "parquet"],
        help="with --all: each dataset also in this format (repeat), as mgn export --also",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(package(args.db, args.out, args.jobs, tuple(args.also)))
    elif args.all:
        if args.source is None:
            parser.error("--all needs --source FILE (a research bench SQLite database)")
        packages(args.source, [int(t) for t in args.times.split(",")], args.jobs, args.also)
    else:
        if args.db is None:
            parser.error("--db URL is required")
        asyncio.run(main(args.db))
