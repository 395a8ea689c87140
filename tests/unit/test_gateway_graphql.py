"""The national GraphQL API over a projected read model (no NATS): pages, filters, errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import ExecutionResult

from services.gateway.graphql import GatewayContext, schema
from services.gateway.orm import metadata
from services.gateway.projections import project
from shared.contracts import (
    DecodedEvent,
    Event,
    GroupCreated,
    MeetingCancelled,
    MeetingHeld,
    MeetingScheduled,
    MemberJoined,
    MemberLeft,
    RegionAnnounced,
    decode,
    encode,
    make_envelope,
)
from shared.storage import create_engine, create_schema, session_factory

T0 = datetime(2024, 1, 15, 17, 0, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


def ev(
    event: Event, region: str, aggregate: uuid.UUID, seq: int, at: datetime = T0
) -> DecodedEvent:
    env = make_envelope(event, region=region, aggregate_id=aggregate, sequence=seq, occurred_at=at)
    return decode(encode(env))


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    """Two regions: oulu (2 groups, 5 members, 6 meetings), lappi (1 group, 2 members)."""
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    events = [ev(RegionAnnounced(display_name="Oulu"), "oulu", uuid.uuid4(), 1)]
    layout = {"oulu": ["Beta", "Alpha"], "lappi": ["Gamma"]}
    for region, names in layout.items():
        for name in names:
            g = uuid.uuid4()
            events.append(
                ev(GroupCreated(group_id=g, name=name, founded_on=date(2015, 1, 1)), region, g, 1)
            )
            people = [uuid.uuid4() for _ in range(3 if name == "Beta" else 2)]
            for p in people:
                events.append(
                    ev(
                        MemberJoined(
                            member_id=p, group_id=g, joined_on=date(2016, 1, 1), employees=2
                        ),
                        region,
                        p,
                        1,
                    )
                )
            if name == "Beta":
                events.append(
                    ev(
                        MemberLeft(member_id=people[0], group_id=g, left_on=date(2017, 1, 1)),
                        region,
                        people[0],
                        2,
                    )
                )
                for month in range(6):
                    m = uuid.uuid4()
                    starts = T0 + timedelta(days=30 * month)
                    events.append(
                        ev(
                            MeetingScheduled(
                                meeting_id=m,
                                group_id=g,
                                host_member_id=people[month % 3],
                                theme=f"Theme {month}",
                                starts_at=starts,
                            ),
                            region,
                            m,
                            1,
                        )
                    )
                    if month < 4:
                        events.append(
                            ev(
                                MeetingHeld(
                                    meeting_id=m,
                                    group_id=g,
                                    held_at=starts,
                                    attendee_member_ids=tuple(people[1:]),
                                ),
                                region,
                                m,
                                2,
                            )
                        )
                    elif month == 4:
                        events.append(ev(MeetingCancelled(meeting_id=m, group_id=g), region, m, 2))
    async with sessions() as session, session.begin():
        await project(session, events)
    try:
        yield sessions
    finally:
        await engine.dispose()


async def run(sessions: Sessions, query: str, **variables: Any) -> ExecutionResult:
    return await schema.execute(
        query, variable_values=variables, context_value=GatewayContext.create(sessions)
    )


async def ok(sessions: Sessions, query: str, **variables: Any) -> dict[str, Any]:
    result = await run(sessions, query, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


async def test_regions_with_counts_and_freshness(sessions: Sessions) -> None:
    data = await ok(
        sessions,
        """{ regions { id displayName lastEventAt eventsApplied
                                  groupCount memberCount meetingCount } }""",
    )
    by_id = {r["id"]: r for r in data["regions"]}
    assert by_id["oulu"]["displayName"] == "Oulu"
    assert by_id["lappi"]["displayName"] == "lappi"  # not announced: its id
    assert (
        by_id["oulu"]["groupCount"],
        by_id["oulu"]["memberCount"],
        by_id["oulu"]["meetingCount"],
    ) == (2, 4, 6)
    assert (by_id["lappi"]["groupCount"], by_id["lappi"]["memberCount"]) == (1, 2)
    assert by_id["oulu"]["eventsApplied"] == 1 + 2 + 5 + 1 + 6 + 5
    assert datetime.fromisoformat(by_id["oulu"]["lastEventAt"]) == T0


async def test_groups_are_ordered_by_region_name_and_paged(sessions: Sessions) -> None:
    query = """query($after: String) { groups(first: 2, after: $after) {
        totalCount edges { cursor node { region name } } pageInfo { hasNextPage endCursor } } }"""
    first = (await ok(sessions, query))["groups"]
    assert [e["node"]["name"] for e in first["edges"]] == ["Gamma", "Alpha"]  # lappi < oulu
    assert first["pageInfo"]["hasNextPage"] is True
    second = (await ok(sessions, query, after=first["pageInfo"]["endCursor"]))["groups"]
    assert [e["node"]["name"] for e in second["edges"]] == ["Beta"]
    assert second["pageInfo"]["hasNextPage"] is False
    assert first["totalCount"] == second["totalCount"] == 3


async def test_members_filters_and_group_loader(sessions: Sessions) -> None:
    data = await ok(
        sessions,
        """{ all: members(region: "oulu") { totalCount }
        active: members(region: "oulu", activeOnly: true) {
            totalCount edges { node { id active group { name } } } } }""",
    )
    assert data["all"]["totalCount"] == 5
    assert data["active"]["totalCount"] == 4
    assert all(e["node"]["active"] for e in data["active"]["edges"])
    group_id = await ok(sessions, '{ groups(region: "oulu") { edges { node { id name } } } }')
    beta = next(e["node"]["id"] for e in group_id["groups"]["edges"] if e["node"]["name"] == "Beta")
    data = await ok(sessions, "query($g: ID) { members(groupId: $g) { totalCount } }", g=beta)
    assert data["members"]["totalCount"] == 3


async def test_meetings_filters_status_dates_and_nested_fields(sessions: Sessions) -> None:
    data = await ok(
        sessions,
        """{ meetings(region: "oulu", first: 10) { totalCount edges {
        node { startsAt status theme attendanceCount attendeeIds group { name }
               host { id } } } } }""",
    )
    nodes = [e["node"] for e in data["meetings"]["edges"]]
    assert data["meetings"]["totalCount"] == 6
    assert [n["startsAt"] for n in nodes] == sorted(n["startsAt"] for n in nodes)
    assert [n["status"] for n in nodes] == ["HELD"] * 4 + ["CANCELLED", "PLANNED"]
    assert all(n["group"]["name"] == "Beta" and n["host"]["id"] for n in nodes)
    assert nodes[0]["attendanceCount"] == len(nodes[0]["attendeeIds"]) == 2
    held = await ok(sessions, "{ meetings(status: HELD) { totalCount } }")
    assert held["meetings"]["totalCount"] == 4
    # from/to are inclusive days: T0 + 30 and + 60 days
    window = await ok(
        sessions,
        """query($f: Date, $t: Date) {
        meetings(from: $f, to: $t) { edges { node { theme } } } }""",
        f=(T0 + timedelta(days=30)).date().isoformat(),
        t=(T0 + timedelta(days=60)).date().isoformat(),
    )
    assert [e["node"]["theme"] for e in window["meetings"]["edges"]] == ["Theme 1", "Theme 2"]


async def test_meetings_keyset_pages_cover_everything_once(sessions: Sessions) -> None:
    query = """query($after: String) { meetings(first: 4, after: $after) {
        totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
    seen, after, pages = [], None, 0
    while True:
        page = (await ok(sessions, query, after=after))["meetings"]
        pages += 1
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert (pages, len(seen), len(set(seen))) == (2, 6, 6)


async def test_first_above_500_is_refused_clearly(sessions: Sessions) -> None:
    result = await run(sessions, "{ meetings(first: 501) { totalCount } }")
    assert result.errors
    error = result.errors[0]
    assert "at most 500" in error.message
    assert error.extensions == {"code": "FIRST_TOO_LARGE", "field": "first"}


@pytest.mark.parametrize("cursor", ["garbage!", "eyJub3QiOiAiYSBsaXN0In0", "WyJncm91cHMiLCJ4Il0"])
async def test_invalid_cursor_is_refused_clearly(sessions: Sessions, cursor: str) -> None:
    result = await run(
        sessions, "query($a: String) { meetings(after: $a) { totalCount } }", a=cursor
    )
    assert result.errors
    assert result.errors[0].extensions == {"code": "INVALID_CURSOR", "field": "after"}
    assert "endCursor" in result.errors[0].message


async def test_a_groups_cursor_is_not_a_meetings_cursor(sessions: Sessions) -> None:
    page = await ok(sessions, "{ groups(first: 1) { pageInfo { endCursor } } }")
    result = await run(
        sessions,
        "query($a: String) { meetings(after: $a) { totalCount } }",
        a=page["groups"]["pageInfo"]["endCursor"],
    )
    assert result.errors
    assert result.errors[0].extensions == {"code": "INVALID_CURSOR", "field": "after"}
