"""The research views by role: national totals for everyone, one region's figures for
agencies and researchers, per-group rows and coder pairs never for the public, and the
regions' own example texts only for callers who see regional detail."""

from __future__ import annotations

import pytest

from tests.unit.test_gateway_access import LAPPI, OULU, PUBLIC, RESEARCHER, codes, net, run
from tests.unit.test_gateway_research_graphql import World
from tests.unit.test_gateway_research_graphql import world as research_world  # noqa: F401

__all__ = ["net"]
pytestmark = pytest.mark.asyncio(loop_scope="module")  # the research world, built once

NATIONAL_VIEWS = {
    "copActivityTable": "{ copActivityTable { activityType year activities example } }",
    "meetingsOverTime": "{ meetingsOverTime { month meetingsHeld } }",
    "retention": "{ retention { year membersEnd } }",
    "feedbackTrend": "{ feedbackTrend { month responses } }",
    "initiativeStatuses": "{ initiativeStatuses { status initiatives } }",
}
REGION_VIEWS = {
    "copActivityTable": "query($r: String) { copActivityTable(region: $r) { year example } }",
    "meetingsOverTime": "query($r: String) { meetingsOverTime(region: $r) { month } }",
    "retention": "query($r: String) { retention(region: $r) { year } }",
    "feedbackTrend": "query($r: String) { feedbackTrend(region: $r) { month } }",
    "initiativeStatuses": "query($r: String) { initiativeStatuses(region: $r) { status } }",
    "groupMonths": "query($r: String) { groupMonths(region: $r) { edges { node { month } } } }",
    "hostRotation": "query($r: String) { hostRotation(region: $r) { edges { cursor } } }",
    "groupHealth": "query($r: String) { groupHealth(region: $r) { edges { cursor } } }",
    "codingAgreement": "query($r: String) { codingAgreement(region: $r) { edges { cursor } } }",
}


@pytest.mark.parametrize("field", sorted(NATIONAL_VIEWS))
async def test_national_totals_are_for_every_role(net: World, field: str) -> None:
    answers = {}
    for guard in (RESEARCHER, OULU, PUBLIC):
        result = await run(net, guard, NATIONAL_VIEWS[field])
        assert result.errors is None, (guard, result.errors)
        answers[guard.role] = result.data[field]
    if field != "feedbackTrend":  # the test network's surveys are still open: no rows
        assert answers[RESEARCHER.role], f"{field}: the test network should give rows"
    if field != "copActivityTable":  # (its example texts: the test below)
        assert answers[RESEARCHER.role] == answers[OULU.role] == answers[PUBLIC.role]


@pytest.mark.parametrize("field", sorted(REGION_VIEWS))
async def test_one_regions_figures_need_regional_rights(net: World, field: str) -> None:
    for guard in (RESEARCHER, OULU, LAPPI):  # an agency sees other regions as aggregates
        result = await run(net, guard, REGION_VIEWS[field], r="oulu")
        assert result.errors is None, (guard, result.errors)
    refused = await run(net, PUBLIC, REGION_VIEWS[field], r="oulu")
    assert codes(refused) == ["FORBIDDEN"], refused
    assert "national aggregates only" in refused.errors[0].message


@pytest.mark.parametrize(
    "query",
    [
        "{ regionOverview { edges { node { region } } } }",
        "{ codingAgreement { edges { cursor } } }",
        "{ groupHealth { edges { cursor } } }",
        '{ copActivityTable(coder: "consensus") { activities } }',  # coders' pseudonyms
    ],
)
async def test_per_region_and_per_group_rows_are_not_public(net: World, query: str) -> None:
    assert (await run(net, RESEARCHER, query)).errors is None
    assert (await run(net, OULU, query)).errors is None
    assert codes(await run(net, PUBLIC, query)) == ["FORBIDDEN"]


async def test_example_texts_only_for_regional_detail(net: World) -> None:
    query = NATIONAL_VIEWS["copActivityTable"]
    researcher = (await run(net, RESEARCHER, query)).data["copActivityTable"]
    public = (await run(net, PUBLIC, query)).data["copActivityTable"]
    assert any(cell["example"] for cell in researcher), "the network has example texts"
    assert all(cell["example"] is None for cell in public)
    # the same counts, only without the words
    strip = [{**cell, "example": None} for cell in researcher]
    assert public == strip
