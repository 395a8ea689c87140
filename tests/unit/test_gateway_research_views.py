"""The research facts and views against brute force over the raw read model.

A seeded random network of two regions is projected (a) in one batch, (b) shuffled into
small batches, some applied twice, with late and re-sent events; the fact tables must be
the same, equal :func:`rebuild`'s, and every view (national, per region, per group, over
exact-day periods in Europe/Helsinki) must equal what a brute-force computation straight
from the raw tables gives. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import itertools
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
from services.gateway.auth.guard import Guard, Role
from services.gateway.orm import (
    FACT_TABLES,
    activities,
    attendance,
    fact_cop,
    groups,
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
from services.gateway.research import agreement, counts, store
from services.gateway.research.coding import CodingInput, MarkInput, shown_example
from services.gateway.research.scope import Scope as Workspace
from services.gateway.research.tables import (
    CONSENSUS,
    WORKSPACE_FACTS,
    codebooks,
    coding_marks,
    codings,
)
from services.gateway.research.wenger import first_codebook
from services.gateway.views import compute, queries
from services.gateway.views.compute import WENGER_TYPES, cohen_kappa
from services.gateway.views.days import day_of
from services.gateway.views.queries import Scope
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
                if rng.random() < 0.3:  # 22:30 UTC: already the next day in Helsinki
                    starts += timedelta(hours=6, minutes=30)
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
                for c, coder in enumerate(rng.sample(coders, rng.randrange(0, 3))):
                    recorded = starts + timedelta(days=1 + c + rng.randrange(0, 2))
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
                            recorded,
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


async def facts(sessions: Sessions) -> dict[str, list[tuple[Any, ...]]]:
    """Every fact table's rows (the workspace's with codebooks by key and version: their
    ids differ between databases)."""
    out = {}
    async with sessions() as session:
        named = {
            r.id: f"{r.key}{r.version}"
            for r in await session.execute(
                select(codebooks.c.id, codebooks.c.key, codebooks.c.version)
            )
        }
        for table in (*FACT_TABLES, *WORKSPACE_FACTS):
            rows = [
                {k: named.get(v, v) if k == "codebook_id" else v for k, v in r._mapping.items()}
                for r in await session.execute(select(table))
            ]
            out[table.name] = sorted(tuple(rounded(v) for v in row.values()) for row in rows)
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


# -- the researchers' workspace: codings and their consensus ---------------------------------

Coding = tuple[str, str, CodingInput]  # (book key, coder, coding): saved in this order


async def books(sessions: Sessions) -> dict[str, str]:
    """wenger v1 and v2 (the same codes), and another codebook whose consensus the views
    must not count although its code is named like a Wenger type."""
    other = dataclasses.replace(first_codebook(), key="other", codes=first_codebook().codes[:3])
    async with sessions() as session, session.begin():
        await store.ensure_first_codebook(session)
        await store.add_codebook_version(session, first_codebook(), "lead")
        await store.create_codebook(session, other, "lead")
        rows = await session.execute(select(codebooks.c.id, codebooks.c.key, codebooks.c.version))
        return {f"{r.key}{r.version}": r.id for r in rows}


def codings_of(net: Net, seed: int) -> list[tuple[str, str, str, tuple[MarkInput, ...]]]:
    """Codings of a third of the held meetings: two coders each, then a consensus (some of
    them "nothing found"); some meetings also with the codebook's v2 or ``other``.
    (book, meeting, coder, marks); no marks: nothing found."""
    rng = random.Random(seed)
    held = sorted({str(d.event.meeting_id) for d in net.events if isinstance(d.event, MeetingHeld)})
    plan = []
    for m in rng.sample(held, len(held) // 3):

        def marks(m: str = m) -> tuple[MarkInput, ...]:
            kinds = rng.sample(WENGER_TYPES[:4], rng.randrange(0, 3))
            return tuple(
                MarkInput(
                    k, example=rng.choice(("", f"{k} in {m[:4]}")), featured=rng.random() < 0.3
                )
                for k in kinds
                for _ in range(rng.randrange(1, 3))
            )

        versions = ["wenger1"] + (["wenger2"] if rng.random() < 0.3 else [])
        versions += ["other1"] if rng.random() < 0.3 else []
        for book in versions:
            for coder in ("anna", "bo", "cy")[: rng.choice((1, 2, 2, 3))]:
                plan.append((book, m, coder, marks()))
            if any(p[1] == m and p[0] == book and p[2] == "bo" for p in plan):
                plan.append((book, m, CONSENSUS, marks()))  # reconciled: two have coded it
    return plan


async def code(sessions: Sessions, book_ids: dict[str, str], plan: list[Any]) -> int:
    """Save the codings of ``plan`` whose meetings the read model has; returns how many."""
    done = 0
    for book, meeting, coder, marks in plan:
        async with sessions() as session, session.begin():
            known = await session.scalar(select(meetings.c.id).where(meetings.c.id == meeting))
            if known is None:
                continue
            coding = CodingInput(book_ids[book], meeting, nothing_found=not marks, marks=marks)
            if book == "other1":
                coding = dataclasses.replace(
                    coding,
                    marks=tuple(m for m in marks if m.code in WENGER_TYPES[:3]),
                    nothing_found=not any(m.code in WENGER_TYPES[:3] for m in marks),
                )
            if coder == CONSENSUS:
                await store.reconcile_coding(session, coding, "caj")
            else:
                await store.record_coding(session, coding, coder)
            done += 1
    return done


async def test_views_do_not_depend_on_order_batches_or_duplicates(two: Any) -> None:
    one, many = two
    net = network(seed=7)
    plan = codings_of(net, seed=5)
    await apply(one, [net.events])
    await code(one, await books(one), plan)
    # the other: codings saved while the events still arrive (meetings not yet moved, their
    # activities not yet recorded), a draft consensus replaced later, then the rest
    batches = scrambled(net.events, seed=11)
    ids = await books(many)
    half = len(batches) // 2
    await apply(many, batches[:half])
    drafts = [(b, m, c, marks[:1]) for b, m, c, marks in plan]
    assert 0 < await code(many, ids, drafts) < len(plan), "some meetings are not there yet"
    await apply(many, batches[half:])
    assert await code(many, ids, plan) == len(plan)
    expected = await facts(one)
    assert all(expected.values()), "the world has every kind of fact"
    counted = {r[0] for r in expected["fact_cop"] if r[1] == CONSENSUS}
    assert len(counted) > 5, "some meetings count their consensus"
    assert await facts(many) == expected
    async with many() as session, session.begin():
        assert await rebuild(session) == len(expected["fact_meetings"])
    assert await facts(many) == expected
    await check_brute_force(one)
    await check_workspace(one)


# -- brute force, straight from the raw tables ----------------------------------------------


def _utc(at: datetime) -> datetime:
    return rounded(at)  # type: ignore[no-any-return]


class Raw:
    """The raw read model, and each view recomputed from it for a scope."""

    acts: list[Any]
    meets: list[Any]
    people: list[Any]
    present: list[Any]
    polls: list[Any]
    answers: list[Any]
    inis: list[Any]
    ini_members: list[Any]
    groups_: list[Any]
    codings_: list[Any]
    marks_: list[Any]
    books_: list[Any]

    def __init__(self, tables: dict[str, Any]) -> None:
        self.__dict__.update(tables)
        self.day = {m.id: day_of(_utc(m.starts_at)) for m in self.meets}
        self.came: Counter[str] = Counter(p.meeting_id for p in self.present)
        self.group_region = {g.id: g.region for g in self.groups_}

    def inside(self, row: Any, day: date, s: Scope) -> bool:
        return (
            (s.region is None or row.region == s.region)
            and (s.group_id is None or row.group_id == s.group_id)
            and (s.from_ is None or day >= s.from_)
            and (s.to is None or day <= s.to)
        )

    @staticmethod
    def member_on(p: Any, day: date) -> bool:
        gone = p.status == "LEFT" and p.left_on is not None and p.left_on <= day
        return p.joined_on is not None and p.joined_on <= day and not gone

    def expected(self, m: Any) -> int:
        day = self.day[m.id]
        return sum(1 for p in self.people if p.group_id == m.group_id and self.member_on(p, day))

    def meetings_over_time(self, s: Scope) -> list[tuple[Any, ...]]:
        months: dict[str, list[Any]] = defaultdict(lambda: [set(), 0, 0, 0, 0])
        for m in self.meets:
            day = self.day[m.id]
            if m.status not in ("HELD", "CANCELLED") or not self.inside(m, day, s):
                continue
            cell = months[f"{day:%Y-%m}"]
            if m.status == "HELD":
                cell[0].add(m.group_id)
                cell[1] += 1
                cell[3] += self.came[m.id]
                cell[4] += self.expected(m)
            else:
                cell[2] += 1
        return [(k, len(v[0]), *v[1:]) for k, v in sorted(months.items())]

    def feedback(self, s: Scope) -> list[tuple[Any, ...]]:
        answers = defaultdict(list)
        for r in self.answers:
            answers[r.survey_id].append(r)
        months: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for sv in self.polls:
            day = self.day.get(sv.meeting_id)
            if sv.closed_at is None or day is None or not self.inside(sv, day, s):
                continue
            got = answers[sv.id]
            cell = months[f"{day:%Y-%m}"]
            if len(got) >= compute.K_ANONYMITY:
                cell[0] += 1
                cell[2] += len(got)
                cell[3] += sum(r.overall for r in got)
            else:
                cell[1] += 1
        return [(k, *v) for k, v in sorted(months.items())]

    def first_coder(self) -> dict[str, str]:
        first: dict[str, tuple[datetime, str]] = {}
        for a in self.acts:
            key = (_utc(a.recorded_at), a.coder_id or "")
            mine = [
                _utc(x.recorded_at)
                for x in self.acts
                if x.meeting_id == a.meeting_id and (x.coder_id or "") == key[1]
            ]
            key = (min(mine), key[1])
            first[a.meeting_id] = min(first.get(a.meeting_id, key), key)
        return {m: c for m, (_, c) in first.items()}

    def consensus(self) -> dict[str, list[Any]]:
        """meeting -> the marks of its consensus with the latest Wenger version."""
        version = {b.id: b.version for b in self.books_ if b.key == "wenger"}
        latest: dict[str, Any] = {}
        for c in self.codings_:
            if c.coder_id == CONSENSUS and c.codebook_id in version:
                known = latest.get(c.meeting_id)
                if known is None or version[c.codebook_id] > version[known.codebook_id]:
                    latest[c.meeting_id] = c
        return {m: [k for k in self.marks_ if k.coding_id == c.id] for m, c in latest.items()}

    def cop(
        self, s: Scope, only: str | None = None, by_year: bool = False
    ) -> list[tuple[Any, ...]]:
        """Each meeting's counted coder's records (``only``: the consensus's alone), per
        type (and year of the meeting's day)."""
        counted = self.first_coder()
        agreed = self.consensus()
        cells: dict[Any, list[Any]] = defaultdict(lambda: [0, set(), set()])

        def count(kind: str, meeting: str, group: str) -> None:
            cell = cells[(kind, self.day[meeting].year) if by_year else kind]
            cell[0] += 1
            cell[1].add(meeting)
            cell[2].add(group)

        for a in self.acts:
            if only or a.meeting_id in agreed or (a.coder_id or "") != counted[a.meeting_id]:
                continue
            if self.inside(a, self.day[a.meeting_id], s):
                count(a.activity_type, a.meeting_id, a.group_id)
        place = {c.meeting_id: c for c in self.codings_}
        for meeting, marks in agreed.items():
            if self.inside(place[meeting], self.day[meeting], s):
                for k in marks:
                    count(k.code, meeting, place[meeting].group_id)
        if by_year:
            return [(*k, v[0], len(v[1]), len(v[2])) for k, v in sorted(cells.items())]
        return [(k, v[0], len(v[1]), len(v[2])) for k, v in sorted(cells.items())]

    def group_months(self, s: Scope) -> list[tuple[Any, ...]]:
        """Per group and month: held, cancelled, attendees, expected."""
        return sorted(
            (g.id, r[0], *r[2:6])
            for g in self.groups_
            if s.region in (None, g.region) and s.group_id in (None, g.id)
            for r in self.meetings_over_time(Scope(g.region, g.id, s.from_, s.to))
        )

    def region_overview(self, region: str, s: Scope) -> tuple[Any, ...]:
        """A region's period figures: held meetings, the last one's start, attendees,
        expected, activities (counted), counted responses."""
        mine = Scope(region, None, s.from_, s.to)
        months = self.meetings_over_time(mine)
        starts = [
            _utc(m.starts_at)
            for m in self.meets
            if m.status == "HELD" and self.inside(m, self.day[m.id], mine)
        ]
        return (
            region,
            sum(r[2] for r in months),
            max(starts, default=None),
            sum(r[4] for r in months),
            sum(r[5] for r in months),
            sum(r[1] for r in self.cop(mine)),
            sum(r[3] for r in self.feedback(mine)),
        )

    def retention(self, s: Scope) -> list[tuple[int, int, int, int, int, int]]:
        mine = [
            p
            for p in self.people
            if p.joined_on is not None
            and (s.region is None or p.region == s.region)
            and (s.group_id is None or p.group_id == s.group_id)
        ]
        years = [p.joined_on.year for p in mine]
        years += [p.left_on.year for p in mine if p.status == "LEFT" and p.left_on]
        first, last = min(years), max(years)
        first = max(first, s.from_.year) if s.from_ else first
        last = min(last, s.to.year) if s.to else last
        out = []
        for year in range(first, last + 1):
            a = max(date(year, 1, 1), s.from_) if s.from_ else date(year, 1, 1)
            b = min(date(year, 12, 31), s.to) if s.to else date(year, 12, 31)
            before = a - timedelta(days=1)
            left = [p for p in mine if p.status == "LEFT" and p.left_on is not None]
            out.append(
                (
                    year,
                    sum(self.member_on(p, before) for p in mine),
                    sum(a <= p.joined_on <= b for p in mine),
                    sum(a <= p.left_on <= b for p in left),
                    sum(self.member_on(p, before) and self.member_on(p, b) for p in mine),
                    sum(self.member_on(p, b) for p in mine),
                )
            )
        return out

    def hosts(self, s: Scope) -> dict[str, tuple[Any, ...]]:
        out = {}
        for g in self.groups_:
            if (s.region and g.region != s.region) or (s.group_id and g.id != s.group_id):
                continue
            held = sorted(
                (
                    (self.day[m.id], m.id, m.host_member_id)
                    for m in self.meets
                    if m.group_id == g.id
                    and m.status == "HELD"
                    and m.host_member_id
                    and self.inside(m, self.day[m.id], Scope(None, None, s.from_, s.to))
                ),
            )
            by_host: dict[str, list[date]] = defaultdict(list)
            for day, _, host in held:
                by_host[host].append(day)
            gaps = [(y - x).days for days in by_host.values() for x, y in itertools.pairwise(days)]
            out[g.id] = (
                len(held),
                len(by_host),
                len(gaps),
                round(sum(gaps) / len(gaps), 6) if gaps else None,
                min(gaps) if gaps else None,
            )
        return out

    def coding(self, s: Scope) -> Counter[tuple[str, str, str, str]]:
        coded: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for a in self.acts:
            if a.coder_id and self.inside(a, self.day[a.meeting_id], s):
                coded[a.meeting_id][a.coder_id].add(a.activity_type)
        table: Counter[tuple[str, str, str, str]] = Counter()
        for by in coded.values():
            names = sorted(by)
            for i, x in enumerate(names):
                for y in names[i + 1 :]:
                    for kind in WENGER_TYPES:
                        cell = ("both", "a_only", "b_only", "neither")[
                            (0 if kind in by[x] else 2) + (0 if kind in by[y] else 1)
                        ]
                        table[(x, y, kind, cell)] += 1
        return table

    def initiatives(self, s: Scope) -> list[tuple[Any, ...]]:
        chosen = {
            i.id: i.status
            for i in self.inis
            if self.inside(i, i.started_on, s)
            if i.started_on is not None
        }
        per: dict[str, list[Any]] = defaultdict(lambda: [0, set(), 0])
        for status in chosen.values():
            per[status][0] += 1
        for link in self.ini_members:
            if link.initiative_id in chosen:
                per[chosen[link.initiative_id]][1].add(link.member_id)
                per[chosen[link.initiative_id]][2] += 1
        return [(k, v[0], len(v[1]), v[2]) for k, v in sorted(per.items())]


async def raw(sessions: Sessions) -> Raw:
    async with sessions() as session:
        tables = {
            name: (await session.execute(select(table))).all()
            for name, table in (
                ("acts", activities),
                ("meets", meetings),
                ("people", members),
                ("present", attendance),
                ("polls", surveys),
                ("answers", survey_responses),
                ("inis", initiatives),
                ("ini_members", initiative_members),
                ("groups_", groups),
                ("codings_", codings),
                ("marks_", coding_marks),
                ("books_", codebooks),
            )
        }
    return Raw(tables)


def scopes(world: Raw) -> list[Scope]:
    """National, each region, a group, and exact-day periods whose edges fall on meeting
    days (so a day too many or too few changes the answer)."""
    group = sorted(world.groups_, key=lambda g: g.id)[0]
    days = sorted(set(world.day.values()))
    a, b = days[len(days) // 4], days[3 * len(days) // 4]
    return [
        Scope(),
        Scope("oulu"),
        Scope("lappi"),
        Scope(group.region, group.id),
        Scope(None, group.id),
        Scope(None, None, a, b),
        Scope(None, None, a + timedelta(days=1), b - timedelta(days=1)),
        Scope("oulu", None, a, None),
        Scope(None, None, None, b),
        Scope(group.region, group.id, a, b),
    ]


async def check_cop_examples(run: Any, s: Scope) -> None:
    """Each copActivityTable cell's example (per type, and per year) is the text of one of
    the counted CoP facts on the first day of that cell in the scope's period (ties on the
    day are ordered by meeting id, which collations order differently)."""
    c = fact_cop.c
    rows = await run(
        select(c.activity_type, c.day, c.example).where(c.counted == 1, *queries.where(fact_cop, s))
    )
    for by_year in (False, True):
        firsts: dict[Any, tuple[date, set[str]]] = {}
        for kind, day, text in rows:
            key = (kind, day.year if by_year else None)
            first = firsts.get(key)
            if first is None or day < first[0]:
                firsts[key] = (day, {text})
            elif day == first[0]:
                first[1].add(text)
        got = {(r[0], r[1]): r[5] for r in await run(queries.cop_table(s, True, by_year=by_year))}
        assert set(got) == set(firsts), (s, by_year)
        for key, text in got.items():
            assert text in firsts[key][1], (s, key, text)


def _whole_months(s: Scope) -> Scope:
    """``s`` with its period shrunk to whole months (the first of a month, a month's end)."""
    start = s.from_ and (s.from_ + timedelta(days=31)).replace(day=1)
    end = s.to and s.to.replace(day=1) - timedelta(days=1)
    return Scope(s.region, s.group_id, start, end)


async def check_brute_force(sessions: Sessions) -> None:
    world = await raw(sessions)
    # the facts follow their meeting's (possibly moved) start, by its Helsinki day
    for a in world.acts:
        assert _utc(a.meeting_starts_at) == _utc(
            next(m.starts_at for m in world.meets if m.id == a.meeting_id)
        )
    assert any(d != _utc(m.starts_at).date() for m in world.meets for d in [world.day[m.id]])

    async def run(query: Any) -> list[tuple[Any, ...]]:
        async with sessions() as session:
            return [tuple(rounded(v) for v in r) for r in (await session.execute(query)).all()]

    checked = edged = 0
    for s in scopes(world):
        got = await run(queries.meetings_over_time(s))
        assert got == world.meetings_over_time(s), s
        got = [r[:3] + r[4:6] for r in await run(queries.feedback_trend(s))]
        assert got == world.feedback(s), s
        got = [r[:1] + r[2:5] for r in await run(queries.cop_table(s, examples=True))]
        assert got == world.cop(s), s
        got = [r[:5] for r in await run(queries.cop_table(s, True, by_year=True))]
        assert got == world.cop(s, by_year=True), s
        await check_cop_examples(run, s)
        got = [r[:1] + r[2:5] for r in await run(queries.cop_table(s, True, coder=CONSENSUS))]
        assert got == world.cop(s, only=CONSENSUS), s
        async with sessions() as session:
            spans = (await session.execute(queries.member_spans(s))).all()
        assert queries.retention(spans, s) == world.retention(s), s
        ids = list(world.hosts(s))
        rows = await run(queries.host_rotation(s, ids))
        assert {r[0]: (*r[3:6], None if r[6] is None else round(r[6], 6), r[7]) for r in rows} == (
            world.hosts(s)
        ), s
        table = world.coding(s)
        for a, b, kind, *cells in await run(queries.coding(s)):
            for name, value in zip(("both", "a_only", "b_only", "neither"), cells, strict=True):
                assert table[(a, b, kind, name)] == value, s
        assert sum(sum(r[3:]) for r in await run(queries.coding(s))) == sum(table.values())
        assert await run(queries.initiative_statuses(s)) == world.initiatives(s), s
        for months in (s, _whole_months(s)):
            rolled = queries.group_months_rolled(months)
            if rolled is not None:
                got = sorted(r[:2] + r[3:7] for r in await run(rolled[0]))
                assert got == world.group_months(months), months
                async with sessions() as session:
                    assert await session.scalar(rolled[1]) == len(got), months
                checked += bool(got)
                edged += bool(got) and bool(queries.split(months.from_, months.to).edges)
        if s.region is None and s.group_id is None:
            rows = await run(queries.region_overview(s))
            got = [(*r[:1], *r[3:8], r[9]) for r in sorted(rows)]
            assert got == [world.region_overview(r[0], s) for r in sorted(rows)], s
        checked += bool(world.cop(s)) + bool(world.feedback(s))
    assert checked > 10, "the scopes are not empty"
    assert edged >= 3, "group months of partial first and last months were compared"
    assert any(r[2] for r in world.feedback(Scope())), "some surveys are withheld (< 3)"


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
        expected = await facts(sessions)
        async with sessions() as session, session.begin():  # as before 0006: no facts yet
            for table in FACT_TABLES:
                await session.execute(delete(table))
        assert not any((await facts(sessions)).values())
        assert await rebuild_if_marked(sessions) is True
        assert await facts(sessions) == expected
        assert await rebuild_if_marked(sessions) is False  # done once
        async with sessions() as session:
            state = (await session.execute(select(view_state))).one()
        assert state.needs_rebuild is False
        assert state.rebuilt_at is not None
    finally:
        await engine.dispose()


# -- the workspace's facts against the codings ------------------------------------------------

RESEARCHER = Guard(Role.RESEARCHER, token_id="r")


async def check_workspace(sessions: Sessions) -> None:
    """Table 1's counts and examples and everyone's agreement counts from the facts, for
    every codebook, coder and scope, against brute force over the codings."""
    world = await raw(sessions)
    place = {m.id: m for m in world.meets}
    marks_of: dict[str, list[Any]] = defaultdict(list)
    for k in world.marks_:
        marks_of[k.coding_id].append(k)
    checked = 0
    for s in [*scopes(world), Scope("lappi", sorted(world.groups_, key=lambda g: g.region)[-1].id)]:
        ws = Workspace(s.from_, s.to, s.region, s.group_id)
        mine = [c for c in world.codings_ if world.inside(c, world.day[c.meeting_id], s)]
        for book in world.books_:
            for coder in (CONSENSUS, "anna", "bo", "cy"):
                cells: dict[str, list[Any]] = defaultdict(lambda: [set(), set(), 0])
                shown: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
                for c in mine:
                    if c.codebook_id != book.id or c.coder_id != coder:
                        continue
                    per: dict[str, list[Any]] = defaultdict(list)
                    for k in marks_of[c.id]:
                        per[k.code].append(k)
                        cells[k.code][0].add(c.group_id)
                        cells[k.code][1].add(c.meeting_id)
                        cells[k.code][2] += 1
                    for code, ks in per.items():
                        text = shown_example(ks)
                        if text:
                            at = _utc(place[c.meeting_id].starts_at)
                            featured = any(k.featured for k in ks)
                            shown[code].append((featured, at, c.meeting_id, text))
                expected = {k: (len(v[0]), len(v[1]), v[2]) for k, v in cells.items()}
                async with sessions() as session:
                    where = await counts.resolve(session, ws, RESEARCHER)
                    got = await counts.table1_counts(session, book.id, coder, where)
                    examples = await counts.table1_examples(
                        session, book.id, coder, where, sorted({*shown, WENGER_TYPES[-1]}), 2
                    )
                assert got == expected, (s, book.key, coder)
                assert {
                    code: [(r.meeting_id, r.example) for r, _name in rows]
                    for code, rows in examples.items()
                    if rows
                } == {
                    code: [x[2:] for x in sorted(xs, reverse=True)[:2]]
                    for code, xs in shown.items()
                }, s
                checked += bool(expected)
            # agreement of everyone who coded with the book in the scope
            by: dict[str, dict[str, frozenset[str]]] = defaultdict(dict)
            for c in mine:
                if c.codebook_id == book.id and c.coder_id != CONSENSUS:
                    by[c.meeting_id][c.coder_id] = frozenset(k.code for k in marks_of[c.id])
            coders = tuple(sorted({coder for units in by.values() for coder in units}))
            want = agreement.count(by, coders)
            async with sessions() as session:
                where = await counts.resolve(session, ws, RESEARCHER)
                have = await counts.agreement_counts(session, book.id, where)
            assert (have.coders, have.units, have.first, have.second) == (
                want.coders,
                want.units,
                want.first,
                want.second,
            ), (s, book.key)
            assert {c: +v for c, v in have.applied.items() if +v} == {
                c: +v for c, v in want.applied.items() if +v
            }, (s, book.key)
            checked += len(coders) == 2 and bool(want.units)
    assert checked > 20, "the scopes are not empty"
