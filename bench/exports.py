"""Benchmark: streaming an export of 100,000 rows, rows/s and peak memory.

    python bench/exports.py                      # SQLite, 100,000 members and meetings
    python bench/exports.py --rows 200000 --db postgresql://postgres@127.0.0.1:5432/x

Fills a fresh gateway read model with N member rows and N meeting rows (bulk inserts, not
the projection: this measures the export), then streams ``members`` and ``meetings`` as CSV
and as JSON lines through the same code as ``GET /exports/<name>.<fmt>`` and ``mgn export``
into a byte counter. Each run is done twice: once timed (rows/s), once under tracemalloc
(peak Python memory allocated while streaming: it stays flat, the rows are never all held).
Last, ``mgn export`` runs as a process of its own per file: the peak resident set size of
that process (``wait4``'s own rusage, not the largest child so far) and its CPU seconds, for
CSV, JSON lines, SPSS and Stata files. Flat memory: the same peak at 100,000 and 1,000,000
rows. ``--files-only`` skips the in-process streams; ``--cli-root DIR`` runs ``mgn export``
from another checkout (e.g. main, for before/after on the same database).

    python bench/exports.py --rows 1000000 --files-only
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import services.gateway
from services.gateway.auth import ANONYMOUS
from services.gateway.exports.registry import dataset
from services.gateway.exports.stream import scoped, stream
from services.gateway.orm import meetings, members
from shared.storage import create_engine, session_factory
from shared.storage.migrations import migrate, version_table

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2015, 1, 1, 17, 0, tzinfo=UTC)


async def fill(sessions: Sessions, rows: int) -> None:
    rng = random.Random(5)
    regions = [f"r{i:03d}" for i in range(100)]
    batch = 5000
    async with sessions() as session, session.begin():
        for start in range(0, rows, batch):
            n = min(batch, rows - start)
            group = str(uuid.uuid4())
            await session.execute(
                members.insert(),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "region": rng.choice(regions),
                        "group_id": group,
                        "active": True,
                        "status": "ACTIVE",
                        "joined_on": date(2015, 1, 1) + timedelta(days=rng.randrange(3000)),
                        "employees": rng.randrange(10),
                        "turnover_eur": rng.randrange(2_000_000),
                        "balance_sheet_eur": rng.randrange(2_000_000),
                        "industry_code": f"{rng.randrange(1, 99):02d}",
                        "joined_version": 1,
                        "version": 1,
                    }
                    for _ in range(n)
                ],
            )
            await session.execute(
                meetings.insert(),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "region": rng.choice(regions),
                        "group_id": group,
                        "status": "HELD",
                        "host_member_id": str(uuid.uuid4()),
                        "theme": "Growth through cooperation",
                        "starts_at": T0 + timedelta(hours=rng.randrange(90_000)),
                        "held_at": T0,
                        "attendance_count": rng.randrange(3, 12),
                        "recorded": False,
                        "version": 2,
                    }
                    for _ in range(n)
                ],
            )


async def export(sessions: Sessions, name: str, fmt: str) -> tuple[int, int]:
    """Stream one export into a counter; (rows, bytes)."""
    ds = dataset(name)
    rows, size = [0], 0

    def progress(total: int) -> None:
        rows[0] = total

    async for piece in stream(sessions, ds, fmt, scoped(ds, ANONYMOUS), progress):
        size += len(piece.encode())
    return rows[0], size


def cli_export(url: str, name: str, fmt: str, out: Path, root: Path | None) -> tuple[float, float]:
    """Run ``mgn export`` as its own process; its peak resident set size in MiB and its CPU
    seconds."""
    venv = None if root is None else root / ".venv" / "bin" / "python"
    python = str(venv) if venv is not None and venv.exists() else sys.executable
    command = [python, "-m", "deploy.cli", "export", name, "--format", fmt]
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [*command, "--out", str(out), "--db", url],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            cwd=root,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"mgn export failed: {errors.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'exports.db'}"
        engine = create_engine(url)
        try:
            migrations = Path(services.gateway.__file__).parent / "migrations"
            await migrate(engine, migrations, version_table=version_table("gateway"))
            sessions = session_factory(engine)
            started = time.perf_counter()
            await fill(sessions, args.rows)
            print(
                f"filled {engine.dialect.name}: {args.rows:,} members + {args.rows:,} meetings "
                f"in {time.perf_counter() - started:.1f} s"
            )
            print(
                f"{'export':<18}{'rows':>10}{'MB':>8}{'seconds':>9}{'rows/s':>11}{'peak MiB':>10}"
            )
            for name in () if args.files_only else ("members", "meetings"):
                for fmt in ("csv", "jsonl"):
                    t = time.perf_counter()
                    rows, size = await export(sessions, name, fmt)
                    took = time.perf_counter() - t
                    tracemalloc.start()
                    await export(sessions, name, fmt)
                    _, peak = tracemalloc.get_traced_memory()
                    tracemalloc.stop()
                    print(
                        f"{name + '.' + fmt:<18}{rows:>10,}{size / 1e6:>8.1f}{took:>9.2f}"
                        f"{rows / took:>11,.0f}{peak / 2**20:>10.1f}"
                    )
            print("each file: mgn export as a process (its peak resident set, its CPU time)")
            runs = (
                ("members", "csv"),
                ("meetings", "jsonl"),
                ("members", "sav"),
                ("members", "dta"),
                ("meetings", "sav"),
                ("meetings", "dta"),
            )
            for name, fmt in runs:
                out = Path(tmp) / f"{name}.{fmt}"
                t = time.perf_counter()
                rss, cpu = cli_export(url, name, fmt, out, args.cli_root)
                took = time.perf_counter() - t
                print(
                    f"  mgn export {name} --format {fmt}: {args.rows:,} rows in {took:.2f} s, "
                    f"{cpu:.1f} CPU s, peak RSS {rss:.0f} MiB, file "
                    f"{out.stat().st_size / 1e6:.1f} MB (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
                out.unlink()
        finally:
            await engine.dispose()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--files-only", action="store_true", help="only mgn export's files")
    parser.add_argument("--cli-root", type=Path, help="run mgn export from this checkout")
    parser.add_argument("--tmp", type=Path, help="directory for the database and files")
    sys.exit(asyncio.run(main(parser.parse_args())))
