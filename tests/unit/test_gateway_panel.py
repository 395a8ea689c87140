"""The longitudinal panel through the national GraphQL schema, on SQLite and PostgreSQL,
from events projected as NATIONAL delivers them: person keys (stable in a region,
different across regions, dropped on erasure), waves, intentions by year and cohort,
retention by cohort, firm size by year; rows in full only."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.gateway.auth.guard import Guard, Role
from services.gateway.graphql import GatewayContext, schema
from services.gateway.orm import metadata
from services.gateway.projections import project
from services.gateway.research.tables import panel_persons, panel_secrets
from shared.contracts import (
    DecodedEvent,
    GroupCreated,
    InterviewRecorded,
    InterviewRecordedV1,
    InterviewRekeyed,
    MemberJoined,
    MemberLeft,
    PersonErased,
    decode,
    encode,
    make_envelope,
)
from shared.contracts.base import Event
from shared.contracts.feedback import person_key
from shared.storage import create_engine, create_schema, session_factory

RESEARCHER = Guard(Role.RESEARCHER, token_id="r00000000001")
OULU = Guard(Role.AGENCY, region="oulu", token_id="a00000000001")
PUBLIC = Guard(Role.PUBLIC, token_id="p00000000001")
AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Region:
    name: str
    events: list[DecodedEvent] = field(default_factory=list)
    seq: dict[uuid.UUID, int] = field(default_factory=dict)
    secret: bytes = field(default_factory=lambda: os.urandom(32))  # the region's own
    interviews: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)  # by person

    def emit(self, event: Event, aggregate: uuid.UUID) -> None:
        self.seq[aggregate] = n = self.seq.get(aggregate, 0) + 1
        env = make_envelope(
            event, region=self.name, aggregate_id=aggregate, sequence=n, occurred_at=AT
        )
        self.events.append(decode(encode(env)))

    def group(self) -> uuid.UUID:
        g = uuid.uuid4()
        self.emit(GroupCreated(group_id=g, name="G", founded_on=date(2015, 1, 1)), g)
        return g

    def member(self, g: uuid.UUID, joined: date, employees: int, turnover: int) -> uuid.UUID:
        m = uuid.uuid4()
        self.emit(
            MemberJoined(
                member_id=m,
                group_id=g,
                joined_on=joined,
                employees=employees,
                turnover_eur=turnover,
            ),
            m,
        )
        return m

    def interview(
        self,
        member: uuid.UUID,
        person: uuid.UUID | None,
        on: date,
        grow: str,
        hires: int,
        *barriers: str,
        v1: bool = False,
    ) -> uuid.UUID:
        """As the feedback service records it: v2 with the region's key of ``person``, or
        (``v1``) as events written before the region made keys, with the person id."""
        i = uuid.uuid4()
        facts: dict[str, Any] = {
            "interview_id": i,
            "member_id": member,
            "interviewed_on": on,
            "intends_to_grow": grow,
            "planned_hires": hires,
            "barriers": barriers,
        }
        if v1:
            self.emit(InterviewRecordedV1(**facts, person_id=person), i)
        else:
            key = None if person is None else person_key(self.secret, person)
            self.emit(InterviewRecorded(**facts, person_key=key), i)
        if person is not None:
            self.interviews.setdefault(person, []).append(i)
        return i

    def erase(self, person: uuid.UUID, member: uuid.UUID) -> None:
        """As the region erases a person: groups' PersonErased, then feedback unlinks each
        of the person's interviews (InterviewRekeyed without a key)."""
        self.emit(PersonErased(person_id=person, member_id=member, erased_at=AT), person)
        for i in self.interviews.pop(person, []):
            self.emit(InterviewRekeyed(interview_id=i), i)


@dataclass
class Panel:
    sessions: Any
    person: uuid.UUID  # interviewed in both regions (the same id: keys must differ)
    erased: uuid.UUID
    oulu: Region

    async def ask(self, query: str, guard: Guard = RESEARCHER) -> Any:
        ctx = GatewayContext.create(self.sessions, guard=guard)
        return await schema.execute(query, context_value=ctx)

    async def ok(self, query: str, guard: Guard = RESEARCHER) -> dict[str, Any]:
        result = await self.ask(query, guard)
        assert result.errors is None, result.errors
        return dict(result.data or {})


@pytest.fixture
async def panel(database_url: str) -> AsyncIterator[Panel]:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    oulu, lappi = Region("oulu"), Region("lappi")
    person, erased, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    g = oulu.group()
    a = oulu.member(g, date(2020, 3, 1), 2, 100_000)
    b = oulu.member(g, date(2020, 6, 1), 4, 300_000)
    c = oulu.member(g, date(2022, 2, 1), 9, 800_000)
    oulu.emit(MemberLeft(member_id=b, group_id=g, left_on=date(2021, 1, 10)), b)
    oulu.interview(a, person, date(2021, 5, 1), "yes", 2, "financing", "time")
    oulu.interview(a, person, date(2022, 5, 1), "unsure", 0, "time")
    oulu.interview(b, erased, date(2020, 9, 1), "no", 0, "owner_wellbeing")
    oulu.interview(c, None, date(2022, 6, 1), "yes", 3, "finding_employees")  # no person named
    lg = lappi.group()
    d = lappi.member(lg, date(2021, 4, 1), 1, 50_000)
    lappi.interview(d, person, date(2021, 8, 1), "yes", 1, "market_demand")
    lappi.interview(d, other, date(2022, 8, 1), "no", 0)
    async with sessions() as session, session.begin():
        await project(session, oulu.events + lappi.events)
    before = len(oulu.events)
    oulu.erase(erased, b)
    async with sessions() as session, session.begin():  # the erasure in a later batch
        await project(session, oulu.events[before:])
    try:
        yield Panel(sessions, person, erased, oulu)
    finally:
        await engine.dispose()


ROWS = """{ panelInterviews(first: 500) { items { personKey wave region interviewedOn intendsToGrow
  plannedHires barriers joinCohort } endCursor hasNextPage } }"""


async def test_person_keys_are_stable_in_a_region_unlinkable_across_and_dropped_on_erasure(
    panel: Panel,
) -> None:
    items = (await panel.ok(ROWS))["panelInterviews"]["items"]
    assert [(i["region"], i["interviewedOn"]) for i in items] == sorted(
        [(i["region"], i["interviewedOn"]) for i in items], key=lambda x: x[1]
    )
    by = {(i["region"], i["interviewedOn"]): i for i in items}
    first, second = by[("oulu", "2021-05-01")], by[("oulu", "2022-05-01")]
    assert first["personKey"] == second["personKey"]
    assert (first["wave"], second["wave"]) == (1, 2)
    elsewhere = by[("lappi", "2021-08-01")]
    assert elsewhere["personKey"] != first["personKey"]
    assert elsewhere["wave"] == 1
    assert by[("oulu", "2022-06-01")]["personKey"] is None  # no person named
    assert by[("oulu", "2020-09-01")]["personKey"] is None  # erased: the interview stays
    assert by[("oulu", "2020-09-01")]["barriers"] == ["owner_wellbeing"]
    text = str(items)
    assert str(panel.person) not in text
    assert str(panel.person.hex) not in text
    # the key is the one the region made with its own secret; the gateway made no secret
    assert first["personKey"] == person_key(panel.oulu.secret, panel.person)
    async with panel.sessions() as session:
        assert (await session.execute(select(panel_secrets))).all() == []
        keys = set((await session.scalars(select(panel_persons.c.person_key))).all())
    assert person_key(panel.oulu.secret, panel.erased) not in keys  # its link is gone


async def test_v1_interviews_are_keyed_by_the_gateway_and_a_region_rekeys_only_its_own(
    database_url: str,
) -> None:
    """Events written before the region made the keys (v1, with the person id): the gateway
    keys them with a secret of its own per region, stores only the key, and drops those
    keys on the person's PersonErased. A region's InterviewRekeyed for another region's
    interview, or for one the nation has not seen, changes nothing."""
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    oulu, lappi = Region("oulu"), Region("lappi")
    g = oulu.group()
    a = oulu.member(g, date(2019, 3, 1), 2, 100_000)
    kept, erased = uuid.uuid4(), uuid.uuid4()
    first = oulu.interview(a, kept, date(2019, 5, 1), "yes", 1, v1=True)
    second = oulu.interview(a, kept, date(2020, 5, 1), "no", 0, v1=True)
    gone = oulu.interview(a, erased, date(2020, 6, 1), "unsure", 0, v1=True)
    lappi.emit(InterviewRekeyed(interview_id=first, person_key="f" * 32), first)  # not its own
    unseen = uuid.uuid4()
    lappi.emit(InterviewRekeyed(interview_id=unseen, person_key="e" * 32), unseen)
    try:
        async with sessions() as session, session.begin():
            await project(session, oulu.events + lappi.events)
        async with sessions() as session:
            rows = dict(
                (
                    await session.execute(
                        select(panel_persons.c.interview_id, panel_persons.c.person_key)
                    )
                ).all()
            )
            secret = await session.scalar(
                select(panel_secrets.c.secret).where(panel_secrets.c.region == "oulu")
            )
        assert secret is not None
        assert rows == {
            str(first): person_key(bytes.fromhex(secret), kept),
            str(second): person_key(bytes.fromhex(secret), kept),
            str(gone): person_key(bytes.fromhex(secret), erased),
        }
        before = len(oulu.events)
        oulu.emit(PersonErased(person_id=erased, member_id=a, erased_at=AT), erased)
        async with sessions() as session, session.begin():
            await project(session, oulu.events[before:])
        async with sessions() as session:
            left = set((await session.scalars(select(panel_persons.c.interview_id))).all())
            dump = await _read_model_text(session)
        assert left == {str(first), str(second)}
        for person in (kept, erased):  # the person ids were never stored
            assert str(person) not in dump
            assert person.hex not in dump
    finally:
        await engine.dispose()


async def _read_model_text(session: Any) -> str:
    """Every row of every table of the read model, as text."""
    parts: list[str] = []
    for table in metadata.sorted_tables:
        parts.extend(str(tuple(row)) for row in await session.execute(select(table)))
    return "\n".join(parts)


async def test_pages_continue_where_the_last_ended(panel: Panel) -> None:
    seen = []
    after = None
    while True:
        arg = f', after: "{after}"' if after else ""
        page = (
            await panel.ok(
                f"{{ panelInterviews(first: 2{arg}) "
                "{ items { interviewedOn } endCursor hasNextPage } }"
            )
        )["panelInterviews"]
        seen += [i["interviewedOn"] for i in page["items"]]
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    assert len(seen) == 6
    assert seen == sorted(seen)


async def test_intentions_by_year_and_cohort(panel: Panel) -> None:
    q = """{ growthIntentions(by: %s) { period interviews persons members yes no unsure
      plannedHiresMean barriers { barrier count } } }"""
    years = {c["period"]: c for c in (await panel.ok(q % "YEAR"))["growthIntentions"]}
    assert sorted(years) == [2020, 2021, 2022]
    y2021 = years[2021]
    assert (y2021["interviews"], y2021["persons"], y2021["members"]) == (2, 2, 2)
    assert (y2021["yes"], y2021["no"], y2021["unsure"]) == (2, 0, 0)
    assert y2021["plannedHiresMean"] == pytest.approx(1.5)
    named = {b["barrier"]: b["count"] for b in y2021["barriers"]}
    assert (named["financing"], named["time"], named["market_demand"], named["regulation"]) == (
        1,
        1,
        1,
        0,
    )
    cohorts = {c["period"]: c for c in (await panel.ok(q % "JOIN_COHORT"))["growthIntentions"]}
    assert {k: v["interviews"] for k, v in cohorts.items()} == {2020: 3, 2021: 2, 2022: 1}
    assert cohorts[2020]["persons"] == 1  # the erased person no longer counts as a person


async def test_retention_by_cohort_and_firm_size(panel: Panel) -> None:
    data = await panel.ok(
        '{ retentionByCohort(region: "oulu") { cohort joined '
        "survival { years atRisk retained rate } } }"
    )
    cohorts = {c["cohort"]: c for c in data["retentionByCohort"]}
    c2020 = cohorts[2020]
    assert c2020["joined"] == 2
    assert c2020["survival"][0] == {"years": 1, "atRisk": 2, "retained": 1, "rate": 0.5}
    today = datetime.now(UTC).date()
    assert len(c2020["survival"]) == today.year - 2020 - (date(today.year, 6, 1) > today)
    assert cohorts[2022]["survival"][0]["retained"] == 1
    sizes = {
        s["year"]: s
        for s in (
            await panel.ok(
                '{ firmSizeByYear(region: "oulu") { year firms employeesMean employeesMedian '
                "turnoverMeanEur } }"
            )
        )["firmSizeByYear"]
    }
    assert sizes[2020] == {
        "year": 2020,
        "firms": 2,
        "employeesMean": 3.0,
        "employeesMedian": 3.0,
        "turnoverMeanEur": 200_000.0,
    }
    assert sizes[2021]["firms"] == 1  # b left in January 2021
    assert sizes[2022] == {
        "year": 2022,
        "firms": 2,
        "employeesMean": 5.5,
        "employeesMedian": 5.5,
        "turnoverMeanEur": 450_000.0,
    }


async def test_rows_in_full_and_k_anonymous_aggregates_for_the_rest(panel: Panel) -> None:
    own = (await panel.ok(ROWS, OULU))["panelInterviews"]["items"]
    assert {i["region"] for i in own} == {"oulu"}
    for guard, args in ((PUBLIC, ""), (OULU, '(region: "lappi")')):
        refused = await panel.ask(f"{{ panelInterviews{args} {{ items {{ region }} }} }}", guard)
        assert refused.errors
        assert refused.errors[0].extensions["code"] == "FORBIDDEN"
    # aggregates: national totals for everyone, one region's for agencies and researchers;
    # a cell of fewer than 3 member companies only for who sees all its rows
    years = "{ growthIntentions { period members } }"
    assert [c["period"] for c in (await panel.ok(years))["growthIntentions"]] == [2020, 2021, 2022]
    public = (await panel.ok(years, PUBLIC))["growthIntentions"]
    assert public == [{"period": 2022, "members": 3}]
    for name in ("growthIntentions", "retentionByCohort", "firmSizeByYear"):
        refused = await panel.ask(f'{{ {name}(region: "oulu") {{ __typename }} }}', PUBLIC)
        assert refused.errors
        assert refused.errors[0].extensions["code"] == "FORBIDDEN"
    mine = await panel.ok('{ growthIntentions(region: "oulu") { period } }', OULU)
    assert [c["period"] for c in mine["growthIntentions"]] == [2020, 2021, 2022]
    theirs = await panel.ok('{ growthIntentions(region: "lappi") { period } }', OULU)
    assert theirs["growthIntentions"] == []  # one member company there
    assert (await panel.ok("{ retentionByCohort { cohort } }", PUBLIC))["retentionByCohort"] == []
    sizes = (await panel.ok("{ firmSizeByYear { year firms } }", PUBLIC))["firmSizeByYear"]
    assert sizes[0] == {"year": 2022, "firms": 3}
    assert all(s["firms"] >= 3 for s in sizes)
