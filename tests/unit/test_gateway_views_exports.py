"""Exports of the research views: the same numbers as their GraphQL fields on the same
read model (SQLite and PostgreSQL), the same role rules, both formats, the dictionary."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest

from services.gateway.auth import AccessDenied, Guard, Role
from services.gateway.exports.registry import VIEW_DATASETS, dataset
from services.gateway.exports.stream import scoped, stream
from services.gateway.graphql import GatewayContext, schema
from services.gateway.graphql.activity import ActivityType
from tests.unit.test_gateway_views_graphql import World, world

__all__ = ["world"]
pytestmark = pytest.mark.asyncio(loop_scope="module")  # the world is built once per module

RESEARCHER = Guard(Role.RESEARCHER)
OULU = Guard(Role.AGENCY, "oulu")
LAPPI = Guard(Role.AGENCY, "lappi")
PUBLIC = Guard(Role.PUBLIC)

# dataset -> (GraphQL field, its selection, paged)
FIELDS: dict[str, tuple[str, str, bool]] = {
    "cop_activity_table": (
        "copActivityTable",
        "activityType year activities meetings groups example",
        False,
    ),
    "meetings_over_time": (
        "meetingsOverTime",
        "month groupsMeeting meetingsHeld meetingsCancelled attendees expected attendanceRate",
        False,
    ),
    "group_months": (
        "groupMonths",
        "groupId region month meetingsHeld meetingsCancelled attendees expected attendanceRate",
        True,
    ),
    "retention": (
        "retention",
        "year membersStart joined left retained membersEnd retentionRate",
        False,
    ),
    "host_rotation": (
        "hostRotation",
        "groupId region members meetingsHosted distinctHosts repeatHostings "
        "meanDaysBetween minDaysBetween hostShare",
        True,
    ),
    "feedback_trend": (
        "feedbackTrend",
        "month surveys surveysWithheld invited responses responseRate meanOverall "
        "meanUsefulness meanRecommend recommendScore",
        False,
    ),
    "initiative_statuses": ("initiativeStatuses", "status initiatives members joinings", False),
    "group_health": (
        "groupHealth",
        "groupId region membersActive membersEver membersLeft meetingsHeld lastMeetingAt "
        "attendees expected longestStreak meanCurrentStreak activeHosted feedbackRecent "
        "feedbackPrevious attendanceRate churnRate hostedShare feedbackTrend",
        True,
    ),
    "region_overview": (
        "regionOverview",
        "region displayName lastEventAt eventsApplied groups membersActive meetingsHeld "
        "lastMeetingAt attendees expected activities initiatives responses attendanceRate",
        True,
    ),
}
ENUMS = {"activity_type", "status"}  # GraphQL gives enum names, exports the stored values


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


async def export(world: World, name: str, guard: Guard, region: str | None = None) -> list[Any]:
    ds = dataset(name)
    text = "".join(
        [p async for p in stream(world.sessions, ds, "jsonl", scoped(ds, guard, region))]
    )
    return [json.loads(line) for line in text.splitlines()]


async def graphql(world: World, guard: Guard, query: str, **variables: Any) -> dict[str, Any]:
    result = await schema.execute(
        query,
        variable_values=variables,
        context_value=GatewayContext.create(world.sessions, guard=guard),
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


async def answer(world: World, name: str, guard: Guard, region: str | None) -> list[Any]:
    field, selection, paged = FIELDS[name]
    args = "" if name == "region_overview" else "(region: $r)"
    if name == "cop_activity_table":
        args = "(region: $r, byYear: true)"  # the export has a row per type and year
    if paged:
        args = args[:-1] + ", first: 500)" if args else "(first: 500)"
        selection = f"edges {{ node {{ {selection} }} }}"
    head = "" if name == "region_overview" else "($r: String)"
    variables = {} if name == "region_overview" else {"r": region}
    data = await graphql(
        world, guard, f"query{head} {{ {field}{args} {{ {selection} }} }}", **variables
    )
    found = data[field]
    nodes = [e["node"] for e in found["edges"]] if paged else found
    return [{snake(k): v for k, v in node.items()} for node in nodes]


def as_exported(record: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    out = {k: record[k] for k in keys}
    for k in ENUMS & set(keys):
        out[k] = out[k].upper()
    if "activity_type" in out:
        assert out["activity_type"] == ActivityType(record["activity_type"]).name
    return out


@pytest.mark.parametrize("region", [None, "oulu"])
@pytest.mark.parametrize("name", sorted(FIELDS))
async def test_exports_equal_the_graphql_answer(
    world: World, name: str, region: str | None
) -> None:
    if name == "region_overview" and region is not None:
        region = None  # the GraphQL field lists every region
    expected = await answer(world, name, RESEARCHER, region)
    assert expected, f"{name}: the test network should give rows"
    records = await export(world, name, RESEARCHER, region)
    assert [as_exported(r, list(expected[0])) for r in records] == expected
    assert all(list(r) == VIEW_DATASETS[name].column_names for r in records)


@pytest.mark.parametrize("region", [None, "oulu"])
async def test_coding_agreement_per_pair_and_type_with_kappa(
    world: World, region: str | None
) -> None:
    data = await graphql(
        world,
        RESEARCHER,
        """query($r: String) { codingAgreement(region: $r, first: 100) { edges { node {
             coderA coderB meetings kappa
             perType { activityType both aOnly bOnly neither kappa } } } } }""",
        r=region,
    )
    expected = [
        {
            "coder_a": pair["coderA"],
            "coder_b": pair["coderB"],
            "activity_type": t["activityType"],
            "both": t["both"],
            "a_only": t["aOnly"],
            "b_only": t["bOnly"],
            "neither": t["neither"],
            "kappa": t["kappa"],
            "meetings": pair["meetings"],
            "pair_kappa": pair["kappa"],
        }
        for pair in (e["node"] for e in data["codingAgreement"]["edges"])
        for t in pair["perType"]
    ]
    assert len(expected) == 11  # one pair, every type
    records = await export(world, "coding_agreement", RESEARCHER, region)
    assert [as_exported(r, list(expected[0])) for r in records] == expected
    assert {r["kappa"] for r in records if r["activity_type"] == "problem_solving"} == {1.0}


NATIONAL = ["cop_activity_table", "meetings_over_time", "retention", "feedback_trend"]
NATIONAL += ["initiative_statuses"]
NOT_PUBLIC = ["group_months", "host_rotation", "group_health", "coding_agreement"]
NOT_PUBLIC += ["region_overview"]


@pytest.mark.parametrize("name", NATIONAL)
async def test_national_totals_for_every_role_one_region_not_public(
    world: World, name: str
) -> None:
    answers = [await export(world, name, guard) for guard in (RESEARCHER, OULU, PUBLIC)]
    assert answers[0]
    strip = [[{**r, "example": None} if "example" in r else r for r in a] for a in answers]
    assert strip[0] == strip[1] == strip[2]
    regional = await export(world, name, RESEARCHER, "oulu")
    for guard in (OULU, LAPPI):  # an agency sees other regions' aggregates
        answer = await export(world, name, guard, "oulu")
        if guard is LAPPI:  # without oulu's own words (the CoP table's examples)
            regional = [{**r, "example": None} if "example" in r else r for r in regional]
        assert answer == regional
    with pytest.raises(AccessDenied, match="national aggregates only"):
        scoped(dataset(name), PUBLIC, "oulu")


async def test_example_texts_only_for_who_sees_the_region_in_full(world: World) -> None:
    researcher = await export(world, "cop_activity_table", RESEARCHER)
    assert {r["example"] for r in researcher} >= {"visits by A"}
    without = [{**r, "example": None} for r in researcher]
    # the nation mixes regions' words: not for the public, nor for an agency
    assert await export(world, "cop_activity_table", PUBLIC) == without
    assert await export(world, "cop_activity_table", LAPPI) == without
    own = await export(world, "cop_activity_table", OULU, "oulu")
    assert own == await export(world, "cop_activity_table", RESEARCHER, "oulu")
    assert any(r["example"] for r in own)
    assert await export(world, "cop_activity_table", LAPPI, "oulu") == [
        {**r, "example": None} for r in own
    ]


@pytest.mark.parametrize("name", NOT_PUBLIC)
async def test_per_group_and_per_region_rows_are_not_public(world: World, name: str) -> None:
    everything = await export(world, name, RESEARCHER)
    assert everything
    assert await export(world, name, LAPPI) == everything  # aggregates of every region
    with pytest.raises(AccessDenied, match="national aggregates only"):
        scoped(dataset(name), PUBLIC)
    with pytest.raises(AccessDenied, match="national aggregates only"):
        scoped(dataset(name), PUBLIC, "oulu")


@pytest.mark.parametrize("name", sorted(VIEW_DATASETS))
async def test_view_datasets_stream_their_dictionary_in_both_formats(
    world: World, name: str
) -> None:
    ds = VIEW_DATASETS[name]
    query = scoped(ds, RESEARCHER)
    text = "".join([p async for p in stream(world.sessions, ds, "csv", query)])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ds.column_names
    records = await export(world, name, RESEARCHER)
    assert len(rows) - 1 == len(records) > 0
    for record, row in zip(records, rows[1:], strict=True):
        assert row == ["" if v is None else str(v) for v in record.values()]
    assert all(c.type and c.meaning for c in ds.columns)
