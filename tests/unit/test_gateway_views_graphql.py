"""The research views through GraphQL over a small hand-made network with known answers;
the statements a view runs do not grow with the rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.gateway.graphql import GatewayContext, schema
from services.gateway.orm import metadata
from services.gateway.projections import project
from shared.contracts import (
    ActivityRecorded,
    DecodedEvent,
    Event,
    GroupCreated,
    InitiativeStarted,
    InitiativeUpdated,
    MeetingCancelled,
    MeetingHeld,
    MeetingScheduled,
    MemberJoined,
    MemberLeft,
    ResponseSubmitted,
    SurveyClosed,
    SurveyOpened,
    decode,
    encode,
    make_envelope,
)
from shared.storage import create_engine, create_schema, session_factory

Sessions = async_sessionmaker[AsyncSession]
MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the tests on the shared world


class Net:
    def __init__(self) -> None:
        self.events: list[DecodedEvent] = []
        self.seq: dict[uuid.UUID, int] = {}

    def emit(self, region: str, ev: Event, agg: uuid.UUID, at: datetime | None = None) -> None:
        self.seq[agg] = n = self.seq.get(agg, 0) + 1
        at = at or datetime(2024, 1, 1, tzinfo=UTC)
        env = make_envelope(ev, region=region, aggregate_id=agg, sequence=n, occurred_at=at)
        self.events.append(decode(encode(env)))


@dataclass
class World:
    engine: AsyncEngine
    sessions: Sessions
    group: str
    coders: tuple[str, str]


def _at(month: int) -> datetime:
    return datetime(2024, month, 10, 17, 0, tzinfo=UTC)


def _meeting(
    net: Net, group: uuid.UUID, month: int, host: uuid.UUID, came: list[uuid.UUID]
) -> uuid.UUID:
    m = uuid.uuid4()
    net.emit(
        "oulu",
        MeetingScheduled(
            meeting_id=m, group_id=group, host_member_id=host, starts_at=_at(month), theme="t"
        ),
        m,
    )
    net.emit(
        "oulu",
        MeetingHeld(
            meeting_id=m, group_id=group, held_at=_at(month), attendee_member_ids=tuple(came)
        ),
        m,
    )
    return m


def _survey(
    net: Net, group: uuid.UUID, meeting: uuid.UUID, scores: list[tuple[int, int]], close: bool
) -> None:
    s = uuid.uuid4()
    opened = SurveyOpened(
        survey_id=s, meeting_id=meeting, group_id=group, invited=4, closes_at=_at(3)
    )
    net.emit("oulu", opened, s)
    for overall, recommend in scores:
        r = uuid.uuid4()
        net.emit(
            "oulu",
            ResponseSubmitted(
                response_id=r,
                survey_id=s,
                meeting_id=meeting,
                group_id=group,
                overall=overall,
                usefulness=overall,
                recommend=recommend,
            ),
            r,
        )
    if close:
        closed = SurveyClosed(
            survey_id=s, meeting_id=meeting, group_id=group, invited=4, responses=len(scores)
        )
        net.emit("oulu", closed, s, datetime(2024, 2, 20, tzinfo=UTC))


def network() -> tuple[Net, uuid.UUID, tuple[uuid.UUID, uuid.UUID]]:
    """oulu: group G, members p0-p3 (joined 2024-01-01, p3 left 2024-06-01), meetings held
    in Feb (host p0; p0 p1 p2 came), Mar (host p1; p0 p1), Jul (host p0; p0 p1 p2), one
    cancelled in Apr; coders A and B on Feb and Mar; surveys of 3 (closed), 2 (closed) and
    3 (open) responses; initiatives ACTIVE (p0 p1) and COMPLETED (p1 p2).
    lappi: one group, one held meeting."""
    net = Net()
    g = uuid.uuid4()
    net.emit("oulu", GroupCreated(group_id=g, name="G", founded_on=date(2024, 1, 1)), g)
    p = [uuid.uuid4() for _ in range(4)]
    for x in p:
        net.emit(
            "oulu",
            MemberJoined(member_id=x, group_id=g, joined_on=date(2024, 1, 1), employees=1),
            x,
        )
    net.emit("oulu", MemberLeft(member_id=p[3], group_id=g, left_on=date(2024, 6, 1)), p[3])
    feb = _meeting(net, g, 2, p[0], p[:3])
    mar = _meeting(net, g, 3, p[1], p[:2])
    _meeting(net, g, 7, p[0], p[:3])
    apr = uuid.uuid4()
    net.emit(
        "oulu",
        MeetingScheduled(
            meeting_id=apr, group_id=g, host_member_id=p[2], starts_at=_at(4), theme="t"
        ),
        apr,
    )
    net.emit("oulu", MeetingCancelled(meeting_id=apr, group_id=g), apr)
    a, b = sorted([uuid.uuid4(), uuid.uuid4()], key=str)
    for meeting, coder, kind in (
        (feb, a, "problem_solving"),
        (feb, a, "visits"),
        (feb, b, "problem_solving"),
        (mar, a, "reusing_assets"),
        (mar, b, "reusing_assets"),
    ):
        act = uuid.uuid4()
        net.emit(
            "oulu",
            ActivityRecorded(
                activity_id=act,
                meeting_id=meeting,
                group_id=g,
                activity_type=kind,  # type: ignore[arg-type]
                example=f"{kind} by {'A' if coder == a else 'B'}",
                coder_id=coder,
            ),
            act,
        )
    _survey(net, g, feb, [(5, 10), (4, 9), (3, 5)], close=True)
    _survey(net, g, mar, [(1, 0), (1, 0)], close=True)  # fewer than 3: withheld
    _survey(net, g, mar, [(2, 2), (2, 2), (2, 2)], close=False)  # not closed: not counted
    for members, status in ((p[:2], None), (p[1:3], "completed")):
        i = uuid.uuid4()
        net.emit(
            "oulu",
            InitiativeStarted(
                initiative_id=i,
                group_id=g,
                title="x",
                member_ids=tuple(members),
                started_on=date(2024, 2, 1),
            ),
            i,
        )
        if status:
            net.emit(
                "oulu",
                InitiativeUpdated(
                    initiative_id=i,
                    group_id=g,
                    status=status,  # type: ignore[arg-type]
                    member_ids=tuple(members),
                    updated_on=date(2024, 3, 1),
                ),
                i,
            )
    lg, lm, lp = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    net.emit("lappi", GroupCreated(group_id=lg, name="L", founded_on=date(2024, 1, 1)), lg)
    net.emit(
        "lappi",
        MemberJoined(member_id=lp, group_id=lg, joined_on=date(2024, 1, 1), employees=1),
        lp,
    )
    for ev in (
        MeetingScheduled(
            meeting_id=lm, group_id=lg, host_member_id=lp, starts_at=_at(5), theme="t"
        ),
        MeetingHeld(meeting_id=lm, group_id=lg, held_at=_at(5), attendee_member_ids=(lp,)),
    ):
        net.emit("lappi", ev, lm)
    return net, g, (a, b)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(module_database_url: str) -> AsyncIterator[World]:
    """The network's read model, built once per module and database: the tests only read it
    (and run in the module's event loop, :data:`MODULE_LOOP`)."""
    engine = create_engine(module_database_url)
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    net, g, (a, b) = network()
    async with sessions() as session, session.begin():
        await project(session, net.events)
    try:
        yield World(engine, sessions, str(g), (str(a), str(b)))
    finally:
        await engine.dispose()


async def run(world: World, query: str, **variables: Any) -> dict[str, Any]:
    result = await schema.execute(
        query, variable_values=variables, context_value=GatewayContext.create(world.sessions)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


async def fails(world: World, query: str) -> str:
    result = await schema.execute(query, context_value=GatewayContext.create(world.sessions))
    assert result.errors, "expected an error"
    return str(result.errors[0].extensions.get("code") if result.errors[0].extensions else "")


@MODULE_LOOP
async def test_meetings_over_time_and_group_months(world: World) -> None:
    data = await run(
        world,
        """query($g: ID) { meetingsOverTime(region: "oulu") { month meetingsHeld
             meetingsCancelled attendees expected attendanceRate groupsMeeting }
             all: meetingsOverTime { month meetingsHeld }
             spring: meetingsOverTime(region: "oulu", from: "2024-03-01", to: "2024-04-30") {
               month }
             groupMonths(groupId: $g, first: 2) { edges { node { month attendanceRate } }
               pageInfo { hasNextPage } totalCount } }""",
        g=world.group,
    )
    months = {m["month"]: m for m in data["meetingsOverTime"]}
    assert list(months) == ["2024-02", "2024-03", "2024-04", "2024-07"]
    assert months["2024-02"]["attendees"] == 3
    assert months["2024-02"]["expected"] == 4
    assert months["2024-02"]["attendanceRate"] == pytest.approx(0.75)
    assert months["2024-04"] == {
        "month": "2024-04",
        "meetingsHeld": 0,
        "meetingsCancelled": 1,
        "attendees": 0,
        "expected": 0,
        "attendanceRate": None,
        "groupsMeeting": 0,
    }
    assert months["2024-07"]["expected"] == 3  # p3 left on 1 June
    assert {m["month"]: m["meetingsHeld"] for m in data["all"]}["2024-05"] == 1  # lappi
    assert [m["month"] for m in data["spring"]] == ["2024-03", "2024-04"]
    page = data["groupMonths"]
    assert [e["node"]["month"] for e in page["edges"]] == ["2024-02", "2024-03"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["totalCount"] == 4


@MODULE_LOOP
async def test_retention_hosts_and_health(world: World) -> None:
    data = await run(
        world,
        """{ retention(region: "oulu") { year membersStart joined left retained membersEnd
               retentionRate }
             hostRotation(region: "oulu") { edges { node { meetingsHosted distinctHosts
               repeatHostings meanDaysBetween hostShare members } } }
             groupHealth(region: "oulu") { edges { node { membersActive membersEver
               membersLeft churnRate attendanceRate longestStreak meanCurrentStreak
               hostedShare feedbackRecent feedbackTrend meetingsHeld } } } }""",
    )
    assert data["retention"] == [
        {
            "year": 2024,
            "membersStart": 0,
            "joined": 4,
            "left": 1,
            "retained": 0,
            "membersEnd": 3,
            "retentionRate": None,
        }
    ]
    (hosts,) = [e["node"] for e in data["hostRotation"]["edges"]]
    jul, feb = _at(7).date(), _at(2).date()
    assert hosts == {
        "meetingsHosted": 3,
        "distinctHosts": 2,
        "repeatHostings": 1,
        "meanDaysBetween": (jul - feb).days,
        "hostShare": 0.5,
        "members": 4,
    }
    (health,) = [e["node"] for e in data["groupHealth"]["edges"]]
    assert health["membersActive"] == 3
    assert health["churnRate"] == pytest.approx(0.25)
    assert health["attendanceRate"] == pytest.approx(8 / 11)
    assert health["longestStreak"] == 3
    assert health["meanCurrentStreak"] == pytest.approx(7 / 3)  # p0 3, p1 3, p2 1
    assert health["hostedShare"] == pytest.approx(2 / 3)
    assert health["feedbackRecent"] == pytest.approx(4.0)  # only the counted survey
    assert health["feedbackTrend"] is None
    assert health["meetingsHeld"] == 3


@MODULE_LOOP
async def test_feedback_is_k_anonymous(world: World) -> None:
    data = await run(
        world,
        """{ feedbackTrend(region: "oulu") { month surveys surveysWithheld invited responses
             responseRate meanOverall meanRecommend recommendScore } }""",
    )
    # by the surveyed meeting's month (all three surveys closed in February)
    assert data["feedbackTrend"] == [
        {
            "month": "2024-02",
            "surveys": 1,
            "surveysWithheld": 0,
            "invited": 4,
            "responses": 3,
            "responseRate": 0.75,
            "meanOverall": 4.0,
            "meanRecommend": 8.0,
            "recommendScore": pytest.approx(100 / 3),
        },
        {
            "month": "2024-03",
            "surveys": 0,
            "surveysWithheld": 1,  # closed with 2 responses; the open one is not counted
            "invited": 0,
            "responses": 0,
            "responseRate": None,
            "meanOverall": None,
            "meanRecommend": None,
            "recommendScore": None,
        },
    ]
    march = await run(world, '{ feedbackTrend(from: "2024-03-10", to: "2024-03-10") { month } }')
    assert march["feedbackTrend"] == [{"month": "2024-03"}]  # the meeting's exact day
    after = await run(world, '{ feedbackTrend(from: "2024-03-11") { month } }')
    assert after["feedbackTrend"] == []


@MODULE_LOOP
async def test_cop_table_initiatives_and_coding(world: World) -> None:
    data = await run(
        world,
        """query($g: ID) { copActivityTable(byYear: true) { activityType year activities
               meetings groups
               example }
             period: copActivityTable { activityType year activities }
             feb: copActivityTable(from: "2024-02-10", to: "2024-02-10") { activityType }
             group: copActivityTable(groupId: $g) { groups }
             visits: copActivityTable(type: VISITS, region: "oulu") { activities }
             none: copActivityTable(from: "2025-01-01") { activities }
             initiativeStatuses { status initiatives members joinings }
             codingAgreement { totalCount edges { node { coderA coderB meetings kappa
               perType { activityType both aOnly bOnly neither kappa } } } }
             ps: codingAgreement(type: PROBLEM_SOLVING) { edges { node { kappa meetings } } }
             }""",
        g=world.group,
    )
    cells = {(c["activityType"], c["year"]): c for c in data["copActivityTable"]}
    assert set(cells) == {("PROBLEM_SOLVING", 2024), ("VISITS", 2024), ("REUSING_ASSETS", 2024)}
    # each meeting counts its first coder's records only (A recorded first: ids tie-break)
    assert cells[("PROBLEM_SOLVING", 2024)]["activities"] == 1
    assert cells[("PROBLEM_SOLVING", 2024)]["meetings"] == 1
    assert cells[("PROBLEM_SOLVING", 2024)]["groups"] == 1
    assert {(c["activityType"], c["year"]) for c in data["period"]} == {
        ("PROBLEM_SOLVING", None),
        ("VISITS", None),
        ("REUSING_ASSETS", None),
    }
    assert sorted(c["activityType"] for c in data["feb"]) == ["PROBLEM_SOLVING", "VISITS"]
    assert [c["groups"] for c in data["group"]] == [1, 1, 1]
    assert cells[("VISITS", 2024)]["example"] == "visits by A"
    assert data["visits"] == [{"activities": 1}]
    assert data["none"] == []
    assert data["initiativeStatuses"] == [
        {"status": "ACTIVE", "initiatives": 1, "members": 2, "joinings": 2},
        {"status": "COMPLETED", "initiatives": 1, "members": 2, "joinings": 2},
    ]
    assert data["codingAgreement"]["totalCount"] == 1
    (pair,) = [e["node"] for e in data["codingAgreement"]["edges"]]
    assert (pair["coderA"], pair["coderB"]) == world.coders
    assert pair["meetings"] == 2
    assert len(pair["perType"]) == 11
    # 22 units: both 2, A only 1 (visits in Feb), neither 19
    po, pa, pb = 21 / 22, 3 / 22, 2 / 22
    pe = pa * pb + (1 - pa) * (1 - pb)
    assert pair["kappa"] == pytest.approx((po - pe) / (1 - pe))
    types = {t["activityType"]: t for t in pair["perType"]}
    assert types["PROBLEM_SOLVING"]["kappa"] == pytest.approx(1.0)
    assert types["VISITS"] == {
        "activityType": "VISITS",
        "both": 0,
        "aOnly": 1,
        "bOnly": 0,
        "neither": 1,
        "kappa": 0.0,
    }
    assert types["GROWING_CONFIDENCE"]["kappa"] is None  # nobody saw it: undefined
    assert [e["node"] for e in data["ps"]["edges"]] == [
        {"kappa": pytest.approx(1.0), "meetings": 2}
    ]


@MODULE_LOOP
async def test_region_overview_pages(world: World) -> None:
    query = """query($after: String) { regionOverview(first: 1, after: $after) {
        edges { node { region displayName groups membersActive meetingsHeld activities
          attendanceRate initiatives responses eventsApplied } }
        pageInfo { hasNextPage endCursor } totalCount } }"""
    first = (await run(world, query))["regionOverview"]
    assert first["totalCount"] == 2
    assert first["pageInfo"]["hasNextPage"] is True
    (lappi,) = [e["node"] for e in first["edges"]]
    assert lappi["region"] == "lappi"
    assert lappi["attendanceRate"] == 1.0
    after = first["pageInfo"]["endCursor"]
    second = (await run(world, query, after=after))["regionOverview"]
    (oulu,) = [e["node"] for e in second["edges"]]
    assert second["pageInfo"]["hasNextPage"] is False
    assert oulu["region"] == "oulu"
    assert (oulu["groups"], oulu["membersActive"], oulu["meetingsHeld"]) == (1, 3, 3)
    # activities: the first coder's of each meeting (A's three)
    assert (oulu["activities"], oulu["initiatives"], oulu["responses"]) == (3, 2, 3)
    assert oulu["eventsApplied"] > 20


@MODULE_LOOP
async def test_bad_arguments_are_refused(world: World) -> None:
    assert (
        await fails(world, '{ meetingsOverTime(from: "2024-05-01", to: "2024-04-01") { month } }')
        == "PERIOD_REVERSED"
    )
    assert await fails(world, "{ groupHealth(first: 501) { totalCount } }") == "FIRST_TOO_LARGE"
    assert await fails(world, '{ regionOverview(after: "nonsense") { totalCount } }') != ""


ALL_VIEWS = """{
  copActivityTable { year activities }
  meetingsOverTime { month meetingsHeld }
  groupMonths(first: 500) { edges { node { month } } }
  retention { year }
  hostRotation(first: 500) { edges { node { distinctHosts } } }
  feedbackTrend { month meanOverall }
  initiativeStatuses { status }
  groupHealth(first: 500) { edges { node { churnRate } } }
  codingAgreement(first: 500) { edges { node { kappa perType { kappa } } } }
  regionOverview(first: 500) { edges { node { region } } }
}"""


async def selects_for_all_views(database_url: str, extra_groups: int) -> tuple[int, int]:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    net, _, _ = network()
    for n in range(extra_groups):
        g, p = uuid.uuid4(), uuid.uuid4()
        net.emit(f"r{n:03d}", GroupCreated(group_id=g, name="x", founded_on=date(2024, 1, 1)), g)
        net.emit(
            f"r{n:03d}",
            MemberJoined(member_id=p, group_id=g, joined_on=date(2024, 1, 1), employees=1),
            p,
        )
        _meeting_in(net, f"r{n:03d}", g, p, n)
    async with sessions() as session, session.begin():
        await project(session, net.events)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        data = await run(World(engine, sessions, "", ("", "")), ALL_VIEWS)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        await engine.dispose()
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    return len(selects), len(data["regionOverview"]["edges"])


def _meeting_in(net: Net, region: str, g: uuid.UUID, p: uuid.UUID, n: int) -> None:
    m = uuid.uuid4()
    at = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=7 * n)
    net.emit(
        region,
        MeetingScheduled(meeting_id=m, group_id=g, host_member_id=p, starts_at=at, theme="t"),
        m,
    )
    net.emit(region, MeetingHeld(meeting_id=m, group_id=g, held_at=at, attendee_member_ids=(p,)), m)


async def test_each_view_is_one_sql_statement(make_database_url: Any) -> None:
    few, few_regions = await selects_for_all_views(await make_database_url("vfew"), 0)
    many, many_regions = await selects_for_all_views(await make_database_url("vmany"), 60)
    assert (few_regions, many_regions) == (2, 62)
    # ten view fields: one SELECT each, hostRotation two (the page of groups, their rows),
    # groupHealth four (the page, members, meetings with attendance, surveys)
    assert few == many == 14


async def test_coding_agreement_pages_by_pair(make_database_url: Any) -> None:
    """Three coders of one meeting: pairs (A,B), (A,C), (B,C), two a page."""
    engine = create_engine(await make_database_url("vcoders"))
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    net = Net()
    g, p = uuid.uuid4(), uuid.uuid4()
    net.emit("oulu", GroupCreated(group_id=g, name="G", founded_on=date(2024, 1, 1)), g)
    m = _meeting(net, g, 2, p, [p])
    coders = sorted((uuid.uuid4() for _ in range(3)), key=str)
    for coder in coders:
        act = uuid.uuid4()
        net.emit(
            "oulu",
            ActivityRecorded(
                activity_id=act,
                meeting_id=m,
                group_id=g,
                activity_type="visits",
                example="a visit",
                coder_id=coder,
            ),
            act,
        )
    async with sessions() as session, session.begin():
        await project(session, net.events)
    world = World(engine, sessions, str(g), ("", ""))
    query = """query($after: String) { codingAgreement(first: 2, after: $after) { totalCount
        edges { node { coderA coderB meetings } } pageInfo { hasNextPage endCursor } } }"""
    try:
        first = (await run(world, query))["codingAgreement"]
        second = (await run(world, query, after=first["pageInfo"]["endCursor"]))["codingAgreement"]
    finally:
        await engine.dispose()
    a, b, c = map(str, coders)
    assert first["totalCount"] == 3
    assert [(e["node"]["coderA"], e["node"]["coderB"]) for e in first["edges"]] == [
        (a, b),
        (a, c),
    ]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [(e["node"]["coderA"], e["node"]["coderB"]) for e in second["edges"]] == [(b, c)]
    assert second["pageInfo"]["hasNextPage"] is False
    assert all(e["node"]["meetings"] == 1 for e in first["edges"] + second["edges"])
