"""Multiply a research bench database by copying its regions: a bigger nation, fast.

``python bench/research.py`` builds a read model through the projection, which on this
machine takes about 20 minutes for 20 regions. :func:`clone` copies such a SQLite file and
adds ``times - 1`` copies of every regional row (``region`` and every id column suffixed with
``_c<k>``), so 20 generated regions become 100 or 1,000 in minutes. The copies are the same
history under other ids: right for measuring an export's time and memory by size, not for
figures that depend on variety.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

# national or bookkeeping tables: not copied
SKIP = {
    "access_tokens",
    "codebooks",
    "codebook_codes",
    "outbox",
    "processed_events",
    "processed_marks",
    "projection_leases",
    "stream_position",
    "view_state",
    "panel_secrets",
}
KEEP = {"codebook_id"}  # ids of national rows: the copies point at the same ones


def _columns(db: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(row[1], row[2].upper()) for row in db.execute(f'PRAGMA table_info("{table}")')]


def _suffixed(table: str, name: str, kind: str) -> bool:
    if name in KEEP:
        return False
    if name == "region" or (table == "regions" and name == "id"):
        return True
    return kind == "VARCHAR(36)" or (name.endswith("_id") and kind.startswith("VARCHAR"))


def clone(source: Path, target: Path, times: int) -> dict[str, int]:
    """``target``: ``source`` with its regional rows ``times`` over; rows per table."""
    if times < 1:
        raise ValueError(f"times must be at least 1, got {times}")
    shutil.copyfile(source, target)
    db = sqlite3.connect(target)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE 'alembic%' ORDER BY name"
            )
        ]
        counts = {}
        for table in tables:
            if table in SKIP:
                continue
            columns = _columns(db, table)
            last = db.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0]
            if last is None:
                continue
            names = ", ".join(f'"{n}"' for n, _ in columns)
            for k in range(1, times):
                values = ", ".join(
                    f"\"{n}\" || '_c{k}'" if _suffixed(table, n, t) else f'"{n}"'
                    for n, t in columns
                )
                db.execute(
                    f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{table}" '
                    "WHERE rowid <= ?",
                    (last,),
                )
            db.commit()
            counts[table] = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        return counts
    finally:
        db.close()
