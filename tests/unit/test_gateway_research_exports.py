"""Exports of memos and the coding workspace (``memos``, ``codings``, ``coding_marks``):
their rows against the read model, and the rules GraphQL applies to the same data, over the
gateway's own HTTP app with real tokens (two regions, tests/unit/two_regions.py)."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import math
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import pytest_asyncio
from sqlalchemy import select

from services.gateway.exports.qdpx import moved, plain_text
from services.gateway.exports.registry import DATASETS
from services.gateway.exports.stats import cut, stata_name
from services.gateway.orm import memos
from services.gateway.research import store
from services.gateway.research.coding import CodingInput
from services.gateway.research.tables import codebooks
from services.gateway.views.days import day_of
from tests.unit.two_regions import REGIONS, ROLES, T0, Net, Region, served

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Net]:
    path = tmp_path_factory.mktemp("research-exports") / "gateway.db"
    async with served(path, [Region(name) for name in REGIONS]) as net:
        # a second meeting of each region coded "nothing found" by one coder
        async with net.gateway.sessions() as session, session.begin():
            book = await session.scalar(select(codebooks.c.id).where(codebooks.c.key == "wenger"))
            assert book is not None
            for region in net.regions.values():
                second = await session.scalar(
                    select(memos.c.meeting_id)
                    .where(memos.c.region == region.name)
                    .where(memos.c.meeting_id != region.first["meeting"])
                    .limit(1)
                )
                assert second is not None
                coding = CodingInput(book, second, nothing_found=True, note="none here")
                await store.record_coding(session, coding, "coder-a")
        yield net


async def rows(net: Net, name: str, role: str, region: str | None = None) -> list[dict[str, str]]:
    url = f"/exports/{name}.csv" + (f"?region={region}" if region else "")
    resp = await net.client.get(url, headers=net.auth(role))
    assert resp.status_code == 200, (role, url, resp.text)
    return list(csv.DictReader(io.StringIO(resp.text)))


async def test_memos_are_the_national_texts_dated_by_the_meeting(net: Net) -> None:
    got = await rows(net, "memos", "researcher")
    assert [list(r) for r in got[:1]] == [DATASETS["memos"].column_names]
    expected = {}
    for region in net.regions.values():
        for i, text in enumerate(t for t in region.texts if " memo " in t):
            expected[text] = (region.name, day_of(T0 + timedelta(days=30 * i)).isoformat())
    assert {r["text"]: (r["region"], r["meeting_day"]) for r in got} == expected
    assert len(got) == 3 * len(REGIONS)
    assert all(r["version"] and r["published_at"] for r in got)
    # an agency: its own region's memos, another region's refused, as in GraphQL
    own = await rows(net, "memos", "agency:oulu")
    assert {r["region"] for r in own} == {"oulu"}
    assert len(own) == 3
    resp = await net.client.get("/exports/memos.csv?region=kainuu", headers=net.auth("agency:oulu"))
    assert resp.status_code == 403
    resp = await net.client.get("/exports/memos.csv", headers=net.auth("public"))
    assert resp.status_code == 403


async def test_codings_and_marks_are_the_workspace_with_nothing_found(net: Net) -> None:
    codings = await rows(net, "codings", "researcher")
    by = {(r["region"], r["coder_id"], r["nothing_found"]) for r in codings}
    for name in REGIONS:
        assert {(name, c, "false") for c in ("coder-a", "coder-b", "consensus")} <= by
        assert (name, "coder-a", "true") in by  # coded, nothing found: a record of its own
    assert len(codings) == 4 * len(REGIONS)
    for r in codings:
        assert r["codebook"] == "wenger"
        assert r["codebook_version"] == "1"
        assert r["consensus"] == ("true" if r["coder_id"] == "consensus" else "false")
        assert r["marks"] == ("0" if r["nothing_found"] == "true" else "1")
        assert r["reconciled_by"] == ("coder-c" if r["coder_id"] == "consensus" else "")
    marks = await rows(net, "coding_marks", "researcher")
    assert len(marks) == 3 * len(REGIONS)
    memo = {r["meeting_id"]: r["text"] for r in await rows(net, "memos", "researcher")}
    for m in marks:
        assert m["code"] == "problem_solving"
        if m["coder_id"] == "consensus":  # the whole meeting, featured
            assert (m["span_start"], m["span_end"], m["featured"]) == ("", "", "true")
        else:  # a passage: its offsets into the memo text, and the text it quotes
            start, end = int(m["span_start"]), int(m["span_end"])
            assert m["quote"] == memo[m["meeting_id"]][start:end] != ""
    assert {m["coding_id"] for m in marks} < {c["coding_id"] for c in codings}
    one = await rows(net, "coding_marks", "researcher", "oulu")
    assert {m["region"] for m in one} == {"oulu"}
    assert len(one) == 3


@pytest.mark.parametrize("name", ["codings", "coding_marks"])
async def test_the_workspace_exports_follow_graphqls_rule(net: Net, name: str) -> None:
    """Researchers only, like ``meetingCodings``: an agency not even for its own region."""
    query = "query($b: ID!, $m: ID!) { meetingCodings(codebookId: $b, meetingId: $m) { id } }"
    meeting = net.regions["oulu"].first["meeting"]
    for role in ROLES:
        resp = await net.client.post(
            "/graphql",
            json={"query": query, "variables": {"b": net.national["codebookId"], "m": meeting}},
            headers=net.auth(role),
        )
        graphql_allows = not resp.json().get("errors")
        for region in (None, "oulu"):
            url = f"/exports/{name}.jsonl" + (f"?region={region}" if region else "")
            got = await net.client.get(url, headers=net.auth(role))
            assert got.status_code == (200 if graphql_allows else 403), (role, url)
            if not graphql_allows:
                assert "researchers' coding workspace" in got.json()["error"]["message"]
        assert graphql_allows == (role == "researcher")


# --- SPSS and Stata files: the CSV's values, labelled from the data dictionary ------------


def read_stats(data: bytes, fmt: str, folder: Path) -> tuple[Any, Any]:
    """The file read back with pyreadstat: values with their labels applied, and metadata."""
    import pyreadstat

    path = folder / f"back.{fmt}"
    path.write_bytes(data)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    return reader(str(path), apply_value_formats=True, formats_as_category=False)


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def same(csv_cell: str, value: Any, type_: str) -> bool:
    """Whether a value read back from the file is the CSV's cell of the same row."""
    if missing(value) or value == "":
        return csv_cell == ""
    if type_ in ("integer", "number"):
        return math.isclose(float(csv_cell), float(value), rel_tol=1e-12)
    if type_ == "date":
        return bool(value.isoformat() == csv_cell)
    if type_ == "timestamp":  # UTC without a zone; SPSS keeps seconds as a double
        want = datetime.fromisoformat(csv_cell).astimezone(UTC).replace(tzinfo=None)
        return abs(pd.Timestamp(value).to_pydatetime() - want) < timedelta(milliseconds=1)
    return bool(str(value) == csv_cell)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
async def test_spss_and_stata_files_are_the_csv_with_labels(
    net: Net, fmt: str, tmp_path: Path
) -> None:
    checked_labels = 0
    for name, ds in DATASETS.items():
        csv_resp = await net.client.get(f"/exports/{name}.csv", headers=net.auth("researcher"))
        expected = list(csv.reader(io.StringIO(csv_resp.text)))[1:]
        resp = await net.client.get(f"/exports/{name}.{fmt}", headers=net.auth("researcher"))
        assert resp.status_code == 200, (name, resp.text)
        assert resp.headers["x-mgn-sha256"] == hashlib.sha256(resp.content).hexdigest()
        assert (
            resp.headers["x-mgn-snapshot-sequence"] == csv_resp.headers["x-mgn-snapshot-sequence"]
        )
        df, meta = read_stats(resp.content, fmt, tmp_path)
        assert list(df.columns) == ds.column_names, name
        assert meta.number_rows == len(expected), name
        for col in ds.columns:  # variable labels: the meaning (Stata: 80 bytes at most)
            label = meta.column_names_to_labels[col.name]
            assert label == (col.meaning if fmt == "sav" else cut(col.meaning)), (name, col)
            if col.values:  # value labels: codes 1..n of the dictionary's values
                want = {float(i): v for i, v in enumerate(col.values, 1)}
                assert meta.variable_value_labels[col.name] == want, (name, col.name)
                checked_labels += 1
            if col.type == "date":  # a date variable, even where every value is missing
                assert meta.readstat_variable_types[col.name] == "double", (name, col.name)
                want_format = "DATE11" if fmt == "sav" else "%td"
                assert meta.original_variable_types[col.name] == want_format, (name, col.name)
        for i, (row, back) in enumerate(zip(expected, df.itertuples(index=False), strict=True)):
            for col, cell, value in zip(ds.columns, row, back, strict=True):
                assert same(cell, value, col.type), (name, i, col.name, cell, value)
    assert checked_labels >= 6


async def test_region_codes_are_the_same_in_every_file(net: Net, tmp_path: Path) -> None:
    for name in ("groups", "memos", "meetings"):
        resp = await net.client.get(f"/exports/{name}.dta", headers=net.auth("researcher"))
        _, meta = read_stats(resp.content, "dta", tmp_path)
        assert meta.variable_value_labels["region"] == {1.0: "kainuu", 2.0: "oulu"}


async def test_spss_and_stata_files_follow_the_roles(net: Net, tmp_path: Path) -> None:
    for fmt in ("sav", "dta"):
        resp = await net.client.get(f"/exports/memos.{fmt}", headers=net.auth("agency:oulu"))
        df, _ = read_stats(resp.content, fmt, tmp_path)
        assert set(df["region"]) == {"oulu"}
        assert len(df) == 3
        for role, name in (("agency:oulu", "codings"), ("public", "memos"), ("public", "groups")):
            resp = await net.client.get(f"/exports/{name}.{fmt}", headers=net.auth(role))
            assert resp.status_code == 403, (role, name, fmt)
        resp = await net.client.get(
            f"/exports/groups.{fmt}?region=kainuu", headers=net.auth("agency:oulu")
        )
        assert resp.status_code == 403
        resp = await net.client.get(f"/exports/retention.{fmt}", headers=net.auth("public"))
        assert resp.status_code == 200  # national totals: every role


async def test_stata_names_and_labels() -> None:
    taken: set[str] = set()
    assert stata_name("mean_overall", taken) == "mean_overall"
    assert stata_name("a.b", taken) == "a_b"
    assert stata_name("1st", taken) == "_1st"
    long = "x" * 40
    assert stata_name(long, taken) == "x" * 32
    assert stata_name(long, taken) == "x" * 30 + "_2"
    assert stata_name("MEAN_OVERALL", taken) == "MEAN_OVERALL_2"  # Stata's names: no case
    assert cut("ä" * 50) == "ä" * 38 + "…"
    assert len(cut("ä" * 50).encode()) <= 80
    assert cut("short") == "short"
    for ds in DATASETS.values():  # the dictionary's names are Stata's already
        assert [stata_name(c, set()) for c in ds.column_names] == ds.column_names


# --- the REFI-QDA project (.qdpx) -------------------------------------------------------

XSD = Path(__file__).parents[1] / "fixtures" / "refi_qda" / "Project.xsd"
Q = "{urn:QDA-XML:project:1.0}"


async def qdpx(net: Net, query: str = "", role: str = "researcher") -> httpx.Response:
    return await net.client.get(f"/exports/memos.qdpx{query}", headers=net.auth(role))


def project(data: bytes) -> tuple[Any, dict[str, str]]:
    """The project.qde (validated against REFI-QDA's schema) and the source texts."""
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert "project.qde" in names
        root = etree.fromstring(archive.read("project.qde"))
        texts = {n: archive.read(n).decode("utf-8") for n in names if n.startswith("Sources/")}
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert schema.validate(root), schema.error_log
    return root, texts


async def test_qdpx_is_a_valid_refi_qda_project_of_the_memos_and_codings(net: Net) -> None:
    resp = await qdpx(net)
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-mgn-sha256"] == hashlib.sha256(resp.content).hexdigest()
    root, texts = project(resp.content)
    memos = {r["meeting_id"]: r for r in await rows(net, "memos", "researcher")}
    marks = await rows(net, "coding_marks", "researcher")
    # every GUID once; every reference to one that exists (what QualCoder's import relies on)
    guids = [e.get("guid") for e in root.iter() if e.get("guid")]
    assert len(guids) == len(set(guids))
    refs = [e.get("targetGUID") for e in root.iter() if e.get("targetGUID")]
    assert refs
    assert set(refs) <= set(guids)
    users = {u.get("guid"): u.get("name") for u in root.iter(f"{Q}User")}
    assert sorted(users.values()) == ["coder-a", "coder-b", "consensus"]
    codes = {c.get("guid"): c.get("name") for c in root.iter(f"{Q}Code")}
    assert len(codes) == 11
    assert all(c.get("isCodable") == "true" for c in root.iter(f"{Q}Code"))
    sources = list(root.iter(f"{Q}TextSource"))
    assert len(sources) == len(memos) == 3 * len(REGIONS)
    seen_passages = 0
    for source in sources:
        path = source.get("plainTextPath")
        assert path == f"internal://{source.get('guid')}.txt"
        text = texts[f"Sources/{source.get('guid')}.txt"]
        (meeting,) = [m for m in memos if m in source.findtext(f"{Q}Description")]
        assert text == memos[meeting]["text"]  # the national text, as exported
        for sel in source.findall(f"{Q}PlainTextSelection"):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            coder = users[sel.get("creatingUser")]
            (mark,) = [m for m in marks if m["meeting_id"] == meeting and m["coder_id"] == coder]
            assert (start, end) == (int(mark["span_start"]), int(mark["span_end"]))
            assert text[start:end] == mark["quote"]
            code = sel.find(f"{Q}Coding/{Q}CodeRef").get("targetGUID")
            assert codes[code].startswith(mark["code"] + ":")
            assert sel.findtext(f"{Q}Description") == mark["example"]
            seen_passages += 1
        for whole in source.findall(f"{Q}Coding"):  # the consensus: the whole meeting
            assert users[whole.get("creatingUser")] == "consensus"
    assert seen_passages == sum(m["span_start"] != "" for m in marks) == 2 * len(REGIONS)
    assert len(root.findall(f"{Q}Sources/{Q}TextSource/{Q}Coding")) == len(REGIONS)
    notes = [n.findtext(f"{Q}PlainTextContent") for n in root.iter(f"{Q}Note")]
    assert sum("nothing found" in n or "none of the codebook" in n for n in notes) == 2
    sets = {s.get("name"): len(s) for s in root.iter(f"{Q}Set")}
    assert {n for n in sets if n.startswith("region ")} == {f"region {r}" for r in REGIONS}
    assert sum(v for n, v in sets.items() if n.startswith("group ")) == len(sources)
    assert "wenger v1" in root.findtext(f"{Q}Description")
    again = await qdpx(net)  # the same snapshot: the same bytes
    assert again.content == resp.content


async def test_qdpx_filters_like_the_rest(net: Net) -> None:
    oulu_group = net.regions["oulu"].first["group"]
    for query, expected in (
        ("?region=oulu", 3),
        (f"?group={oulu_group}", 3),
        ("?from=2024-04-01", 2 * len(REGIONS)),  # meetings 1 and 2 of each region
        ("?from=2024-03-12&to=2024-03-12", len(REGIONS)),  # exact days, never widened
        ("?region=oulu&to=2024-04-11", 2),
    ):
        resp = await qdpx(net, query)
        assert resp.status_code == 200, (query, resp.text)
        root, texts = project(resp.content)
        assert len(list(root.iter(f"{Q}TextSource"))) == len(texts) == expected, query
    assert (await qdpx(net, "?from=2024-13-01")).status_code == 400
    assert (await qdpx(net, "?codebook=nonesuch")).status_code == 404
    assert (await qdpx(net, "?language=de")).status_code == 400
    fi, _ = project((await qdpx(net, "?language=fi")).content)
    assert any("Ongelmanratkaisu" in (c.get("name") or "") for c in fi.iter(f"{Q}Code"))


@pytest.mark.parametrize("role", ["public", "agency:oulu", "agency:kainuu"])
async def test_qdpx_is_for_researchers_only(net: Net, role: str) -> None:
    resp = await qdpx(net, "?region=oulu", role)
    assert resp.status_code == 403
    assert "for researchers" in resp.json()["error"]["message"]


async def test_cli_writes_the_qdpx_with_its_sha256(net: Net, tmp_path: Path) -> None:
    from deploy.cli import main

    db = f"sqlite:///{net.gateway.engine.url.database}"
    out = tmp_path / "memos.qdpx"
    args = ["export", "memos", "--format", "qdpx", "--out", str(out), "--region", "kainuu"]
    assert await asyncio.to_thread(main, [*args, "--db", db]) == 0
    _, texts = project(out.read_bytes())
    assert len(texts) == 3
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert (tmp_path / "memos.qdpx.sha256").read_text() == f"{digest}  memos.qdpx\n"
    with pytest.raises(SystemExit, match="qdpx is for memos"):
        main(["export", "codings", "--format", "qdpx", "--out", str(out), "--db", db])


async def test_crlf_texts_keep_their_passages() -> None:
    text = "a\r\nbc\r\nd"
    plain, removed = plain_text(text)
    assert plain == "a\nbc\nd"
    for start, end in ((3, 5), (0, 1), (7, 8), (0, 8)):
        assert plain[moved(start, removed) : moved(end, removed)] == text[start:end].replace(
            "\r\n", "\n"
        )
