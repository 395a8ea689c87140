"""Table 1 from the data (GraphQL ``table1`` and ``mgn export table1``), on SQLite and
PostgreSQL: counts from the consensus codings in an exact period, region and group, chosen
examples before recent ones, each dated by its meeting; the roles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from deploy.cli import main
from services.gateway.auth import create_token
from services.gateway.research import store
from services.gateway.research.coding import CodingInput, MarkInput
from tests.unit.coding_desk import AGENCY, ANNA, BO, CAJ, PUBLIC, T0, Desk, open_desk

QUERY = """query($b: ID!, $region: String, $groupId: ID, $from: Date, $to: Date,
                 $coder: String, $examples: Int!, $language: String) {
  table1(codebookId: $b, region: $region, groupId: $groupId, from: $from, to: $to,
         coder: $coder, examples: $examples, language: $language) {
    codebookKey version coder citation
    rows { code name definition groups meetings activities
           examples { text meetingId meetingDate region groupId groupName featured } }
    md: text(format: MD) tex: text(format: TEX) csv: text(format: CSV) } }"""


async def code(desk: Desk, meeting: int, consensus: list[tuple[str, str, bool]]) -> None:
    """Anna and Bo code the meeting; Caj reconciles it to ``consensus`` (code, example,
    featured)."""
    book, m = desk.wenger, desk.meetings[meeting]
    async with desk.sessions() as session, session.begin():
        for guard in (ANNA, BO):
            first = MarkInput(consensus[0][0], example=f"{guard.token_id}'s words")
            await store.record_coding(
                session, CodingInput(book, m, marks=(first,)), str(guard.token_id)
            )
        marks = tuple(MarkInput(c, example=text, featured=f) for c, text, f in consensus)
        await store.reconcile_coding(session, CodingInput(book, m, marks=marks), str(CAJ.token_id))


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    """oulu/Alfa: 4 meetings a month apart from T0; lappi/Beta: 2; codings of 5 of them."""
    desk = await open_desk(database_url, ("oulu", "Alfa", 4), ("lappi", "Beta", 2))
    await code(desk, 0, [("reusing_assets", "=Shared a booth", True), ("visits", "Toured", False)])
    await code(desk, 1, [("reusing_assets", "Shared a van", False)])
    await code(desk, 2, [("reusing_assets", "Shared tools", False)])
    await code(desk, 5, [("reusing_assets", "Shared a stand", False)])  # lappi, 2nd
    async with desk.sessions() as session, session.begin():  # coded, nothing found
        await store.record_coding(session, CodingInput(desk.wenger, desk.meetings[3], True), "x")
    try:
        yield desk
    finally:
        await desk.engine.dispose()


async def table(desk: Desk, guard: Any = ANNA, **given: Any) -> dict[str, Any]:
    data = await desk.ok(QUERY, guard, b=desk.wenger, examples=given.pop("examples", 2), **given)
    return dict(data["table1"])


def row(t: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for r in t["rows"] if r["code"] == code)


async def test_table1_counts_the_consensus_with_chosen_then_recent_examples(desk: Desk) -> None:
    t = await table(desk)
    assert (t["codebookKey"], t["version"], t["coder"]) == ("wenger", 1, "consensus")
    assert len(t["rows"]) == 11
    reusing = row(t, "reusing_assets")
    assert (reusing["groups"], reusing["meetings"], reusing["activities"]) == (2, 4, 4)
    texts = [e["text"] for e in reusing["examples"]]
    # the chosen one first, then the most recent (lappi's second meeting is 30 days after T0,
    # oulu's third 60 days)
    assert texts == ["=Shared a booth", "Shared tools"]
    first = reusing["examples"][0]
    assert first["featured"] is True
    assert (first["region"], first["groupName"], first["meetingDate"]) == (
        "oulu",
        "Alfa",
        T0.date().isoformat(),  # 16:00 UTC is 18:00 in Helsinki: the same day
    )
    assert row(t, "visits")["activities"] == 1
    assert row(t, "problem_solving") | {"examples": []} == {
        **row(t, "problem_solving"),
        "groups": 0,
        "meetings": 0,
        "activities": 0,
    }
    # one coder's instead of the consensus
    anna = await table(desk, coder=ANNA.token_id)
    assert row(anna, "reusing_assets")["activities"] == 4
    assert row(anna, "visits")["activities"] == 0
    assert row(anna, "reusing_assets")["examples"][0]["text"] == f"{ANNA.token_id}'s words"
    # written out
    assert "| Reusing assets |" in t["md"]
    assert r"\begin{tabular}" in t["tex"]
    assert "Shared a booth" in t["tex"]
    assert "'=Shared a booth" in t["csv"]  # no formula for a spreadsheet
    assert t["csv"].splitlines()[0].startswith("code,name,definition,groups,meetings,activities")


async def test_table1_period_region_group_and_language(desk: Desk) -> None:
    day = (T0 + timedelta(days=30)).date().isoformat()  # oulu's 2nd, lappi's 2nd meeting
    one_day = await table(desk, **{"from": day, "to": day})
    assert row(one_day, "reusing_assets")["meetings"] == 2
    assert row(one_day, "reusing_assets")["groups"] == 2
    oulu = await table(desk, region="oulu")
    assert row(oulu, "reusing_assets")["meetings"] == 3
    beta = await table(desk, groupId=desk.groups["Beta"], examples=5)
    assert [e["text"] for e in row(beta, "reusing_assets")["examples"]] == ["Shared a stand"]
    fi = await table(desk, language="fi", examples=0)
    assert row(fi, "reusing_assets")["name"] == "Resurssien yhteiskäyttö"
    assert row(fi, "reusing_assets")["examples"] == []


async def test_table1_rows_in_full_only(desk: Desk) -> None:
    own = await table(desk, AGENCY)  # an agency: its own region only
    assert row(own, "reusing_assets")["meetings"] == 3
    assert {e["region"] for e in row(own, "reusing_assets")["examples"]} == {"oulu"}
    for guard, given in ((PUBLIC, {}), (AGENCY, {"region": "lappi"}), (AGENCY, {"coder": "x"})):
        refused = await desk.refused(QUERY, guard, b=desk.wenger, examples=2, **given)
        assert refused["code"] == "FORBIDDEN", (guard, given)


def test_mgn_export_table1_writes_csv_md_and_tex(tmp_path: Path) -> None:
    """The CLI on a migrated SQLite database (the gateway's real schema)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"

    tokens: dict[str, str] = {}

    async def prepare() -> None:
        desk = await open_desk(url, ("oulu", "Alfa", 2), migrated=True)
        await code(desk, 1, [("visits", "Toured the hall", True)])
        tokens["public"] = (await create_token(desk.sessions, "public")).token
        tokens["lappi"] = (await create_token(desk.sessions, "agency", "lappi")).token
        await desk.engine.dispose()

    asyncio.run(prepare())
    for fmt in ("csv", "md", "tex"):
        out = tmp_path / f"table1.{fmt}"
        assert main(["export", "table1", "--format", fmt, "--db", url, "--out", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        assert "Toured the hall" in text
        assert "Reusing assets" in text
    md = (tmp_path / "table1.md").read_text(encoding="utf-8")
    assert (
        "| Visits | Members visit each other's or other companies' premises to learn. | 1 | 1 | 1 |"
        in md
    )
    with pytest.raises(SystemExit, match="is for table1"):
        main(["export", "groups", "--format", "md", "--db", url])
    for who, where in (("public", []), ("lappi", ["--region", "oulu"])):
        with pytest.raises(SystemExit, match="forbidden"):
            main(["export", "table1", "--db", url, "--token", tokens[who], *where])
    # an agency without --region: its own region only (lappi has no codings)
    out = tmp_path / "lappi.md"
    assert (
        main(
            [
                "export",
                "table1",
                "--format",
                "md",
                "--db",
                url,
                "--token",
                tokens["lappi"],
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "Toured the hall" not in out.read_text(encoding="utf-8")
    with pytest.raises(SystemExit, match="no codebook"):
        main(["export", "table1", "--codebook", "nope", "--db", url])
