"""SPSS and Stata files written a chunk at a time (exports/spool.py, exports/stats_layout.py)
against pyreadstat's own files of the whole data frame: byte for byte (apart from the time
of writing), and read back by pyreadstat and pandas, on SQLite and PostgreSQL.

The rows are those a researcher's file must survive: Finnish and Swedish texts, texts of
over 255 bytes (SPSS segments) and over 2,045 (Stata ``strL``), missing values of every
type, dates before 1970, UTC times with microseconds, booleans, value sets and regions
that the ``regions`` table does not list."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import services.gateway
from services.gateway.exports import stream
from services.gateway.exports.dataset import REGION, Column, Dataset, column
from services.gateway.exports.stats import (
    BOOLEAN_LABELS,
    NotInValueSet,
    value_codes,
    write_frame,
    write_stats_files,
)
from services.gateway.orm import regions
from shared.storage import create_engine, session_factory
from shared.storage.migrations import migrate, version_table

pytestmark = pytest.mark.asyncio

probe = sa.Table(
    "stats_probe",
    sa.MetaData(),
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("region", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("flag", sa.Boolean),
    sa.Column("count", sa.Integer),
    sa.Column("share", sa.Float),
    sa.Column("day", sa.Date),
    sa.Column("at", sa.DateTime(timezone=True)),
)
COLUMNS = (
    column("n", "integer", "Row number"),
    REGION,
    column("status", "string", "A status", ("ACTIVE", "PAUSED", "LEFT")),
    column("note", "string", "Free text: ääkköset, å, – and “quotes”"),
    column("flag", "boolean", "A flag"),
    column("count", "integer", "A count"),
    column("share", "number", "A share"),
    column("day", "date", "A day"),
    column("at", "timestamp", "A moment (UTC)"),
)
T = datetime(2021, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def exactly(size: int) -> str:
    """A Finnish text of exactly ``size`` bytes in UTF-8."""
    text = ("Pitkä teksti. " * 300).encode()[:size].decode(errors="ignore").rstrip()
    return text + "x" * (size - len(text.encode()))  # SPSS keeps no trailing space


def probe_rows(long_text: int) -> list[dict[str, Any]]:
    notes = [
        "Ähtäri – Åland öljy ja ÄÖÅ",
        "",
        None,
        "x" * 255,
        "ä" * 200,  # 400 bytes: two SPSS segments
        "Skärgårdens företagare, Närpes" * 3,
        exactly(long_text),
    ]
    found = []
    for n in range(23):
        found.append(
            {
                "n": n,
                "region": None if n == 5 else ("kainuu" if n % 7 == 3 else "oulu"),
                "status": None if n % 4 == 1 else ("ACTIVE", "PAUSED", "LEFT")[n % 3],
                "note": notes[n % len(notes)],
                "flag": None if n % 5 == 2 else n % 2 == 0,
                "count": None if n % 6 == 4 else n * 1000 - 7,
                "share": None if n % 3 == 2 else n / 7,
                "day": None if n % 8 == 6 else date(1950, 1, 1) + timedelta(days=977 * n),
                "at": None if n % 9 == 7 else T + timedelta(days=n * 101, microseconds=n * 37),
            }
        )
    return found


def dataset() -> Dataset:
    return Dataset.of_table(
        probe,
        "probe",
        "Rows for the SPSS and Stata writers – ääkköset",
        COLUMNS,
        order_by=(probe.c.n,),
        region=probe.c.region,
    )


async def filled(url: str, long_text: int) -> async_sessionmaker[AsyncSession]:
    engine = create_engine(url)
    migrations = Path(services.gateway.__file__).parent / "migrations"
    await migrate(engine, migrations, version_table=version_table("gateway"))
    async with engine.begin() as conn:
        await conn.run_sync(probe.metadata.create_all)
        await conn.execute(probe.insert(), probe_rows(long_text))
        seen = {"first_seen": T, "last_event_at": T, "events_applied": 1}
        await conn.execute(regions.insert(), [{"id": "oulu", **seen}])
    return session_factory(engine)


def whole_frame(ds: Dataset, rows: Sequence[Sequence[Any]], known: list[str]) -> tuple[Any, Any]:
    """What the export wrote before it streamed: the whole data frame for pyreadstat."""
    data: dict[str, Any] = {}
    labels: dict[str, dict[int | float, str]] = {}
    for col, values in zip(ds.columns, zip(*rows, strict=True), strict=True):
        if col.values or col.regions:
            codes = value_codes(col, known, {v for v in values if v is not None})
            data[col.name] = pd.array(
                [None if v is None else float(codes[v]) for v in values], dtype="float64"
            )
            labels[col.name] = {float(code): v for v, code in codes.items()}
        elif col.type == "string":
            data[col.name] = ["" if v is None else v for v in values]
        elif col.type in ("integer", "number"):
            data[col.name] = pd.array(
                [None if v is None else float(v) for v in values], dtype="float64"
            )
        elif col.type == "boolean":
            data[col.name] = pd.array(
                [None if v is None else float(v) for v in values], dtype="float64"
            )
            labels[col.name] = {float(k): v for k, v in BOOLEAN_LABELS.items()}
        elif col.type == "date":
            data[col.name] = list(values)
        else:
            moments = [
                None if v is None else v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v
                for v in values
            ]
            data[col.name] = pd.to_datetime(moments).astype("datetime64[us]")
    return pd.DataFrame(data), labels


def files(folder: Path) -> set[str]:
    """The files in ``folder`` (the spool and templates are hidden, and must be gone)."""
    return {p.name for p in folder.iterdir() if not p.name.startswith("test.db-")}


def without_time(data: bytes, fmt: str) -> bytes:
    """The file without the time it was written (pyreadstat stamps it: minutes, seconds)."""
    if fmt == "sav":
        return data[:92] + data[109:]
    start = data.index(b"<timestamp>")
    end = data.index(b"</timestamp>")
    return data[:start] + data[end:]


async def written(
    url: str, tmp_path: Path, long_text: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[Dataset, list[tuple[Any, ...]], dict[str, Path]]:
    monkeypatch.setattr(stream, "CHUNK", 4)  # several chunks, the last one short
    sessions = await filled(url, long_text)
    ds = dataset()
    targets = {fmt: tmp_path / f"probe.{fmt}" for fmt in ("sav", "dta")}
    done = await write_stats_files(sessions, ds, ds.query, targets, note="snapshot: test")
    async with sessions() as session:
        rows = [tuple(r) for r in (await session.execute(ds.query)).all()]
    assert len(rows) > 12
    assert {fmt: n for fmt, (n, _) in done.items()} == {"sav": len(rows), "dta": len(rows)}
    return ds, rows, targets


@pytest.mark.parametrize("long_text", [2044, 3000])
async def test_files_are_pyreadstats_of_the_whole_frame(
    database_url: str, tmp_path: Path, long_text: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds, rows, targets = await written(database_url, tmp_path, long_text, monkeypatch)
    df, labels = whole_frame(ds, rows, ["oulu"])
    for fmt, path in targets.items():
        if fmt == "dta" and long_text >= 2045:
            continue  # pyreadstat keeps one strL per distinct text: compared read back below
        reference = tmp_path / f"reference.{fmt}"
        write_frame(ds, df, labels, fmt, reference, "snapshot: test")
        ours, theirs = path.read_bytes(), reference.read_bytes()
        assert len(ours) == len(theirs), fmt
        assert without_time(ours, fmt) == without_time(theirs, fmt), fmt


def same(want: Any, got: Any, col: Column) -> bool:
    if want is None or want == "":
        return (
            got is None
            or got == ""
            or (isinstance(got, float) and math.isnan(got))
            or (got is pd.NaT)
        )
    if col.type == "boolean":
        return bool(got == ("true" if want else "false"))
    if col.type in ("integer", "number"):
        return math.isclose(float(got), float(want), rel_tol=1e-12)
    if col.type == "date":
        return bool(pd.Timestamp(got).date() == want)
    if col.type == "timestamp":  # SPSS: seconds as a double; Stata: milliseconds
        moment = want.astimezone(UTC).replace(tzinfo=None) if want.tzinfo else want
        return abs(pd.Timestamp(got).to_pydatetime() - moment) < timedelta(milliseconds=1)
    return bool(got == want)


@pytest.mark.parametrize("long_text", [3000])
async def test_files_read_back_by_pyreadstat_and_pandas(
    database_url: str, tmp_path: Path, long_text: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyreadstat

    ds, rows, targets = await written(database_url, tmp_path, long_text, monkeypatch)
    readers = {
        "sav": (pyreadstat.read_sav, lambda p: pd.read_spss(p, convert_categoricals=True)),
        "dta": (pyreadstat.read_dta, lambda p: pd.read_stata(p, convert_categoricals=True)),
    }
    for fmt, path in targets.items():
        back, meta = readers[fmt][0](str(path), apply_value_formats=True)
        assert meta.number_rows == len(rows) == len(back)
        assert meta.column_names_to_labels["note"] == COLUMNS[3].meaning
        assert meta.variable_value_labels["region"] == {1.0: "oulu", 2.0: "kainuu"}
        assert meta.variable_value_labels["status"] == {1.0: "ACTIVE", 2.0: "PAUSED", 3.0: "LEFT"}
        assert meta.original_variable_types["day"] == ("DATE11" if fmt == "sav" else "%td")
        by_pandas = readers[fmt][1](str(path))
        assert len(by_pandas) == len(rows)
        for table in (back, by_pandas):
            for i, (row, got) in enumerate(zip(rows, table.itertuples(index=False), strict=True)):
                for col, want, value in zip(ds.columns, row, got, strict=True):
                    if table is by_pandas and col.type == "boolean":
                        want = None if want is None else ("true" if want else "false")
                        assert (
                            (value in (None, "") or value != value)
                            if want is None
                            else (value == want)
                        ), (fmt, i, col.name, want, value)
                        continue
                    assert same(want, value, col), (fmt, i, col.name, want, value)
        longest = max(len(str(r[3] or "").encode()) for r in rows)
        assert longest == long_text  # the long text came through whole
        assert (path.stat().st_mode & 0o777) == 0o600
    assert files(tmp_path) == {"probe.sav", "probe.dta"} | (
        {"test.db"} if "sqlite" in database_url else set()
    )


async def test_a_value_outside_the_value_set_is_refused_before_any_file(
    database_url: str, tmp_path: Path
) -> None:
    sessions = await filled(database_url, 100)
    async with sessions() as session, session.begin():
        await session.execute(sa.update(probe).where(probe.c.n == 3).values(status="GONE"))
    ds = dataset()
    out = tmp_path / "out"
    with pytest.raises(NotInValueSet, match=r"probe.status: 'GONE' not in"):
        await write_stats_files(sessions, ds, ds.query, {"dta": out / "x.dta"})
    assert files(out) == set()


async def test_dates_stay_dates_when_missing_or_without_rows(
    database_url: str, tmp_path: Path
) -> None:
    import pyreadstat

    sessions = await filled(database_url, 100)
    ds = dataset()
    readers = {"sav": pyreadstat.read_sav, "dta": pyreadstat.read_dta}
    for step in ("no dates", "no rows"):
        async with sessions() as session, session.begin():
            if step == "no dates":
                await session.execute(sa.update(probe).values(day=None, at=None))
            else:
                await session.execute(sa.delete(probe))
        out = tmp_path / step.replace(" ", "_")
        targets = {fmt: out / f"probe.{fmt}" for fmt in readers}
        await write_stats_files(sessions, ds, ds.query, targets)
        for fmt, path in targets.items():
            back, meta = readers[fmt](str(path), apply_value_formats=True)
            assert len(back) == (23 if step == "no dates" else 0), (step, fmt)
            assert meta.original_variable_types["day"] == ("DATE11" if fmt == "sav" else "%td")
            assert meta.readstat_variable_types["day"] == "double"
            assert back["day"].isna().all()
            assert back["at"].isna().all()
