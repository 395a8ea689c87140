"""CSV injection (OWASP): no exported CSV cell is a live spreadsheet formula.

The shared writer's rule on single cells, then every dataset over HTTP (national and per
region) and through ``mgn export``, over a read model whose every free text starts with a
formula (``=``, ``+``, ``-``, ``@``, a tab or carriage return, after leading whitespace,
full-width): each comes out quoted, and numbers stay numbers.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from deploy.cli import main
from services.gateway.exports.registry import DATASETS
from shared.csv_out import SafeCsvWriter, safe_cell
from tests.unit.two_regions import REGIONS, Net, Region, served

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
FORMULAS: tuple[str, ...] = (
    "=1+1 ",
    "+1+1 ",
    "-1+1 ",
    "@SUM(A1) ",
    "\t=1+1 ",
    "\r=1+1 ",
    "  =1+1 ",
    "＝1+1 ",
    '=HYPERLINK("http://x.invalid") ',
    "\n-2+3 ",
)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+A1", "'+A1"),
        ("+1", "+1"),  # a plain number with its sign stays a number
        ("-A1", "'-A1"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),
        ("\n@x", "'\n@x"),
        ("＝1+1", "'＝1+1"),
        ("-", "'-"),
        ("a=b", "a=b"),
        ("Oulu", "Oulu"),
        ("", ""),
        (-3, -3),
        (-2.5, -2.5),
        (Decimal("-1.5"), Decimal("-1.5")),
        ("-3", "-3"),
        (" -3.25", " -3.25"),
        ("+358", "+358"),
        ("1e-3", "1e-3"),
        (None, ""),
        (True, "true"),
        (False, "false"),
    ],
)
def test_a_cell_that_a_spreadsheet_would_evaluate_is_quoted(value: Any, cell: Any) -> None:
    assert safe_cell(value) == cell


def test_the_writer_quotes_every_cell_it_writes() -> None:
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(["=1", -3, "x"])
    writer.writerows([["@a", None, 2.5]])
    writer.writerow(["a\rb", "c\nd"])  # quoted: a reader keeps the row whole
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows == [["'=1", "-3", "x"], ["'@a", "", "2.5"], ["a\rb", "c\nd"]]


# every kind of cell safe_cell tells apart, and texts that only look like a formula start
CELLS: tuple[Any, ...] = (
    *FORMULAS,
    "Oulu",
    "",
    None,
    "-3",
    " -3.25",
    "a\x00=b",  # a NUL inside a text (the column check joins texts by NUL)
    "\u2003=1",  # a Unicode space before the formula
    "\x1c@",  # str.isspace() but not ASCII whitespace
    'a "quoted", text',  # what csv quotes: a comma, a quote, CR or LF
    "two\nlines",
    "\r",
    '"',
    -3,
    2.5,
    float("nan"),
    Decimal("-1.5"),
    True,
    False,
)


@pytest.mark.parametrize("size", [1, 2])
def test_writing_columns_gives_the_same_text_as_writing_rows(size: int) -> None:
    """The column-wise writer (what exports use: its own quoting and formatting) against
    csv.writer cell by cell: every column of ``size`` cells drawn from CELLS, mixed kinds
    included, beside another such column, and alone."""
    columns = list(itertools.product(CELLS, repeat=size))
    by_rows, by_columns = io.StringIO(), io.StringIO()
    for a, b in itertools.product(columns[::16], columns):
        SafeCsvWriter(by_rows).writerows(zip(a, b, strict=True))
        SafeCsvWriter(by_columns).writecolumns([a, b])
    for a in columns:
        SafeCsvWriter(by_rows).writerows(zip(a, strict=True))
        SafeCsvWriter(by_columns).writecolumns([a])
    assert by_columns.getvalue() == by_rows.getvalue()
    assert "'=1+1 " in by_columns.getvalue()
    assert '"a ""quoted"", text"' in by_columns.getvalue()


def live_formula(cell: str) -> bool:
    """What a spreadsheet evaluates, judged without the writer's own rule."""
    if cell[:1] in ("\t", "\r"):
        return True
    start = cell.lstrip()[:1]
    if start not in ("=", "+", "-", "@", "＝", "＋", "－", "＠"):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Net]:
    path = tmp_path_factory.mktemp("csvinjection") / "gateway.db"
    async with served(path, [Region(r, prefixes=FORMULAS) for r in REGIONS]) as net:
        yield net


def check(text: str, where: str, written: set[str]) -> set[str]:
    """No live formula in ``text``; the written texts found in it, as quoted."""
    found = set()
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            assert not live_formula(cell), f"{where}: live formula {cell!r}"
            if cell.startswith("'") and cell[1:] in written:
                found.add(cell[1:])
    return found


def written_texts(net: Net) -> set[str]:
    return {t for r in net.regions.values() for t in r.texts}


def quoted_kinds(found: set[str]) -> set[str]:
    """'OULU-OWN theme 2' -> 'theme' (the kind of text each field carries)."""
    return {t.split("-OWN ", 1)[1].split(" ")[0] for t in found}


# the columns the outside test found live formulas in (group name and municipality,
# membership reason, meeting theme, activity example, initiative title, CoP example)
MUST = {"group", "town", "left", "theme", "example", "initiative"}


@MODULE_LOOP
async def test_every_dataset_over_http_quotes_formulas(net: Net) -> None:
    written, found = written_texts(net), set()
    for name, region in itertools.product(DATASETS, (None, *REGIONS)):
        url = f"/exports/{name}.csv" + (f"?region={region}" if region else "")
        resp = await net.client.get(url, headers=net.auth("researcher"))
        assert resp.status_code == 200, (url, resp.text)
        found |= check(resp.text, url, written)
    assert quoted_kinds(found) >= MUST, quoted_kinds(found)
    # JSON lines are not for spreadsheets: the texts as written
    resp = await net.client.get("/exports/meetings.jsonl", headers=net.auth("researcher"))
    assert any(t in resp.text for t in ('"=1+1 ', '"+1+1 ', '"@SUM(A1) '))


@MODULE_LOOP
async def test_mgn_export_quotes_formulas_in_every_dataset(net: Net, tmp_path: Path) -> None:
    written, found = written_texts(net), set()
    db = net.gateway.settings.database_url
    for name in DATASETS:
        out = tmp_path / f"{name}.csv"
        code = await asyncio.to_thread(main, ["export", name, "--out", str(out), "--db", db])
        assert code == 0
        assert out.stat().st_mode & 0o077 == 0  # research data: the operator's alone
        found |= check(out.read_text(encoding="utf-8"), f"mgn export {name}", written)
    assert quoted_kinds(found) >= MUST, quoted_kinds(found)
