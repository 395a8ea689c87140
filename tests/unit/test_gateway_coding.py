"""The researchers' coding workspace through the national GraphQL schema, on SQLite and
PostgreSQL: codebooks and versions, independent codings (incl. "nothing found" and memo
passages), reconciliation into the consensus the views count, agreement, and refusals."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.gateway.graphql import schema
from services.gateway.research.store import coded_marks, coded_units
from services.gateway.research.tables import codebooks, codings
from shared.contracts import ACTIVITY_TYPES
from tests.unit.coding_desk import (
    AGENCY,
    ANNA,
    ANNA_ID,
    BO,
    BO_ID,
    CAJ,
    CAJ_ID,
    MEMO,
    PUBLIC,
    T0,
    Desk,
    open_desk,
)


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    """oulu: one group, four held meetings a month apart, each with a memo."""
    desk = await open_desk(database_url, ("oulu", "Alfa", 4))
    try:
        yield desk
    finally:
        await desk.engine.dispose()


CODE = """mutation($input: CodingInput!) { recordCoding(input: $input) {
  id coderId nothingFound marks { id code spanStart spanEnd quote example featured } } }"""
RECONCILE = """mutation($input: CodingInput!) { reconcileCoding(input: $input) {
  id coderId reconciledBy marks { id code quote example featured } } }"""
AGREEMENT = """query($id: ID!, $coders: [String!], $from: Date, $to: Date) {
  codebookAgreement(codebookId: $id, coders: $coders, from: $from, to: $to) {
    coders meetings
    pooled { units both firstOnly secondOnly neither kappa kappaLow kappaHigh alpha }
    perCode { code units both firstOnly secondOnly neither kappa kappaLow kappaHigh alpha } } }"""


def coding(desk: Desk, meeting: int, *codes: str, **extra: Any) -> dict[str, Any]:
    return {
        "codebookId": desk.wenger,
        "meetingId": desk.meetings[meeting],
        "nothingFound": not codes and not extra.get("marks"),
        "marks": extra.get("marks", [{"code": c} for c in codes]),
    }


async def test_the_first_codebook_is_wengers_types_in_three_languages_for_every_role(
    desk: Desk,
) -> None:
    query = """{ codebooks { key version citation title { fi en }
      codes { code position name { fi sv en } definition { fi sv en } example { en } } } }"""
    for guard in (ANNA, AGENCY, PUBLIC):
        books = (await desk.ok(query, guard))["codebooks"]
        assert [(b["key"], b["version"]) for b in books] == [("wenger", 1)]
    codes = books[0]["codes"]
    assert tuple(c["code"] for c in codes) == ACTIVITY_TYPES  # the contract's one list
    assert all(
        c["name"][lang] and c["definition"][lang] for c in codes for lang in ("fi", "sv", "en")
    )
    assert "Wenger" in books[0]["citation"]


async def test_researchers_add_codebooks_and_versions_with_refusals_named(desk: Desk) -> None:
    text = {"fi": "Rahoitus", "sv": "Finansiering", "en": "Finance"}
    book: dict[str, Any] = {
        "key": "growth_barriers",
        "title": {"fi": "Kasvun esteet", "sv": "Tillväxthinder", "en": "Barriers to growth"},
        "citation": "Davidsson 1991",
        "codes": [{"code": "finance", "name": text, "definition": text}],
    }
    create = """mutation($b: CodebookInput!) {
      createCodebook(input: $b) { id key version codes { code } } }"""
    first = (await desk.ok(create, b=book))["createCodebook"]
    assert (first["key"], first["version"]) == ("growth_barriers", 1)
    again = await desk.refused(create, b=book)
    assert again["code"] == "CODEBOOK_EXISTS"
    book["codes"].append({"code": "skills", "name": text, "definition": text})
    add = """mutation($b: CodebookInput!) {
      addCodebookVersion(input: $b) { version codes { code } createdBy } }"""
    second = (await desk.ok(add, b=book))["addCodebookVersion"]
    assert second == {
        "version": 2,
        "codes": [{"code": "finance"}, {"code": "skills"}],
        "createdBy": ANNA_ID,
    }
    book["codes"].append({"code": "skills", "name": text, "definition": text})
    assert (await desk.refused(add, b=book))["code"] == "DUPLICATE_CODE"
    book["codes"] = [{"code": "finance", "name": {**text, "sv": " "}, "definition": text}]
    missing = await desk.refused(add, b=book)
    assert (missing["code"], missing["field"]) == ("CODEBOOK_TEXT_MISSING", "nameSv")
    book["key"] = "Bad Key"
    assert (await desk.refused(add, b=book))["code"] == "BAD_CODEBOOK_KEY"


async def test_coders_code_independently_and_the_consensus_is_what_views_count(desk: Desk) -> None:
    start = MEMO.index("Two members")
    passage = {"code": "reusing_assets", "spanStart": start, "spanEnd": len(MEMO)}
    anna = (
        await desk.ok(
            CODE, ANNA, input=coding(desk, 0, marks=[passage, {"code": "problem_solving"}])
        )
    )["recordCoding"]
    assert anna["coderId"] == ANNA_ID
    shared = next(m for m in anna["marks"] if m["code"] == "reusing_assets")
    assert shared["quote"] == shared["example"] == MEMO[start:]
    # one coder cannot reconcile alone
    one = await desk.refused(RECONCILE, input=coding(desk, 0, "reusing_assets"))
    assert (one["code"], one["params"]["coders"]) == ("TOO_FEW_CODERS", 1)
    nothing = (await desk.ok(CODE, BO, input=coding(desk, 0)))["recordCoding"]
    assert nothing["nothingFound"] is True
    assert nothing["marks"] == []
    # Bo revises: the new coding replaces the old one
    await desk.ok(CODE, BO, input=coding(desk, 0, "reusing_assets"))
    consensus = (
        await desk.ok(
            RECONCILE,
            CAJ,
            input=coding(desk, 0, marks=[{**passage, "featured": True, "example": "Booth shared"}]),
        )
    )["reconcileCoding"]
    assert (consensus["coderId"], consensus["reconciledBy"]) == ("consensus", CAJ_ID)
    assert consensus["marks"][0]["featured"] is True
    codings = (
        await desk.ok(
            """query($b: ID!, $m: ID!) {
              meetingCodings(codebookId: $b, meetingId: $m) { coderId marks { code } } }""",
            b=desk.wenger,
            m=desk.meetings[0],
        )
    )["meetingCodings"]
    assert [c["coderId"] for c in codings] == sorted([ANNA_ID, BO_ID, "consensus"])
    async with desk.sessions() as session:
        default = (await session.execute(coded_marks(desk.wenger))).all()
        annas = (await session.execute(coded_marks(desk.wenger, ANNA_ID))).all()
        units = (await session.execute(coded_units(desk.wenger, BO_ID))).all()
    assert [(r.code, r.example, r.region) for r in default] == [
        ("reusing_assets", "Booth shared", "oulu")
    ]
    assert sorted(r.code for r in annas) == ["problem_solving", "reusing_assets"]
    assert [u.meeting_id for u in units] == [desk.meetings[0]]
    progress = (
        await desk.ok(
            "query($b: ID!) { codingProgress(codebookId: $b) { meetingId coders reconciled } }",
            b=desk.wenger,
        )
    )["codingProgress"]
    assert progress[0] == {
        "meetingId": desk.meetings[0],
        "coders": sorted([ANNA_ID, BO_ID]),
        "reconciled": True,
    }
    assert [p["reconciled"] for p in progress[1:]] == [False] * 3


async def test_bad_codings_are_refused_with_the_shared_vocabulary(desk: Desk) -> None:
    cases = [
        (coding(desk, 1, "no_such_type"), "UNKNOWN_CODE"),
        (coding(desk, 1, marks=[{"code": "visits", "spanStart": 5, "spanEnd": 500}]), "BAD_SPAN"),
        ({**coding(desk, 1, "visits"), "nothingFound": True}, "NOTHING_FOUND_WITH_CODES"),
        ({**coding(desk, 1), "nothingFound": False}, "EMPTY_CODING"),
        ({**coding(desk, 1, "visits"), "meetingId": str(uuid.uuid4())}, "UNKNOWN_MEETING"),
        ({**coding(desk, 1, "visits"), "codebookId": str(uuid.uuid4())}, "UNKNOWN_CODEBOOK"),
    ]
    for given, code in cases:
        assert (await desk.refused(CODE, input=given))["code"] == code
    span = await desk.refused(CODE, input=cases[1][0])
    assert span["params"] == {"start": "5", "end": "500", "length": len(MEMO)}
    async with desk.sessions() as session:
        assert (await session.execute(coded_units(desk.wenger, ANNA_ID))).all() == []


def _kappa_by_hand(both: int, a_only: int, b_only: int, neither: int) -> float:
    n = both + a_only + b_only + neither
    observed = (both + neither) / n
    a_yes, b_yes = (both + a_only) / n, (both + b_only) / n
    chance = a_yes * b_yes + (1 - a_yes) * (1 - b_yes)
    return (observed - chance) / (1 - chance)


def _alpha_by_hand(pairs: list[tuple[int, int]]) -> float:
    """Krippendorff's alpha, nominal, two coders, no missing values."""
    values = [v for pair in pairs for v in pair]
    n = len(values)
    disagreements = sum(2 for a, b in pairs if a != b)
    ones = sum(values)
    expected = 2 * ones * (n - ones) / (n - 1)
    return 1 - disagreements / expected


async def test_agreement_per_code_and_pooled_counts_nothing_found(desk: Desk) -> None:
    # meeting: (Anna's codes, Bo's codes); () is "coded, nothing found"
    plan = [
        (("problem_solving", "visits"), ("problem_solving",)),
        (("problem_solving",), ("problem_solving",)),
        ((), ()),
        (("visits",), ()),
    ]
    for i, (a, b) in enumerate(plan):
        await desk.ok(CODE, ANNA, input=coding(desk, i, *a))
        await desk.ok(CODE, BO, input=coding(desk, i, *b))
    result = (await desk.ok(AGREEMENT, id=desk.wenger))["codebookAgreement"]
    assert result["coders"] == sorted([ANNA_ID, BO_ID])
    assert result["meetings"] == 4
    per = {f["code"]: f for f in result["perCode"]}
    ps = per["problem_solving"]
    assert (ps["both"], ps["firstOnly"], ps["secondOnly"], ps["neither"]) == (2, 0, 0, 2)
    assert ps["kappa"] == pytest.approx(1.0)
    visits = per["visits"]
    first, _second = sorted([ANNA_ID, BO_ID])
    assert first == ANNA_ID  # Anna is the first coder
    assert (visits["both"], visits["firstOnly"], visits["secondOnly"], visits["neither"]) == (
        0,
        2,
        0,
        2,
    )
    assert visits["kappa"] == pytest.approx(_kappa_by_hand(0, 2, 0, 2))
    assert visits["kappaLow"] <= visits["kappa"] <= visits["kappaHigh"] <= 1
    assert visits["alpha"] == pytest.approx(_alpha_by_hand([(1, 0), (0, 0), (0, 0), (1, 0)]))
    # a type nobody saw: 4 units of agreement on absence, but no variation: undefined
    assert per["seeking_experience"]["neither"] == 4
    assert per["seeking_experience"]["kappa"] is None
    assert per["seeking_experience"]["alpha"] is None
    pooled = result["pooled"]
    assert pooled["units"] == 4 * len(ACTIVITY_TYPES)
    assert (pooled["both"], pooled["firstOnly"], pooled["secondOnly"]) == (2, 2, 0)
    assert pooled["kappa"] == pytest.approx(_kappa_by_hand(2, 2, 0, 4 * 11 - 4))
    # a third coder: kappa gives way to alpha over three (with a missing value allowed)
    await desk.ok(CODE, CAJ, input=coding(desk, 0, "problem_solving"))
    three = (await desk.ok(AGREEMENT, id=desk.wenger))["codebookAgreement"]
    assert len(three["coders"]) == 3
    assert three["pooled"]["kappa"] is None
    assert three["pooled"]["alpha"] is not None
    assert not math.isnan(three["pooled"]["alpha"])
    pair = (await desk.ok(AGREEMENT, id=desk.wenger, coders=[BO_ID, CAJ_ID]))["codebookAgreement"]
    assert pair["meetings"] == 1
    # the period is of meeting days, exact
    day = (T0 + timedelta(days=30)).date()
    one = await desk.ok(
        AGREEMENT, id=desk.wenger, **{"from": day.isoformat(), "to": day.isoformat()}
    )
    assert one["codebookAgreement"]["meetings"] == 1
    unknown = await desk.refused(AGREEMENT, id=desk.wenger, coders=["nobody"])
    assert unknown["code"] == "UNKNOWN_CODER"


async def test_the_workspace_is_for_researchers_only(desk: Desk) -> None:
    text = {"fi": "x", "sv": "x", "en": "x"}
    book = {
        "key": "wenger",
        "title": text,
        "codes": [{"code": "a", "name": text, "definition": text}],
    }
    guarded: dict[str, tuple[str, dict[str, Any]]] = {
        "recordCoding": (CODE, {"input": coding(desk, 0, "visits")}),
        "reconcileCoding": (RECONCILE, {"input": coding(desk, 0, "visits")}),
        "featureExample": ('mutation { featureExample(markId: "x") }', {}),
        "createCodebook": (
            "mutation($b: CodebookInput!) { createCodebook(input: $b) { id } }",
            {"b": {**book, "key": "other"}},
        ),
        "addCodebookVersion": (
            "mutation($b: CodebookInput!) { addCodebookVersion(input: $b) { id } }",
            {"b": book},
        ),
        "codebookAgreement": (AGREEMENT, {"id": desk.wenger}),
        "codingProgress": (
            "query($b: ID!) { codingProgress(codebookId: $b) { meetingId } }",
            {"b": desk.wenger},
        ),
        "meetingCodings": (
            "query($b: ID!, $m: ID!) { meetingCodings(codebookId: $b, meetingId: $m) { id } }",
            {"b": desk.wenger, "m": desk.meetings[0]},
        ),
    }
    # every mutation is here: a new one without its access check fails this test
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    assert set(mutation_type.fields) <= set(guarded)
    for guard in (AGENCY, PUBLIC):
        for name, (query, variables) in guarded.items():
            refused = await desk.refused(query, guard, **variables)
            assert refused["code"] == "FORBIDDEN", name
    async with desk.sessions() as session:
        assert (await session.execute(select(codings))).all() == []
        assert [r.key for r in await session.execute(select(codebooks))] == ["wenger"]


def test_statsmodels_kappa_is_the_textbook_formula_and_the_views_one() -> None:
    """The workspace's kappa (statsmodels) equals the textbook formula and the research
    views' own (views/compute.py, kept there: statsmodels takes ~7 ms a table, too slow for
    a listing of coder pairs by type) on every 2x2 table up to 2 per cell."""
    from itertools import product

    from services.gateway.research.agreement import cohen_kappa
    from services.gateway.views.compute import cohen_kappa as views_kappa

    for cells in product(range(3), repeat=4):
        n = sum(cells)
        both, a_only, b_only, _neither = cells
        chance = None
        if n:
            a_yes, b_yes = (both + a_only) / n, (both + b_only) / n
            chance = a_yes * b_yes + (1 - a_yes) * (1 - b_yes)
        if chance is None or chance == 1:
            assert cohen_kappa(*cells) is None, cells
            assert views_kappa(*cells) is None, cells
        else:
            assert cohen_kappa(*cells) == pytest.approx(_kappa_by_hand(*cells)), cells
            assert views_kappa(*cells) == pytest.approx(_kappa_by_hand(*cells)), cells
