"""Benchmark: streaming every research view's export (rows/s), over a research bench database.

    python bench/research.py --scale 1              # builds bench/.cache/research-s1.db first
    python bench/view_exports.py --db "sqlite+aiosqlite:///file:bench/.cache/research-s1.db?mode=ro&uri=true"

Streams each view dataset as CSV and as JSON lines, as a researcher, through the same code
as ``GET /exports/<name>.<fmt>`` and ``mgn export`` into a byte counter (read only: the
database is neither migrated nor written).
"""

from __future__ import annotations

import argparse
import asyncio
import time

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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="database URL of a research bench run")
    asyncio.run(main(parser.parse_args().db))
