"""The research views (summary tables) against brute force over the raw read model.

A seeded random network of two regions is projected (a) in one batch, (b) shuffled into
small batches, some applied twice, with late and re-sent events; the view tables must be
the same, equal :func:`rebuild`'s, and equal what a brute-force computation straight from
the raw tables gives. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.gateway import app as gateway_app
from services.gateway.orm import (
    VIEW_TABLES,
    activities,
    attendance,
    initiative_members,
    initiatives,
    meetings,
    members,
    metadata,
    survey_responses,
    surveys,
    view_state,
)
from services.gateway.projections import project
from services.gateway.views.compute import WENGER_TYPES, cohen_kappa
from services.gateway.views.refresh import rebuild, rebuild_if_marked
from shared.contracts import (
    ActivityRecorded,
    DecodedEvent,
    Event,
    GroupCreated,
    InitiativeStarted,
    InitiativeUpdated,
    MeetingCancelled,
    MeetingHeld,
    MeetingRescheduled,
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
from shared.storage.migrations import migrate, version_table

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2021, 11, 3, 16, 0, tzinfo=UTC)


class Net:
    """Events of several regions with per-aggregate sequences, like their outboxes."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events: list[DecodedEvent] = []
        self.seq: dict[uuid.UUID, int] = {}

    def emit(self, region: str, event: Event, aggregate: uuid.UUID, at: datetime = T0) -> None:
        self.seq[aggregate] = n = self.seq.get(aggregate, 0) + 1
        env = make_envelope(
            event, region=region, aggregate_id=aggregate, sequence=n, occurred_at=at
        )
        self.events.append(decode(encode(env)))

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


def network(seed: int) -> Net:
    net = Net(seed)
    rng = net.rng
    coders = [net.uid() for _ in range(3)]
    for region in ("oulu", "lappi"):
        for g in range(2):
            group = net.uid()
            founded = date(2020, 1 + g, 1)
            net.emit(region, GroupCreated(group_id=group, name=f"g{g}", founded_on=founded), group)
            people = [net.uid() for _ in range(6)]
            for i, p in enumerate(people):
                joined = founded + timedelta(days=40 * i)
                net.emit(
                    region,
                    MemberJoined(member_id=p, group_id=group, joined_on=joined, employees=2),
                    p,
                )
            for p in rng.sample(people, 2):
                net.emit(
                    region,
                    MemberLeft(
                        member_id=p, group_id=group, left_on=date(2021 + rng.randrange(2), 6, 1)
                    ),
                    p,
                )
            for k in range(14):
                m = net.uid()
                starts = T0 + timedelta(days=33 * k + 20 * g)
                host = rng.choice(people)
                net.emit(
                    region,
                    MeetingScheduled(
                        meeting_id=m,
                        group_id=group,
                        host_member_id=host,
                        starts_at=starts,
                        theme="t",
                    ),
                    m,
                )
                if rng.random() < 0.25:  # moves the meeting (often into another month)
                    starts += timedelta(days=rng.randrange(10, 50))
                    net.emit(
                        region,
                        MeetingRescheduled(
                            meeting_id=m, group_id=group, starts_at=starts, theme="u"
                        ),
                        m,
                    )
                if rng.random() < 0.15:
                    net.emit(region, MeetingCancelled(meeting_id=m, group_id=group), m)
                    continue
                came = tuple(rng.sample(people, rng.randrange(2, 6)))
                net.emit(
                    region,
                    MeetingHeld(
                        meeting_id=m, group_id=group, held_at=starts, attendee_member_ids=came
                    ),
                    m,
                )
                for coder in rng.sample(coders, rng.randrange(0, 3)):
                    for kind in rng.sample(WENGER_TYPES, rng.randrange(1, 3)):
                        a = net.uid()
                        net.emit(
                            region,
                            ActivityRecorded(
                                activity_id=a,
                                meeting_id=m,
                                group_id=group,
                                activity_type=kind,  # type: ignore[arg-type]
                                example=f"{kind} seen by {str(coder)[:4]}",
                                coder_id=coder,
                            ),
                            a,
                        )
                if rng.random() < 0.6:
                    s = net.uid()
                    net.emit(
                        region,
                        SurveyOpened(
                            survey_id=s,
                            meeting_id=m,
                            group_id=group,
                            invited=len(came),
                            closes_at=starts + timedelta(days=7),
                        ),
                        s,
                    )
                    for _ in range(rng.randrange(0, len(came) + 1)):
                        r = net.uid()
                        net.emit(
                            region,
                            ResponseSubmitted(
                                response_id=r,
                                survey_id=s,
                                meeting_id=m,
                                group_id=group,
                                overall=rng.randrange(1, 6),
                                usefulness=rng.randrange(1, 6),
                                recommend=rng.randrange(0, 11),
                            ),
                            r,
                        )
                    if rng.random() < 0.8:
                        closed = SurveyClosed(
                            survey_id=s,
                            meeting_id=m,
                            group_id=group,
                            invited=len(came),
                            responses=0,
                        )
                        net.emit(region, closed, s, starts + timedelta(days=8))
            ini = net.uid()
            net.emit(
                region,
                InitiativeStarted(
                    initiative_id=ini,
                    group_id=group,
                    title="booth",
                    member_ids=tuple(people[:2]),
                    started_on=date(2021, 3, 1),
                ),
                ini,
            )
            if g:
                net.emit(
                    region,
                    InitiativeUpdated(
                        initiative_id=ini,
                        group_id=group,
                        status="completed",
                        outcome="done",
                        member_ids=tuple(people[:4]),
                        updated_on=date(2021, 9, 1),
                    ),
                    ini,
                )
    return net


async def make(url: str) -> tuple[AsyncEngine, Sessions]:
    engine = create_engine(url)
    await create_schema(engine, metadata)
    return engine, session_factory(engine)


async def apply(sessions: Sessions, batches: list[list[DecodedEvent]]) -> None:
    for batch in batches:
        async with sessions() as session, session.begin():
            await project(session, batch)


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


async def views(sessions: Sessions) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    async with sessions() as session:
        for table in VIEW_TABLES:
            rows = (await session.execute(select(table))).all()
            out[table.name] = sorted(tuple(rounded(v) for v in row) for row in rows)
    return out


@pytest.fixture
async def two(make_database_url: Any) -> AsyncIterator[tuple[Sessions, Sessions]]:
    one, one_sessions = await make(await make_database_url("views_one"))
    many, many_sessions = await make(await make_database_url("views_many"))
    try:
        yield one_sessions, many_sessions
    finally:
        await one.dispose()
        await many.dispose()


def scrambled(events: list[DecodedEvent], seed: int) -> list[list[DecodedEvent]]:
    """Shuffled into batches of 1-25; a fifth of the batches applied twice, and a tenth of
    the events re-sent in a later batch (duplicates the consumer would normally drop)."""
    rng = random.Random(seed)
    shuffled = events[:]
    rng.shuffle(shuffled)
    batches: list[list[DecodedEvent]] = []
    while shuffled:
        size = rng.randrange(1, 26)
        batch, shuffled = shuffled[:size], shuffled[size:]
        batches.append(batch)
        if rng.random() < 0.2:
            batches.append(batch)
    resent = rng.sample(events, len(events) // 10)
    batches.append(resent)
    return batches


async def test_views_do_not_depend_on_order_batches_or_duplicates(two: Any) -> None:
    one, many = two
    net = network(seed=7)
    await apply(one, [net.events])
    await apply(many, scrambled(net.events, seed=11))
    expected = await views(one)
    assert expected["view_cop_cells"], "the world has activities"
    assert await views(many) == expected
    async with many() as session, session.begin():
        assert await rebuild(session) == 2
    assert await views(many) == expected
    await check_brute_force(one, expected)


# -- brute force, straight from the raw tables ----------------------------------------------


def _utc(at: datetime) -> datetime:
    return rounded(at)  # type: ignore[no-any-return]


def national_is_the_sum(rows: list[tuple[Any, ...]], keys: int, sums: int) -> None:
    """Rows (region, *keys, *sums, ...): the '*' rows are the sums of the regions' rows."""
    total: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * sums)
    national = {}
    for row in rows:
        key, values = row[1 : 1 + keys], row[1 + keys : 1 + keys + sums]
        if row[0] == "*":
            national[key] = list(values)
        else:
            total[key] = [a + b for a, b in zip(total[key], values, strict=True)]
    assert national == dict(total)


async def check_brute_force(sessions: Sessions, views: dict[str, list[tuple[Any, ...]]]) -> None:
    national_is_the_sum(views["view_cop_cells"], 2, 3)
    national_is_the_sum(views["view_region_months"], 1, 5)
    national_is_the_sum(views["view_feedback_months"], 1, 9)
    got = {name: [r for r in rows if r[0] != "*"] for name, rows in views.items()}
    async with sessions() as session:
        acts = (await session.execute(select(activities))).all()
        meets = (await session.execute(select(meetings))).all()
        people = (await session.execute(select(members))).all()
        present = (await session.execute(select(attendance))).all()
        polls = (await session.execute(select(surveys))).all()
        answers = (await session.execute(select(survey_responses))).all()
        inis = (await session.execute(select(initiatives))).all()
        ini_members = (await session.execute(select(initiative_members))).all()

    # CoP cells: counts per region, year, type
    cells = Counter((a.region, _utc(a.meeting_starts_at).year, a.activity_type) for a in acts)
    assert {(r[0], r[1], r[2]): r[3] for r in got["view_cop_cells"]} == dict(cells)
    starts = {m.id: _utc(m.starts_at) for m in meets}
    for a in acts:  # activities follow their meeting's (possibly moved) start
        assert _utc(a.meeting_starts_at) == starts[a.meeting_id]

    # meetings per region and month: held, cancelled, attendees, expected
    came = Counter(p.meeting_id for p in present)

    def member_on(p: Any, day: date) -> bool:
        gone = p.status == "LEFT" and p.left_on is not None and p.left_on <= day
        return p.joined_on is not None and p.joined_on <= day and not gone

    months: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for m in meets:
        key = (m.region, starts[m.id].strftime("%Y-%m"))
        if m.status == "HELD":
            months[key][0] += 1
            months[key][2] += came[m.id]
            months[key][3] += sum(
                1 for p in people if p.group_id == m.group_id and member_on(p, starts[m.id].date())
            )
        elif m.status == "CANCELLED":
            months[key][1] += 1
    view_months = {(r[0], r[1]): list(r[3:7]) for r in got["view_region_months"]}
    assert view_months == dict(months)

    # retention: members on 31 Dec of each year, per region
    for region, year, start, joined, left, retained, end in got["view_retention"]:
        mine = [p for p in people if p.region == region]
        assert start == sum(member_on(p, date(year - 1, 12, 31)) for p in mine)
        assert end == sum(member_on(p, date(year, 12, 31)) for p in mine)
        assert joined == sum(p.joined_on.year == year for p in mine)
        assert left == sum(p.status == "LEFT" and p.left_on.year == year for p in mine)
        assert retained == sum(
            member_on(p, date(year - 1, 12, 31)) and member_on(p, date(year, 12, 31)) for p in mine
        )

    # feedback: only closed surveys with >= 3 responses
    per_survey = defaultdict(list)
    for r in answers:
        per_survey[r.survey_id].append(r)
    feedback: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for s in polls:
        if s.closed_at is None:
            continue
        key = (s.region, _utc(s.closed_at).strftime("%Y-%m"))
        got_answers = per_survey[s.id]
        if len(got_answers) >= 3:
            feedback[key][0] += 1
            feedback[key][2] += len(got_answers)
            feedback[key][3] += sum(r.overall for r in got_answers)
        else:
            feedback[key][1] += 1
    view_feedback = {(r[0], r[1]): [r[2], r[3], r[5], r[6]] for r in got["view_feedback_months"]}
    assert view_feedback == dict(feedback)
    assert any(v[1] for v in feedback.values()), "some surveys are withheld (< 3 responses)"

    # initiatives by status with their distinct members
    status = {i.id: (i.region, i.status) for i in inis}
    per_status: dict[tuple[str, str], set[str]] = defaultdict(set)
    for link in ini_members:
        per_status[status[link.initiative_id]].add(link.member_id)
    view_ini = {(r[0], r[1]): r[3] for r in got["view_initiative_status"]}
    assert view_ini == {k: len(v) for k, v in per_status.items()}

    # coding agreement: per pair and type over the meetings both coded
    coded: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    region_of = {}
    for a in acts:
        coded[a.meeting_id][a.coder_id].add(a.activity_type)
        region_of[a.meeting_id] = a.region
    table: Counter[tuple[str, str, str, str, str]] = Counter()
    for meeting_id, by in coded.items():
        names = sorted(by)
        for i, x in enumerate(names):
            for y in names[i + 1 :]:
                for kind in WENGER_TYPES:
                    cell = ("both", "a_only", "b_only", "neither")[
                        (0 if kind in by[x] else 2) + (0 if kind in by[y] else 1)
                    ]
                    table[(region_of[meeting_id], x, y, kind, cell)] += 1
    for region, a, b, kind, both, a_only, b_only, neither in got["view_coding"]:
        for name, value in (
            ("both", both),
            ("a_only", a_only),
            ("b_only", b_only),
            ("neither", neither),
        ):
            assert table[(region, a, b, kind, name)] == value
    assert sum(table.values()) == sum(sum(r[4:]) for r in got["view_coding"]) > 0


def test_cohen_kappa() -> None:
    # 20 units: both 8, a only 2, b only 1, neither 9 -> po 0.85, pe 0.5
    assert cohen_kappa(8, 2, 1, 9) == pytest.approx((0.85 - 0.5) / 0.5)
    assert cohen_kappa(5, 0, 0, 5) == pytest.approx(1.0)
    assert cohen_kappa(0, 5, 5, 0) == pytest.approx(-1.0)
    assert cohen_kappa(4, 0, 0, 0) is None  # chance agreement 1: undefined
    assert cohen_kappa(0, 0, 0, 0) is None


async def test_migration_marks_the_views_for_one_rebuild(make_database_url: Any) -> None:
    """A read model that predates the views (0004 adds them empty): the gateway's first
    start rebuilds them once from the read model, and not again."""
    url = await make_database_url("views_migrated")
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        location = Path(gateway_app.__file__).parent / "migrations"
        await migrate(engine, location, version_table=version_table("gateway"))
        await apply(sessions, [network(seed=3).events])
        expected = await views(sessions)
        async with sessions() as session, session.begin():  # as before 0004: no views yet
            for table in VIEW_TABLES:
                await session.execute(delete(table))
        assert not any((await views(sessions)).values())
        assert await rebuild_if_marked(sessions) is True
        assert await views(sessions) == expected
        assert await rebuild_if_marked(sessions) is False  # done once
        async with sessions() as session:
            state = (await session.execute(select(view_state))).one()
        assert state.needs_rebuild is False
        assert state.rebuilt_at is not None
    finally:
        await engine.dispose()
