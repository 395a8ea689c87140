"""Multiply a research bench database by copying its regions: a bigger nation, fast.

``python bench/research.py`` builds a read model through the projection, which on this
machine takes about 20 minutes for 20 regions. :func:`clone` copies such a SQLite file and
adds ``times - 1`` copies of every regional row (``region`` and every id column suffixed with
``_c<k>``), so 20 generated regions become 100 or 1,000 in minutes. The copies are the same
history under other ids: right for measuring an export's time and memory by size, not for
figures that depend on variety.

The facts stay what the gateway would compute from the copied rows
(tests/unit/test_clone_regions_facts.py): a copy's unit facts are its own rows; the
workspace's sums per scope (``scope``: '' the nation, 'r:<region>', 'g:<group>') are copied
for a region's and a group's scope under the copy's ids, and the nation's are multiplied by
``times`` (every copy adds the same counts, and distinct groups are disjoint); activity coders
are regional ids (suffixed), researchers' pseudonyms and 'consensus' national (kept).
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
# researchers' pseudonyms (and 'consensus') are national: the copies are coded by the same
KEEP_IN = {("codings", "coder_id")}
# regional values in columns not typed as ids: a person's key is per region
SUFFIX_IN = {("panel_persons", "person_key")}
# text columns of regional ids that are not typed as ids: suffixed unless one of these values
REGIONAL_UNLESS = {("fact_cop", "coder"): ("", "consensus")}
SCOPE = "scope"  # the workspace's sums: '' the nation, 'r:<region>', 'g:<group>'
NATION = ""


def _columns(db: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(row[1], row[2].upper()) for row in db.execute(f'PRAGMA table_info("{table}")')]


def _copied(table: str, name: str, kind: str, k: int) -> str:
    """The SQL of column ``name``'s value in copy ``k``."""
    column = f'"{name}"'
    if (table, name) in REGIONAL_UNLESS:
        kept = ", ".join(f"'{v}'" for v in REGIONAL_UNLESS[(table, name)])
        return f"CASE WHEN {column} IN ({kept}) THEN {column} ELSE {column} || '_c{k}' END"
    if name == SCOPE or _suffixed(table, name, kind):
        return f"{column} || '_c{k}'"
    return column


def _scale_nation(db: sqlite3.Connection, table: str, times: int) -> None:
    """The nation's sums of a scoped table: every copy adds the same again."""
    additive = [
        row[1]
        for row in db.execute(f'PRAGMA table_info("{table}")')
        if row[5] == 0 and row[2].upper() == "INTEGER"  # not a key column
    ]
    sets = ", ".join(f'"{n}" = "{n}" * {times}' for n in additive)
    db.execute(f'UPDATE "{table}" SET {sets} WHERE "{SCOPE}" = ?', (NATION,))


def _suffixed(table: str, name: str, kind: str) -> bool:
    if name in KEEP or (table, name) in KEEP_IN:
        return False
    if name == "region" or (table == "regions" and name == "id") or (table, name) in SUFFIX_IN:
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
        db.execute("PRAGMA cache_size=-1000000")  # 1 GB: copies go into random-id B-trees
        # secondary indexes are built once at the end, not kept up row by row
        indexes = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
        ).fetchall()
        for name, _sql in indexes:
            db.execute(f'DROP INDEX "{name}"')
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
            scoped = any(n == SCOPE for n, _ in columns)
            only = f" AND \"{SCOPE}\" <> '{NATION}'" if scoped else ""
            for k in range(1, times):
                values = ", ".join(_copied(table, n, t, k) for n, t in columns)
                db.execute(
                    f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{table}" '
                    f"WHERE rowid <= ?{only}",
                    (last,),
                )
            if scoped:
                _scale_nation(db, table, times)
            db.commit()
            counts[table] = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        for _name, sql in indexes:
            db.execute(sql)
        db.commit()
        return counts
    finally:
        db.close()
