"""Exports (no NATS): every dataset streams as CSV and JSON lines matching its data
dictionary and the read model, guarded by role, over HTTP and with ``mgn export``."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import sqlite3
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from deploy.cli import main
from services.gateway.app import build
from services.gateway.auth import AccessDenied, Guard, Role, create_token
from services.gateway.exports.registry import DATASETS, RAW_DATASETS, UnknownDataset, dataset
from services.gateway.exports.stream import BadFormat, check_format, scoped, stream
from services.gateway.graphql import GatewayContext, schema
from services.gateway.settings import GatewaySettings
from tests.unit.test_gateway_research_graphql import World, fresh_world, load, make  # noqa: F401
from tests.unit.test_gateway_research_graphql import world as research_world  # noqa: F401

RESEARCHER = Guard(Role.RESEARCHER)
OULU = Guard(Role.AGENCY, "oulu")
PUBLIC = Guard(Role.PUBLIC)
MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the tests on the shared world


@pytest.fixture
def net(research_world: World) -> World:  # noqa: F811
    """The research world built once per module and database, only read (:data:`MODULE_LOOP`)."""
    return research_world


async def text(net: World, name: str, fmt: str, guard: Guard, region: str | None = None) -> str:
    ds = dataset(name)
    return "".join([p async for p in stream(net.sessions, ds, fmt, scoped(ds, guard, region))])


async def count(net: World, name: str) -> int:
    query = DATASETS[name].query.subquery()
    async with net.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(query)) or 0)


@pytest.mark.parametrize("name", sorted(RAW_DATASETS))  # views: test_gateway_views_exports
@MODULE_LOOP
async def test_each_dataset_streams_its_dictionary_in_both_formats(net: World, name: str) -> None:
    ds = DATASETS[name]
    rows = list(csv.reader(io.StringIO(await text(net, name, "csv", RESEARCHER))))
    assert rows[0] == ds.column_names
    assert len(rows) - 1 == await count(net, name) > 0
    lines = (await text(net, name, "jsonl", RESEARCHER)).splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len(rows) - 1
    assert all(list(r) == ds.column_names for r in records)
    # the same values in both formats (CSV writes null as empty, booleans as true/false)
    for record, row in zip(records, rows[1:], strict=True):
        for value, cell in zip(record.values(), row, strict=True):
            expected = (
                ""
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
            assert cell == expected
    assert all(c.type and c.meaning for c in ds.columns)


@MODULE_LOOP
async def test_survey_aggregates_are_k_anonymous(net: World) -> None:
    records = {
        r["id"]: r
        for r in map(json.loads, (await text(net, "surveys", "jsonl", RESEARCHER)).splitlines())
    }
    few, enough = records[net.ids["few"]], records[net.ids["enough"]]
    assert few["responses"] == 2
    assert few["mean_overall"] is few["mean_usefulness"] is few["mean_recommend"] is None
    assert enough["responses"] == 3
    assert enough["mean_overall"] == 4.0
    assert enough["mean_recommend"] == 8.0


@MODULE_LOOP
async def test_roles_decide_which_rows_are_exported(net: World) -> None:
    meetings = [json.loads(x) for x in (await text(net, "meetings", "jsonl", OULU)).splitlines()]
    assert {m["region"] for m in meetings} == {"oulu"}
    assert len(meetings) == 6
    both = (await text(net, "meetings", "jsonl", RESEARCHER)).splitlines()
    assert len(both) == 8
    lappi = (await text(net, "attendance", "jsonl", RESEARCHER, "lappi")).splitlines()
    assert {json.loads(x)["region"] for x in lappi} == {"lappi"}
    with pytest.raises(AccessDenied, match="region lappi"):
        scoped(dataset("meetings"), OULU, "lappi")
    with pytest.raises(AccessDenied, match="national aggregates only"):
        scoped(dataset("members"), PUBLIC)
    assert "regions" in {n for n in DATASETS if _allowed(n, PUBLIC)}  # region list is public
    with pytest.raises(UnknownDataset, match="choose one of activities, attendance"):
        dataset("people")
    with pytest.raises(BadFormat, match="csv, jsonl, sav or dta"):
        check_format("xlsx")


def _allowed(name: str, guard: Guard) -> bool:
    try:
        scoped(DATASETS[name], guard)
    except AccessDenied:
        return False
    return True


@MODULE_LOOP
async def test_graphql_links_the_exports(net: World) -> None:
    result = await schema.execute(
        "{ exports { name allowed csvUrl jsonlUrl columns { name type meaning } } }",
        context_value=GatewayContext.create(net.sessions, guard=PUBLIC),
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    found = {e["name"]: e for e in result.data["exports"]}
    assert set(found) == set(DATASETS)
    assert found["members"]["csvUrl"] == "/exports/members.csv"
    assert found["members"]["jsonlUrl"] == "/exports/members.jsonl"
    assert found["members"]["allowed"] is False
    assert found["regions"]["allowed"] is True
    assert found["members"]["columns"][0] == {
        "name": "id",
        "type": "id",
        "meaning": "Pseudonymous id of the member enterprise",
    }


async def test_http_exports_stream_with_the_callers_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    gateway = build(GatewaySettings(database_url=url, require_token=True))
    engine, sessions = await make(url)
    try:
        from tests.unit.test_gateway_research_graphql import Network

        oulu, lappi = Network("oulu"), Network("lappi")
        oulu.group("A", 3)
        lappi.group("B", 2)
        events = oulu.events + lappi.events  # as if consumed from NATIONAL at 1, 2, ...
        await load(sessions, [replace(e, stream_seq=i) for i, e in enumerate(events, 1)])
        agency = await create_token(sessions, "agency", "oulu")
        public = await create_token(sessions, "public")
        transport = httpx.ASGITransport(app=gateway.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:

            async def get(path: str, token: str) -> httpx.Response:
                return await client.get(path, headers={"authorization": f"Bearer {token}"})

            resp = await get("/exports/members.csv", agency.token)
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/csv")
            assert 'filename="members.csv"' in resp.headers["content-disposition"]
            rows = list(csv.DictReader(io.StringIO(resp.text)))
            assert len(rows) == 3
            assert resp.headers["x-mgn-snapshot-stream"] == "NATIONAL"
            assert resp.headers["x-mgn-snapshot-sequence"] == str(len(events))
            assert datetime.fromisoformat(resp.headers["x-mgn-snapshot-time"]).tzinfo
            assert {r["region"] for r in rows} == {"oulu"}
            refused = await get("/exports/members.jsonl?region=lappi", agency.token)
            assert refused.status_code == 403
            assert "region lappi" in refused.json()["error"]["message"]
            assert (await get("/exports/members.csv", public.token)).status_code == 403
            # research views: national totals for the public, per-group rows not
            totals = await get("/exports/meetings_over_time.csv", public.token)
            assert totals.status_code == 200
            assert totals.text.startswith("month,groups_meeting,meetings_held")
            assert (await get("/exports/group_health.csv", public.token)).status_code == 403
            one = await get("/exports/retention.jsonl?region=oulu", public.token)
            assert one.status_code == 403
            assert "national aggregates only" in one.json()["error"]["message"]
            assert (await get("/exports/group_health.csv?region=lappi", agency.token)).is_success
            regions = await get("/exports/regions.jsonl", public.token)
            assert regions.status_code == 200
            assert {json.loads(x)["id"] for x in regions.text.splitlines()} == {"oulu", "lappi"}
            missing = await get("/exports/people.csv", agency.token)
            assert missing.status_code == 404
            assert "no dataset 'people'" in missing.json()["error"]["message"]
            catalogue = (await get("/exports", agency.token)).json()["datasets"]
            assert {d["name"] for d in catalogue} == set(DATASETS)
            unauthorised = await client.get("/exports/members.csv")
            assert unauthorised.status_code == 401
    finally:
        await engine.dispose()
        await gateway.engine.dispose()
        await gateway.read_engine.dispose()


def test_cli_token_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'gateway.db'}"
    assert main(["token", "create", "--role", "agency", "--region", "oulu", "--db", db]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("mgn_")
    assert "shown once" in err
    assert main(["token", "list", "--db", db]) == 0
    listing = capsys.readouterr().out
    assert "agency" in listing
    assert "oulu" in listing
    assert token not in listing
    target = tmp_path / "groups.csv"
    args = ["export", "groups", "--format", "csv", "--out", str(target), "--db", db]
    assert main(args) == 0
    assert target.read_text().splitlines() == [",".join(DATASETS["groups"].column_names)]
    assert "0 rows" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="region lappi"):
        main([*args, "--token", token, "--region", "lappi"])
    views = ["export", "retention", "--format", "jsonl", "--out", str(target), "--db", db]
    assert main([*views, "--token", token, "--region", "lappi"]) == 0  # aggregates: allowed
    assert target.read_text() == ""  # (no members yet)
    assert main(["token", "create", "--role", "public", "--db", db]) == 0
    public = capsys.readouterr().out.strip()
    with pytest.raises(SystemExit, match="coding_agreement export of the nation"):
        main(["export", "coding_agreement", "--token", public, "--db", db])
    with pytest.raises(SystemExit, match="no dataset 'people'"):
        main(["export", "people", "--db", db])
    with pytest.raises(SystemExit, match="agency token needs --region"):
        main(["token", "create", "--role", "agency", "--db", db])
    token_id = token.split("_")[1]
    assert main(["token", "revoke", token_id, "--db", db]) == 0
    assert "revoked at" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="was revoked"):
        main([*args, "--token", token])
    assert main(["export", "--list"]) == 0
    assert "mean_overall" in capsys.readouterr().out


def test_cli_exports_read_beside_a_writer_holding_the_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export of a live gateway's SQLite file reads: it neither waits for the consumer's
    write lock nor fails with "database is locked" behind it (WAL lets readers through)."""
    monkeypatch.setattr("shared.storage.engine.SQLITE_BUSY_SECONDS", 2)  # fail fast if it waits
    path = tmp_path / "gateway.db"
    db = f"sqlite:///{path}"
    assert main(["token", "list", "--db", db]) == 0  # the gateway's schema, migrated
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # the consumer, mid-batch
        writer.execute("DELETE FROM access_tokens")
        target = tmp_path / "groups.csv"
        assert main(["export", "groups", "--out", str(target), "--db", db]) == 0
        assert target.read_text().splitlines() == [",".join(DATASETS["groups"].column_names)]
        table1 = tmp_path / "table1.md"
        assert main(["export", "table1", "--format", "md", "--out", str(table1), "--db", db]) == 0
        assert table1.stat().st_size > 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    capsys.readouterr()


def test_cli_export_all_writes_a_valid_data_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq
    from frictionless import validate

    from shared.storage import create_engine, session_factory
    from tests.unit.test_gateway_research_graphql import Network

    db = f"sqlite:///{tmp_path / 'gateway.db'}"
    assert main(["token", "list", "--db", db]) == 0  # the gateway's schema, migrated
    oulu = Network("oulu")
    beta, people = oulu.group("=HYPERLINK(1)", 3)  # a name a spreadsheet would evaluate
    for i in range(3):
        oulu.meeting(beta, people, i)
    events = [replace(e, stream_seq=i) for i, e in enumerate(oulu.events, 1)]

    async def fill() -> None:
        engine = create_engine(db)
        try:
            await load(session_factory(engine), events)
        finally:
            await engine.dispose()

    asyncio.run(fill())
    capsys.readouterr()
    out = tmp_path / "package"
    also = ["--also", "sav", "--also", "dta", "--also", "jsonl", "--also", "parquet"]
    assert main(["export", "--all", "--out", str(out), *also, "--db", db]) == 0
    err = capsys.readouterr().err
    assert f"NATIONAL stream sequence {len(events)}" in err
    package = json.loads((out / "datapackage.json").read_text())
    assert package["mgn:snapshot"]["sequence"] == len(events)
    assert {r["name"] for r in package["resources"]} == set(DATASETS)
    for res in package["resources"]:
        data = (out / res["path"]).read_bytes()
        assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert f"{hashlib.sha256(data).hexdigest()}  {out / res['path']}" in err
        assert [f["name"] for f in res["schema"]["fields"]] == DATASETS[res["name"]].column_names
        # the same rows as SPSS, Stata, JSON lines and Parquet files, with their SHA-256
        formats = [a["format"] for a in res["mgn:alternates"]]
        assert formats == ["sav", "dta", "jsonl", "parquet"]
        lines = (out / f"{res['name']}.jsonl").read_text().splitlines()
        assert len(lines) == res["rows"]
        for line in lines[:1]:
            assert list(json.loads(line)) == [f["name"] for f in res["schema"]["fields"]]
        assert pq.read_metadata(out / f"{res['name']}.parquet").num_rows == res["rows"]
        for alt in res["mgn:alternates"]:
            data = (out / alt["path"]).read_bytes()
            assert alt["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert alt["bytes"] == len(data)
            assert alt["rows"] == res["rows"]
            assert f"{hashlib.sha256(data).hexdigest()}  {out / alt['path']}" in err
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # spools gone
    groups_csv = (out / "groups.csv").read_text()
    assert "'=HYPERLINK(1)" in groups_csv  # formulas stay neutralised in the package
    report = validate(out / "datapackage.json")
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])
    # one file: its SHA-256 beside it and on standard error, with the snapshot
    one = tmp_path / "members.csv"
    assert main(["export", "members", "--out", str(one), "--db", db]) == 0
    err = capsys.readouterr().err
    digest = hashlib.sha256(one.read_bytes()).hexdigest()
    assert (tmp_path / "members.csv.sha256").read_text() == f"{digest}  members.csv\n"
    assert f"sha256 {digest}" in err
    assert f"NATIONAL stream sequence {len(events)}" in err


def test_cli_export_parquet_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow.parquet as pq

    from shared.storage import create_engine, session_factory
    from tests.unit.test_gateway_research_graphql import Network

    db = f"sqlite:///{tmp_path / 'gateway.db'}"
    assert main(["token", "list", "--db", db]) == 0
    oulu = Network("oulu")
    beta, people = oulu.group("Beta", 3)
    for i in range(2):
        oulu.meeting(beta, people, i)

    async def fill() -> None:
        engine = create_engine(db)
        try:
            await load(session_factory(engine), oulu.events)
        finally:
            await engine.dispose()

    asyncio.run(fill())
    for name in ("members", "meetings", "regions"):
        jsonl, parquet = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.parquet"
        assert main(["export", name, "--format", "jsonl", "--out", str(jsonl), "--db", db]) == 0
        assert main(["export", name, "--format", "parquet", "--out", str(parquet), "--db", db]) == 0
        expected = [json.loads(line) for line in jsonl.read_text().splitlines()]
        table = pq.read_table(parquet)
        assert table.column_names == DATASETS[name].column_names
        back = [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in table.to_pylist()
        ]
        assert back == expected
        assert len(back) > 0
        digest = hashlib.sha256(parquet.read_bytes()).hexdigest()
        assert f"sha256 {digest}" in capsys.readouterr().err
        assert (tmp_path / f"{name}.parquet.sha256").read_text() == f"{digest}  {name}.parquet\n"
    for fmt in ("sav", "dta"):  # SPSS, Stata: the JSON lines' rows, the SHA-256 beside it
        import pyreadstat

        one = tmp_path / f"members.{fmt}"
        assert main(["export", "members", "--format", fmt, "--out", str(one), "--db", db]) == 0
        reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        df, meta = reader(str(one), apply_value_formats=True, formats_as_category=False)
        members = [
            json.loads(line) for line in (tmp_path / "members.jsonl").read_text().splitlines()
        ]
        assert list(df["id"]) == [m["id"] for m in members]
        assert list(df["status"]) == [m["status"] for m in members]
        assert str(meta.column_names_to_labels["status"]).startswith("ACTIVE | PAUSED | LEFT")
        digest = hashlib.sha256(one.read_bytes()).hexdigest()
        assert (tmp_path / f"members.{fmt}.sha256").read_text() == f"{digest}  members.{fmt}\n"
        assert f"sha256 {digest}" in capsys.readouterr().err
        with pytest.raises(SystemExit, match=f"{fmt} needs --out"):
            main(["export", "members", "--format", fmt, "--db", db])
    with pytest.raises(SystemExit, match="parquet needs --out"):
        main(["export", "members", "--format", "parquet", "--db", db])


async def test_memos_codings_and_their_files_on_both_databases(
    fresh_world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The workspace datasets, their SPSS/Stata files and the .qdpx on SQLite and PostgreSQL."""
    import pyreadstat

    from services.gateway.exports.qdpx import write_qdpx
    from services.gateway.exports.stats import write_stats
    from services.gateway.orm import memos
    from services.gateway.research import store
    from services.gateway.research.coding import CodingInput, MarkInput
    from services.gateway.research.scope import Scope
    from services.gateway.research.tables import codebooks
    from services.gateway.snapshot import current
    from tests.unit.test_gateway_research_exports import project

    net = fresh_world  # it writes codings: a world of its own
    async with net.sessions() as session, session.begin():
        await store.ensure_first_codebook(session)
        book = await session.scalar(select(codebooks.c.id).where(codebooks.c.key == "wenger"))
        assert book is not None
        meeting, summary = (
            await session.execute(select(memos.c.meeting_id, memos.c.summary).limit(1))
        ).one()
        for coder in ("coder-a", "coder-b"):
            mark = MarkInput("problem_solving", 0, 4, f"by {coder}")
            await store.record_coding(session, CodingInput(book, meeting, marks=(mark,)), coder)
        whole = CodingInput(book, meeting, marks=(MarkInput("visits"),))
        await store.reconcile_coding(session, whole, "coder-c")
    expected = {"memos": await count(net, "memos"), "codings": 3, "coding_marks": 3}
    assert expected["memos"] > 0
    for name, n in expected.items():
        rows = list(csv.reader(io.StringIO(await text(net, name, "csv", RESEARCHER))))
        assert len(rows) - 1 == n == await count(net, name), name
        ds = dataset(name)
        for fmt in ("sav", "dta"):
            path = tmp_path / f"{name}.{fmt}"
            written, _ = await write_stats(net.sessions, ds, scoped(ds, RESEARCHER), path, fmt)
            reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
            df, _ = reader(str(path), apply_value_formats=True, formats_as_category=False)
            assert written == len(df) == n, (name, fmt)
            assert [str(v) for v in df[ds.column_names[0]]] == [r[0] for r in rows[1:]]
    async with net.sessions() as session:
        snap = await current(session)
    out = tmp_path / "memos.qdpx"
    done = await write_qdpx(net.sessions, RESEARCHER, out, Scope(), "wenger", snap)
    assert (done.memos, done.selections, done.whole) == (expected["memos"], 2, 1)
    _, texts = project(out.read_bytes())
    assert summary in texts.values()
    lappi = await write_qdpx(net.sessions, RESEARCHER, out, Scope(region="lappi"), "wenger", snap)
    assert 0 < lappi.memos < done.memos
    with pytest.raises(AccessDenied):
        await write_qdpx(net.sessions, OULU, out, Scope(region="oulu"), "wenger", snap)
