"""The research side of the national GraphQL API over a projected read model (no NATS):
meeting follow-ups, facilitators, membership history, CoP activities, initiatives, memos,
k-anonymous surveys, interviews; and a query's SQL statements bounded by its depth."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from strawberry.types import ExecutionResult

from services.gateway.graphql import GatewayContext, schema
from services.gateway.orm import metadata
from services.gateway.projections import project
from shared.contracts import (
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    DecodedEvent,
    Event,
    FacilitatorAssigned,
    FacilitatorRemoved,
    GroupCreated,
    InitiativeStarted,
    InitiativeUpdated,
    InterviewRecorded,
    MeetingHeld,
    MeetingRecorded,
    MeetingScheduled,
    MemberJoined,
    MemberPaused,
    MemberRejoined,
    MemoPublished,
    ResponseSubmitted,
    RsvpRecorded,
    SurveyOpened,
    decode,
    encode,
    make_envelope,
)
from shared.storage import create_engine, create_schema, session_factory

T0 = datetime(2024, 1, 15, 17, 0, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]
MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the tests on the shared world
TYPES = ("problem_solving", "reusing_assets", "building_an_argument")


@dataclass
class Network:
    """Builds one region's events with per-aggregate sequences, like its outbox would."""

    region: str
    events: list[DecodedEvent] = field(default_factory=list)
    seq: dict[uuid.UUID, int] = field(default_factory=dict)

    def emit(self, event: Event, aggregate: uuid.UUID, at: datetime = T0) -> None:
        self.seq[aggregate] = n = self.seq.get(aggregate, 0) + 1
        env = make_envelope(
            event, region=self.region, aggregate_id=aggregate, sequence=n, occurred_at=at
        )
        self.events.append(decode(encode(env)))

    def group(self, name: str, size: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
        g = uuid.uuid4()
        self.emit(GroupCreated(group_id=g, name=name, founded_on=date(2015, 1, 1)), g)
        people = [uuid.uuid4() for _ in range(size)]
        for p in people:
            joined = MemberJoined(member_id=p, group_id=g, joined_on=date(2016, 1, 1), employees=3)
            self.emit(joined, p)
        return g, people

    def meeting(self, g: uuid.UUID, people: list[uuid.UUID], i: int) -> uuid.UUID:
        """A held, recorded meeting with RSVPs, a memo, an activity and two actions."""
        m = uuid.uuid4()
        starts = T0 + timedelta(days=30 * i)
        self.emit(
            MeetingScheduled(
                meeting_id=m, group_id=g, host_member_id=people[0], theme=f"T{i}", starts_at=starts
            ),
            m,
        )
        for p, coming in zip(people, (True, True, False), strict=False):
            self.emit(RsvpRecorded(meeting_id=m, group_id=g, member_id=p, coming=coming), m)
        self.emit(
            MeetingHeld(
                meeting_id=m, group_id=g, held_at=starts, attendee_member_ids=tuple(people)
            ),
            m,
        )
        self.emit(MeetingRecorded(meeting_id=m, group_id=g), m)
        self.emit(
            MemoPublished(meeting_id=m, group_id=g, summary=f"Memo {i}"),
            m,
            starts + timedelta(days=1),
        )
        activity = uuid.uuid4()
        self.emit(
            ActivityRecorded(
                activity_id=activity,
                meeting_id=m,
                group_id=g,
                activity_type=TYPES[i % 3],  # type: ignore[arg-type]
                example=f"Example {i}",
                member_ids=tuple(people[:2]),
            ),
            activity,
            starts + timedelta(days=2),
        )
        for k in range(2):
            action = uuid.uuid4()
            self.emit(
                ActionItemAgreed(
                    action_id=action,
                    meeting_id=m,
                    group_id=g,
                    owner_member_id=people[k],
                    description=f"Do {k}",
                ),
                action,
            )
            if k == 0:
                self.emit(
                    ActionItemClosed(action_id=action, group_id=g, closed_on=starts.date()), action
                )
        return m


async def make(database_url: str) -> tuple[AsyncEngine, Sessions]:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    return engine, session_factory(engine)


async def load(sessions: Sessions, events: list[DecodedEvent]) -> None:
    async with sessions() as session, session.begin():
        await project(session, events)


@dataclass
class World:
    sessions: Sessions
    ids: dict[str, str]


@asynccontextmanager
async def built_world(database_url: str) -> AsyncIterator[World]:
    """oulu: group Beta (3 members, 6 meetings, facilitators, an initiative, surveys of 2
    and 3 responses); lappi: group Gamma (3 members, 2 meetings, interviews)."""
    engine, sessions = await make(database_url)
    oulu, lappi = Network("oulu"), Network("lappi")
    beta, people = oulu.group("Beta", 3)
    meetings = [oulu.meeting(beta, people, i) for i in range(6)]
    gamma, others = lappi.group("Gamma", 3)
    for i in range(2):
        lappi.meeting(gamma, others, i)
    agent, researcher = uuid.uuid4(), uuid.uuid4()
    oulu.emit(FacilitatorAssigned(group_id=beta, facilitator_id=agent, role="agency_agent"), beta)
    oulu.emit(
        FacilitatorAssigned(group_id=beta, facilitator_id=researcher, role="researcher"), beta
    )
    oulu.emit(FacilitatorRemoved(group_id=beta, facilitator_id=agent), beta)
    oulu.emit(
        MemberPaused(member_id=people[1], group_id=beta, paused_on=date(2024, 3, 1)), people[1]
    )
    oulu.emit(
        MemberRejoined(member_id=people[1], group_id=beta, rejoined_on=date(2024, 5, 1)), people[1]
    )
    oulu.emit(
        MemberPaused(member_id=people[2], group_id=beta, paused_on=date(2024, 6, 1)), people[2]
    )
    ini = uuid.uuid4()
    oulu.emit(
        InitiativeStarted(
            initiative_id=ini,
            group_id=beta,
            origin_meeting_id=meetings[0],
            title="Festival booth",
            member_ids=tuple(people[:2]),
            started_on=date(2024, 2, 1),
        ),
        ini,
    )
    oulu.emit(
        InitiativeUpdated(
            initiative_id=ini,
            group_id=beta,
            status="completed",
            outcome="sold out",
            member_ids=tuple(people),
            updated_on=date(2024, 4, 1),
        ),
        ini,
    )
    other = uuid.uuid4()
    lappi.emit(
        InitiativeStarted(
            initiative_id=other, group_id=gamma, title="Road trip", started_on=date(2024, 2, 1)
        ),
        other,
    )
    surveys = {}
    for name, meeting, scores in (("few", meetings[0], (5, 4)), ("enough", meetings[1], (5, 4, 3))):
        s = surveys[name] = uuid.uuid4()
        oulu.emit(
            SurveyOpened(survey_id=s, meeting_id=meeting, group_id=beta, invited=3, closes_at=T0),
            s,
        )
        for score in scores:
            r = uuid.uuid4()
            oulu.emit(
                ResponseSubmitted(
                    response_id=r,
                    survey_id=s,
                    meeting_id=meeting,
                    group_id=beta,
                    overall=score,
                    usefulness=score - 1,
                    recommend=score * 2,
                ),
                r,
            )
    for i, member in enumerate([others[0], others[0], others[1]]):
        iv = uuid.uuid4()
        lappi.emit(
            InterviewRecorded(
                interview_id=iv,
                member_id=member,
                interviewed_on=date(2024, 1 + i, 1),
                intends_to_grow="yes",
                planned_hires=i,
                barriers=("financing",),
            ),
            iv,
        )
    await load(sessions, oulu.events + lappi.events)
    ids = {
        "beta": str(beta),
        "gamma": str(gamma),
        "researcher": str(researcher),
        "paused": str(people[2]),
        "rejoined": str(people[1]),
        "initiative": str(ini),
        "few": str(surveys["few"]),
        "enough": str(surveys["enough"]),
        "interviewed": str(others[0]),
    }
    try:
        yield World(sessions, ids)
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(module_database_url: str) -> AsyncIterator[World]:
    """The world built once per module and database, for tests that only read it (in the
    module's event loop: :data:`MODULE_LOOP`)."""
    async with built_world(module_database_url) as world:
        yield world


@pytest.fixture
async def fresh_world(database_url: str) -> AsyncIterator[World]:
    """The world in a database of the test's own, for tests that write to it."""
    async with built_world(database_url) as world:
        yield world


async def run(sessions: Sessions, query: str, **variables: Any) -> ExecutionResult:
    return await schema.execute(
        query, variable_values=variables, context_value=GatewayContext.create(sessions)
    )


async def ok(sessions: Sessions, query: str, **variables: Any) -> dict[str, Any]:
    result = await run(sessions, query, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


async def pages(sessions: Sessions, query: str, name: str, **variables: Any) -> list[list[Any]]:
    """Every page of a connection, following endCursor."""
    found, after = [], None
    while True:
        page = (await ok(sessions, query, after=after, **variables))[name]
        found.append([e["node"] for e in page["edges"]])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


@MODULE_LOOP
async def test_meeting_follow_ups(world: World) -> None:
    data = await ok(
        world.sessions,
        """{ meetings(region: "oulu", first: 2) { edges { node { theme recorded
            rsvpComing rsvpNotComing memo { summary publishedAt }
            activities { type example memberIds meetingStartsAt }
            actions { description status closedOn } } } } }""",
    )
    first = data["meetings"]["edges"][0]["node"]
    assert (first["theme"], first["recorded"], first["rsvpComing"], first["rsvpNotComing"]) == (
        "T0",
        True,
        2,
        1,
    )
    assert first["memo"]["summary"] == "Memo 0"
    assert datetime.fromisoformat(first["memo"]["publishedAt"]) == T0 + timedelta(days=1)
    [activity] = first["activities"]
    assert (activity["type"], activity["example"], len(activity["memberIds"])) == (
        "PROBLEM_SOLVING",
        "Example 0",
        2,
    )
    assert datetime.fromisoformat(activity["meetingStartsAt"]) == T0
    assert sorted((a["description"], a["status"]) for a in first["actions"]) == [
        ("Do 0", "CLOSED"),
        ("Do 1", "OPEN"),
    ]


@MODULE_LOOP
async def test_facilitators_status_and_history(world: World) -> None:
    data = await ok(
        world.sessions,
        """query($g: ID) {
           groups(region: "oulu") { edges { node { name facilitators { id role } } } }
           members(groupId: $g, first: 10) { edges { node { id status active
               history { change on } } } } }""",
        g=world.ids["beta"],
    )
    [beta] = data["groups"]["edges"]
    assert beta["node"]["facilitators"] == [{"id": world.ids["researcher"], "role": "RESEARCHER"}]
    by_id = {e["node"]["id"]: e["node"] for e in data["members"]["edges"]}
    paused, rejoined = by_id[world.ids["paused"]], by_id[world.ids["rejoined"]]
    assert (paused["status"], paused["active"]) == ("PAUSED", False)
    assert (rejoined["status"], rejoined["active"]) == ("ACTIVE", True)
    assert [(h["change"], h["on"]) for h in rejoined["history"]] == [
        ("JOINED", "2016-01-01"),
        ("PAUSED", "2024-03-01"),
        ("REJOINED", "2024-05-01"),
    ]
    active = await ok(
        world.sessions, '{ members(region: "oulu", activeOnly: true) { totalCount } }'
    )
    assert active["members"]["totalCount"] == 2


ACTIVITIES = """query($after: String, $region: String, $g: ID, $type: ActivityType,
    $from: Date, $to: Date) {
    activities(first: 4, after: $after, region: $region, groupId: $g, type: $type,
               from: $from, to: $to) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { id region type example meetingStartsAt meeting { id theme } } } } }"""


@MODULE_LOOP
async def test_activities_filters_and_pages(world: World) -> None:
    found = await pages(world.sessions, ACTIVITIES, "activities")
    nodes = [n for page in found for n in page]
    assert [len(p) for p in found] == [4, 4]
    assert len({n["id"] for n in nodes}) == 8
    starts = [(n["meetingStartsAt"], n["id"]) for n in nodes]
    assert starts == sorted(starts)
    assert all(n["meeting"]["theme"] == f"T{n['example'][-1]}" for n in nodes)
    oulu = await pages(
        world.sessions, ACTIVITIES, "activities", region="oulu", type="REUSING_ASSETS"
    )
    assert [n["example"] for p in oulu for n in p] == ["Example 1", "Example 4"]
    window = await ok(
        world.sessions,
        ACTIVITIES,
        g=world.ids["beta"],
        **{"from": (T0 + timedelta(days=30)).date().isoformat()},
        to=(T0 + timedelta(days=60)).date().isoformat(),
    )
    assert [e["node"]["example"] for e in window["activities"]["edges"]] == [
        "Example 1",
        "Example 2",
    ]
    assert window["activities"]["totalCount"] == 2


@MODULE_LOOP
async def test_initiatives_members_history_and_status(world: World) -> None:
    data = await ok(
        world.sessions,
        """{ done: initiatives(status: COMPLETED) { totalCount edges { node { id title status
                outcome memberIds members { id status } history { status memberCount on } } } }
             oulu: initiatives(region: "oulu") { totalCount }
             all: initiatives { totalCount } }""",
    )
    [node] = [e["node"] for e in data["done"]["edges"]]
    assert (node["id"], node["title"], node["status"], node["outcome"]) == (
        world.ids["initiative"],
        "Festival booth",
        "COMPLETED",
        "sold out",
    )
    assert len(node["memberIds"]) == len(node["members"]) == 3
    assert node["history"] == [
        {"status": "ACTIVE", "memberCount": 2, "on": "2024-02-01"},
        {"status": "COMPLETED", "memberCount": 3, "on": "2024-04-01"},
    ]
    assert (data["oulu"]["totalCount"], data["all"]["totalCount"]) == (1, 2)


@MODULE_LOOP
async def test_memos_by_region_and_period(world: World) -> None:
    query = """query($after: String, $from: Date) {
        memos(region: "oulu", first: 4, after: $after, from: $from) {
            pageInfo { hasNextPage endCursor }
            edges { node { summary publishedAt meeting { theme } group { name } } } } }"""
    found = await pages(world.sessions, query, "memos")
    assert [n["summary"] for p in found for n in p] == [f"Memo {i}" for i in range(6)]
    assert [n["meeting"]["theme"] for p in found for n in p] == [f"T{i}" for i in range(6)]
    assert {n["group"]["name"] for p in found for n in p} == {"Beta"}
    later = await pages(
        world.sessions, query, "memos", **{"from": (T0 + timedelta(days=100)).date().isoformat()}
    )
    assert [n["summary"] for p in later for n in p] == ["Memo 4", "Memo 5"]
    # dated by the meeting: memo 3 was published the day after its meeting's day
    to = """query($after: String, $to: Date) {
        memos(region: "oulu", first: 4, after: $after, to: $to) {
            pageInfo { hasNextPage endCursor } edges { node { summary } } } }"""
    day = (T0 + timedelta(days=90)).date().isoformat()
    upto = await pages(world.sessions, to, "memos", to=day)
    assert [n["summary"] for p in upto for n in p] == [f"Memo {i}" for i in range(4)]


@MODULE_LOOP
async def test_surveys_show_means_only_from_three_responses(world: World) -> None:
    data = await ok(
        world.sessions,
        """query($g: ID) { surveys(region: "oulu", groupId: $g) { totalCount edges { node {
            id invited responses enoughResponses meanOverall meanUsefulness meanRecommend
            closed closesAt } } } }""",
        g=world.ids["beta"],
    )
    by_id = {e["node"]["id"]: e["node"] for e in data["surveys"]["edges"]}
    few, enough = by_id[world.ids["few"]], by_id[world.ids["enough"]]
    assert few["responses"] == 2
    assert (few["enoughResponses"], few["meanOverall"], few["meanUsefulness"]) == (
        False,
        None,
        None,
    )
    assert few["meanRecommend"] is None
    assert (enough["responses"], enough["enoughResponses"]) == (3, True)
    assert (enough["meanOverall"], enough["meanUsefulness"], enough["meanRecommend"]) == (
        4.0,
        3.0,
        8.0,
    )
    assert (enough["invited"], enough["closed"]) == (3, False)
    lappi = await ok(world.sessions, '{ surveys(region: "lappi") { totalCount } }')
    assert lappi["surveys"]["totalCount"] == 0


@MODULE_LOOP
async def test_interviews_by_member_and_pages(world: World) -> None:
    query = """query($after: String, $m: ID) { interviews(first: 2, after: $after, memberId: $m,
        region: "lappi") { pageInfo { hasNextPage endCursor } edges { node { memberId
        interviewedOn intendsToGrow plannedHires barriers } } } }"""
    found = await pages(world.sessions, query, "interviews")
    assert [len(p) for p in found] == [2, 1]
    days = [n["interviewedOn"] for p in found for n in p]
    assert days == ["2024-01-01", "2024-02-01", "2024-03-01"]
    mine = await pages(world.sessions, query, "interviews", m=world.ids["interviewed"])
    nodes = [n for p in mine for n in p]
    assert {n["memberId"] for n in nodes} == {world.ids["interviewed"]}
    assert (len(nodes), nodes[0]["intendsToGrow"], nodes[0]["barriers"]) == (
        2,
        "YES",
        ["financing"],
    )


@pytest.mark.parametrize("name", ["activities", "initiatives", "memos", "surveys", "interviews"])
@MODULE_LOOP
async def test_new_connections_refuse_big_pages_and_foreign_cursors(
    world: World, name: str
) -> None:
    result = await run(world.sessions, f"{{ {name}(first: 501) {{ totalCount }} }}")
    assert result.errors
    assert result.errors[0].extensions == {"code": "FIRST_TOO_LARGE", "field": "first"}
    page = await ok(world.sessions, "{ meetings(first: 1) { pageInfo { endCursor } } }")
    result = await run(
        world.sessions,
        f"query($a: String) {{ {name}(after: $a) {{ totalCount }} }}",
        a=page["meetings"]["pageInfo"]["endCursor"],
    )
    assert result.errors
    assert result.errors[0].extensions == {"code": "INVALID_CURSOR", "field": "after"}


NESTED = """{ meetings(first: 50) { totalCount edges { node { id theme recorded rsvpComing
    rsvpNotComing attendeeIds group { name facilitators { id role } }
    host { id status history { change } }
    memo { summary publishedAt }
    activities { type example memberIds }
    actions { description status } } } } }"""


async def statements_for(database_url: str, meetings: int) -> tuple[int, int, int]:
    """(SQL statements, of them SELECTs, meetings returned) of NESTED over ``meetings``
    meetings, counted on the engine the query reads through."""
    engine, sessions = await make(database_url)
    try:
        net = Network("oulu")
        g, people = net.group("Count", 3)
        for i in range(meetings):
            net.meeting(g, people, i)
        await load(sessions, net.events)
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        data = await ok(sessions, NESTED)
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        nodes = [e["node"] for e in data["meetings"]["edges"]]
        assert all(n["memo"] and n["activities"] and len(n["actions"]) == 2 for n in nodes)
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        return len(statements), len(selects), len(nodes)
    finally:
        await engine.dispose()


async def test_sql_statements_depend_on_query_depth_not_rows(make_database_url: Any) -> None:
    few, few_selects, few_rows = await statements_for(await make_database_url("few"), 5)
    many, many_selects, many_rows = await statements_for(await make_database_url("many"), 50)
    assert (few_rows, many_rows) == (5, 50)
    assert few == many  # every statement, BEGINs included (a short session per loader)
    # the page and its count, then one batched query per nested lookup: attendees, RSVPs,
    # host, host's history, group, facilitators, memo, activities, their members, actions
    assert few_selects == many_selects == 12
