"""Retention by join cohort and firm size by year, counted in SQL per kind of member
(services/gateway/research/panel.py), against a brute-force computation member by member,
on SQLite and PostgreSQL: random members (29 February joins, members who left, left
without a day, paused, joined after "today", without a size), every scope, several
"todays" (a leap day, the day before an anniversary), with and without k-anonymity."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from statistics import fmean, median
from typing import Any

import pytest
from sqlalchemy import insert

from services.gateway.auth.guard import Guard, Level, Role
from services.gateway.orm import interviews, members, metadata
from services.gateway.research import panel
from services.gateway.research.scope import Scope
from services.gateway.research.tables import panel_persons
from shared.contracts.feedback import GROWTH_BARRIERS
from shared.storage import create_engine, create_schema, session_factory

RESEARCHER = Guard(Role.RESEARCHER, token_id="r00000000001")
REGIONS = ("oulu", "lappi", "kainuu")
TODAYS = (date(2024, 2, 29), date(2025, 2, 28), date(2026, 6, 1), date(2026, 12, 31))


@dataclass(frozen=True)
class Member:
    id: str
    region: str
    group_id: str
    status: str
    joined_on: date
    left_on: date | None
    employees: int | None
    turnover_eur: int | None


def _members(rng: random.Random) -> list[Member]:
    groups = {r: [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(3)] for r in REGIONS}
    out = []
    for _ in range(400):
        region = rng.choice(REGIONS)
        joined = date(2012, 1, 1) + timedelta(days=rng.randrange(15 * 366))
        if rng.random() < 0.05:
            joined = date(rng.choice((2012, 2016, 2020, 2024)), 2, 29)
        status = rng.choice(("ACTIVE", "ACTIVE", "PAUSED", "LEFT", "LEFT"))
        left = None
        if status == "LEFT" and rng.random() < 0.9:
            left = joined + timedelta(days=rng.randrange(-30, 8 * 366))
            if rng.random() < 0.1:  # on an anniversary
                left = joined.replace(year=min(joined.year + rng.randrange(1, 5), 2028), day=28)
        elif rng.random() < 0.1:  # a left day kept from before a rejoin
            left = joined + timedelta(days=rng.randrange(400))
        out.append(
            Member(
                id=str(uuid.UUID(int=rng.getrandbits(128))),
                region=region,
                group_id=rng.choice(groups[region]),
                status=status,
                joined_on=joined,
                left_on=left,
                employees=None if rng.random() < 0.1 else rng.randrange(1, 12),
                turnover_eur=None if rng.random() < 0.1 else rng.randrange(10**6) * 10**3,
            )
        )
    return out


def _anniversary(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _in_scope(m: Member, scope: Scope) -> bool:
    return (scope.region is None or m.region == scope.region) and (
        scope.group_id is None or m.group_id == scope.group_id
    )


def brute_retention(
    people: list[Member], scope: Scope, today: date, min_members: int
) -> list[panel.CohortRetention]:
    """Member by member, year by year (the computation before the SQL counts)."""
    cohorts: dict[int, list[tuple[date, date | None]]] = {}
    for m in people:
        if not _in_scope(m, scope):
            continue
        if (scope.from_ and m.joined_on < scope.from_) or (scope.to and m.joined_on > scope.to):
            continue
        gone = m.left_on if m.status == "LEFT" else None
        cohorts.setdefault(m.joined_on.year, []).append((m.joined_on, gone))
    result = []
    for cohort, them in sorted(cohorts.items()):
        if len(them) < min_members:
            continue
        survival = []
        for n in range(1, today.year - cohort + 1):
            due = [(j, g) for j, g in them if _anniversary(j, n) <= today]
            if len(due) < max(1, min_members):
                break
            kept = sum(1 for j, g in due if g is None or g > _anniversary(j, n))
            survival.append(panel.Survival(n, len(due), kept, kept / len(due)))
        result.append(panel.CohortRetention(cohort, len(them), tuple(survival)))
    return result


def brute_firm_size(
    people: list[Member], scope: Scope, today: date, min_members: int
) -> list[panel.FirmSize]:
    firms = [m for m in people if _in_scope(m, scope)]
    if not firms:
        return []
    years = range(
        max([min(f.joined_on.year for f in firms)] + ([scope.from_.year] if scope.from_ else [])),
        min([today.year] + ([scope.to.year] if scope.to else [])) + 1,
    )
    result = []
    for year in years:
        end = min(date(year, 12, 31), today)
        inside = [
            f
            for f in firms
            if f.joined_on <= end
            and not (f.status == "LEFT" and f.left_on is not None and f.left_on <= end)
        ]
        if len(inside) < min_members:
            continue
        staff = [f.employees for f in inside if f.employees is not None]
        turnover = [f.turnover_eur for f in inside if f.turnover_eur is not None]
        result.append(
            panel.FirmSize(
                year=year,
                firms=len(inside),
                employees_mean=fmean(staff) if staff else None,
                employees_median=float(median(staff)) if staff else None,
                turnover_mean_eur=fmean(turnover) if turnover else None,
            )
        )
    return result


Said = tuple[dict[str, Any], str | None]  # an interview row, its person key


def _interviews(rng: random.Random, people: list[Member]) -> list[Said]:
    """Interviews of most members, 1-3 each, by persons of a small pool per region (a
    person may speak for several companies), some without a person key."""
    keys = {r: [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(40)] for r in REGIONS}
    out: list[Said] = []
    for m in people:
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            listed = rng.sample(GROWTH_BARRIERS, rng.randrange(4))
            row = {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "region": m.region,
                "member_id": m.id,
                "interviewed_on": date(2013, 1, 1) + timedelta(days=rng.randrange(14 * 365)),
                "intends_to_grow": rng.choice(("yes", "no", "unsure")),
                "planned_hires": rng.randrange(5),
                "barriers": ",".join(listed),
                "version": 1,
            }
            out.append((row, None if rng.random() < 0.15 else rng.choice(keys[m.region])))
    return out


def brute_intentions(
    people: list[Member], said: list[Said], scope: Scope, by: str, min_members: int
) -> list[panel.IntentionCell]:
    member = {m.id: m for m in people}
    cells: dict[int, list[Said]] = {}
    for row, key in said:
        m, day = member[row["member_id"]], row["interviewed_on"]
        if (scope.region and row["region"] != scope.region) or (
            scope.group_id and m.group_id != scope.group_id
        ):
            continue
        if (scope.from_ and day < scope.from_) or (scope.to and day > scope.to):
            continue
        cells.setdefault(day.year if by == "year" else m.joined_on.year, []).append((row, key))
    out = []
    for period, them in sorted(cells.items()):
        rows = [r for r, _k in them]
        if len({r["member_id"] for r in rows}) < min_members:
            continue
        out.append(
            panel.IntentionCell(
                period=period,
                interviews=len(rows),
                persons=len({k for _r, k in them if k is not None}),
                members=len({r["member_id"] for r in rows}),
                yes=sum(r["intends_to_grow"] == "yes" for r in rows),
                no=sum(r["intends_to_grow"] == "no" for r in rows),
                unsure=sum(r["intends_to_grow"] == "unsure" for r in rows),
                planned_hires_mean=fmean(r["planned_hires"] for r in rows),
                barriers=tuple(
                    (b, sum(b in r["barriers"].split(",") for r in rows)) for b in GROWTH_BARRIERS
                ),
            )
        )
    return out


@pytest.fixture
async def filled(database_url: str) -> AsyncIterator[tuple[Any, list[Member]]]:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    people = _members(random.Random(11))
    async with sessions() as session, session.begin():
        await session.execute(
            insert(members),
            [
                {
                    "id": m.id,
                    "region": m.region,
                    "group_id": m.group_id,
                    "active": m.status == "ACTIVE",
                    "status": m.status,
                    "joined_on": m.joined_on,
                    "left_on": m.left_on,
                    "employees": m.employees,
                    "turnover_eur": m.turnover_eur,
                    "version": 1,
                }
                for m in people
            ],
        )
        said = _interviews(random.Random(12), people)
        await session.execute(insert(interviews), [r for r, _key in said])
        keyed = [{"interview_id": r["id"], "region": r["region"], "person_key": k} for r, k in said]
        await session.execute(insert(panel_persons), [k for k in keyed if k["person_key"]])
    try:
        yield sessions, people
    finally:
        await engine.dispose()


def _scopes(people: list[Member]) -> list[Scope]:
    group = people[0].group_id
    return [
        Scope(),
        Scope(region="lappi"),
        Scope(group_id=group),
        Scope(date(2019, 1, 1), date(2019, 12, 31)),
        Scope(date(2016, 2, 29), date(2021, 7, 9), region="oulu"),
        Scope(date(2030, 1, 1), None),
        Scope(date(2020, 1, 1), date(2019, 1, 1)),
    ]


async def _compare(filled: tuple[Any, list[Member]], view: Any, brute: Any) -> int:
    """``view``'s answer for every scope, today and threshold equals ``brute``'s; how many
    rows were compared."""
    sessions, people = filled
    compared = 0
    async with sessions() as session:
        for scope in _scopes(people):
            for today in TODAYS:
                for k in (0, 3, 40):
                    found = await view(
                        session, scope, RESEARCHER, today, level=Level.FULL, min_members=k
                    )
                    assert found == brute(people, scope, today, k), (scope, today, k)
                    compared += sum(len(getattr(row, "survival", (row,))) for row in found)
    return compared


async def test_retention_by_cohort_equals_member_by_member(
    filled: tuple[Any, list[Member]],
) -> None:
    assert await _compare(filled, panel.retention_by_cohort, brute_retention) > 500


async def test_firm_size_by_year_equals_member_by_member(filled: tuple[Any, list[Member]]) -> None:
    assert await _compare(filled, panel.firm_size_by_year, brute_firm_size) > 200


def _means(cells: list[panel.IntentionCell]) -> list[tuple[int, float | None]]:
    return [
        (c.period, None if c.planned_hires_mean is None else round(c.planned_hires_mean, 9))
        for c in cells
    ]


async def test_growth_intentions_equal_interview_by_interview(
    filled: tuple[Any, list[Member]],
) -> None:
    sessions, people = filled
    said = _interviews(random.Random(12), people)
    compared = 0
    async with sessions() as session:
        for scope in _scopes(people):
            for by in ("year", "cohort"):
                for k in (0, 3, 15):
                    found = await panel.growth_intentions(
                        session, scope, RESEARCHER, by=by, level=Level.FULL, min_members=k
                    )
                    expected = brute_intentions(people, said, scope, by, k)
                    assert _means(found) == _means(expected)  # PostgreSQL's avg is numeric
                    exact = [replace(c, planned_hires_mean=None) for c in found]
                    assert exact == [replace(c, planned_hires_mean=None) for c in expected], (
                        scope,
                        by,
                        k,
                    )
                    compared += len(found)
    assert compared > 100
