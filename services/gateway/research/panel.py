"""The longitudinal panel: interviews per pseudonymous person with their waves, growth
intentions and barriers by year and by join cohort, retention by join cohort (survival per
year in the network), and firm size by year.

Interviews: the ``interviews`` read model with each one's ``person_key``
(:mod:`.panel_keys`; none for interviews that name no person, or whose person was erased).
A person's waves are their interviews in date order (1, 2, ...), counted over all of them,
whatever the period asked. Join cohort: the calendar year the member company joined.
Periods are of interview days (intentions) or join days (retention), exact and inclusive.
Rows are guarded like every listing: researchers see all regions, an agency its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, case, extract, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.auth.guard import Guard, Level
from services.gateway.auth.sql import visible
from services.gateway.orm import interviews, members
from services.gateway.research.scope import Scope
from services.gateway.research.tables import panel_persons
from services.gateway.statuses import MemberStatus
from shared.contracts.feedback import GROWTH_BARRIERS

LEFT = MemberStatus.LEFT


@dataclass(frozen=True)
class PanelInterview:
    id: str
    person_key: str | None
    wave: int | None
    region: str
    member_id: str
    group_id: str | None
    join_cohort: int | None
    interviewed_on: date
    intends_to_grow: str
    planned_hires: int
    barriers: tuple[str, ...]


def _member_terms(
    scope: Scope, guard: Guard, level: Level = Level.FULL
) -> list[ColumnElement[bool]]:
    m = members.c
    where: list[ColumnElement[bool]] = list(visible(guard, m.region, level))
    if scope.region is not None:
        where.append(m.region == scope.region)
    if scope.group_id is not None:
        where.append(m.group_id == scope.group_id)
    return where


async def _waves(session: AsyncSession, persons: set[tuple[str, str]]) -> dict[str, int]:
    """interview id -> its wave, for every interview of ``persons`` ((region, key) pairs):
    only the persons of the rows asked for are read, whatever the whole panel's size."""
    i, p = interviews.c, panel_persons.c
    waves: dict[str, int] = {}
    ordered = sorted(persons)
    for start in range(0, len(ordered), 200):
        chunk = ordered[start : start + 200]
        query = (
            select(p.region, p.person_key, i.id, i.interviewed_on)
            .select_from(panel_persons.join(interviews, i.id == p.interview_id))
            .where(tuple_(p.region, p.person_key).in_(chunk))
        )
        seen: dict[tuple[str, str], list[tuple[date, str]]] = {}
        for region, key, interview, day in await session.execute(query):
            seen.setdefault((region, key), []).append((day, interview))
        for found in seen.values():
            for n, (_day, interview) in enumerate(sorted(found), start=1):
                waves[interview] = n
    return waves


async def panel_interviews(
    session: AsyncSession,
    scope: Scope,
    guard: Guard,
    *,
    first: int | None = None,
    after: tuple[date, str] | None = None,
    waves: bool = True,
) -> list[PanelInterview]:
    """Interviews in the period (interview days), by day and id."""
    i, p, m = interviews.c, panel_persons.c, members.c
    query = (
        select(interviews, p.person_key, m.group_id, m.joined_on)
        .select_from(
            interviews.outerjoin(panel_persons, p.interview_id == i.id).outerjoin(
                members, m.id == i.member_id
            )
        )
        .where(*list(visible(guard, i.region)))
    )
    if scope.region is not None:
        query = query.where(i.region == scope.region)
    if scope.group_id is not None:
        query = query.where(m.group_id == scope.group_id)
    if scope.from_ is not None:
        query = query.where(i.interviewed_on >= scope.from_)
    if scope.to is not None:
        query = query.where(i.interviewed_on <= scope.to)
    if after is not None:
        query = query.where(tuple_(i.interviewed_on, i.id) > tuple_(*after))
    query = query.order_by(i.interviewed_on, i.id)
    if first is not None:
        query = query.limit(first)
    rows = list(await session.execute(query))
    persons = {(r.region, r.person_key) for r in rows if r.person_key is not None}
    wave = await _waves(session, persons) if waves and persons else {}
    return [
        PanelInterview(
            id=r.id,
            person_key=r.person_key,
            wave=wave.get(r.id) if r.person_key is not None and waves else None,
            region=r.region,
            member_id=r.member_id,
            group_id=r.group_id,
            join_cohort=None if r.joined_on is None else r.joined_on.year,
            interviewed_on=r.interviewed_on,
            intends_to_grow=r.intends_to_grow,
            planned_hires=r.planned_hires,
            barriers=tuple(b for b in r.barriers.split(",") if b),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class IntentionCell:
    period: int  # the interview year, or the join cohort
    interviews: int
    persons: int  # distinct person keys
    members: int  # distinct member companies
    yes: int
    no: int
    unsure: int
    planned_hires_mean: float | None
    barriers: tuple[tuple[str, int], ...]  # every barrier, in the contract's order


async def growth_intentions(
    session: AsyncSession,
    scope: Scope,
    guard: Guard,
    *,
    by: str = "year",
    level: Level = Level.FULL,
    min_members: int = 0,
) -> list[IntentionCell]:
    """Intentions and barriers by interview year (``by="year"``) or join cohort, counted
    in SQL (one row per period)."""
    i, p, m = interviews.c, panel_persons.c, members.c
    period = extract("year", i.interviewed_on if by == "year" else m.joined_on).label("period")
    listed = literal(",") + i.barriers + literal(",")
    said = {
        answer: func.sum(case((i.intends_to_grow == answer, 1), else_=0)).label(answer)
        for answer in ("yes", "no", "unsure")
    }
    named = [
        func.sum(case((listed.like(f"%,{b},%"), 1), else_=0)).label(f"b_{b}")
        for b in GROWTH_BARRIERS
    ]
    query = (
        select(
            period,
            func.count().label("interviews"),
            func.count(func.distinct(p.person_key)).label("persons"),
            func.count(func.distinct(i.member_id)).label("members"),
            *said.values(),
            func.avg(i.planned_hires).label("hires"),
            *named,
        )
        .select_from(
            interviews.outerjoin(panel_persons, p.interview_id == i.id).outerjoin(
                members, m.id == i.member_id
            )
        )
        .where(*list(visible(guard, i.region, level)), period.is_not(None))
        .group_by(period)
        .order_by(period)
    )
    if scope.region is not None:
        query = query.where(i.region == scope.region)
    if scope.group_id is not None:
        query = query.where(m.group_id == scope.group_id)
    if scope.from_ is not None:
        query = query.where(i.interviewed_on >= scope.from_)
    if scope.to is not None:
        query = query.where(i.interviewed_on <= scope.to)
    return [
        IntentionCell(
            period=int(r.period),
            interviews=int(r.interviews),
            persons=int(r.persons),
            members=int(r.members),
            yes=int(r.yes),
            no=int(r.no),
            unsure=int(r.unsure),
            planned_hires_mean=None if r.hires is None else float(r.hires),
            barriers=tuple((b, int(getattr(r, f"b_{b}"))) for b in GROWTH_BARRIERS),
        )
        for r in await session.execute(query)
        if int(r.members) >= min_members  # k-anonymity for callers without the rows
    ]


@dataclass(frozen=True)
class Survival:
    years: int  # years in the network
    at_risk: int  # members whose n-th anniversary has come (by ``today``)
    retained: int  # of them, still members on it
    rate: float | None


@dataclass(frozen=True)
class CohortRetention:
    cohort: int
    joined: int
    survival: tuple[Survival, ...]


def _anniversary(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


async def retention_by_cohort(
    session: AsyncSession,
    scope: Scope,
    guard: Guard,
    today: date,
    *,
    level: Level = Level.FULL,
    min_members: int = 0,
) -> list[CohortRetention]:
    """Per join cohort, the share of members still in the network n years after joining
    (a member who paused is still in; one who left is out from the day it left).

    Members are counted in SQL per (joined_on, left day); each such span is then a number
    of anniversaries passed by ``today`` and a number of them it was still in on, so the
    figures are counts of those (no loop over members or years x members)."""
    m = members.c
    query = select(
        m.joined_on, case((m.status == LEFT, m.left_on), else_=None).label("gone")
    ).where(m.joined_on.is_not(None), *_member_terms(scope, guard, level))
    if scope.from_ is not None:
        query = query.where(m.joined_on >= scope.from_)
    if scope.to is not None:
        query = query.where(m.joined_on <= scope.to)
    spans = query.subquery("spans")
    grouped = select(spans.c.joined_on, spans.c.gone, func.count().label("n")).group_by(
        spans.c.joined_on, spans.c.gone
    )
    joined: dict[int, int] = {}
    passed: dict[int, dict[int, int]] = {}  # cohort -> anniversaries passed -> members
    stayed: dict[int, dict[int, int]] = {}  # cohort -> anniversaries still in -> members
    for joined_on, gone, n in await session.execute(grouped):
        cohort = joined_on.year
        joined[cohort] = joined.get(cohort, 0) + n
        due = _anniversaries_by(joined_on, today)
        kept = due if gone is None else min(due, _anniversaries_before(joined_on, gone))
        for found, count in ((passed, due), (stayed, kept)):
            if count > 0:
                by = found.setdefault(cohort, {})
                by[count] = by.get(count, 0) + n
    result = []
    for cohort, people in sorted(joined.items()):
        if people < min_members:
            continue
        due_from, kept_from = _at_least(passed.get(cohort, {})), _at_least(stayed.get(cohort, {}))
        survival = []
        for n in range(1, today.year - cohort + 1):
            due = due_from.get(n, 0)
            if due < max(1, min_members):
                break
            kept = kept_from.get(n, 0)
            survival.append(Survival(n, due, kept, kept / due))
        result.append(CohortRetention(cohort, people, tuple(survival)))
    return result


def _anniversaries_by(joined_on: date, day: date) -> int:
    """How many anniversaries of ``joined_on`` fell on or before ``day``."""
    n = day.year - joined_on.year
    if n > 0 and _anniversary(joined_on, n) > day:
        n -= 1
    return max(n, 0)


def _anniversaries_before(joined_on: date, gone: date) -> int:
    """How many anniversaries of ``joined_on`` fell before ``gone`` (the member was still
    in on them)."""
    n = gone.year - joined_on.year
    if n > 0 and _anniversary(joined_on, n) >= gone:
        n -= 1
    return max(n, 0)


def _at_least(counts: dict[int, int]) -> dict[int, int]:
    """{k: members} -> {n: members with k >= n} for n = 1..max k."""
    out: dict[int, int] = {}
    running = 0
    for n in range(max(counts, default=0), 0, -1):
        running += counts.get(n, 0)
        out[n] = running
    return out


@dataclass(frozen=True)
class FirmSize:
    year: int
    firms: int  # member companies in the network at the end of the year (or today)
    employees_mean: float | None
    employees_median: float | None
    turnover_mean_eur: float | None


async def firm_size_by_year(
    session: AsyncSession,
    scope: Scope,
    guard: Guard,
    today: date,
    *,
    level: Level = Level.FULL,
    min_members: int = 0,
) -> list[FirmSize]:
    """Per calendar year, the member companies in the network at its end and their size as
    the national data knows it: reported when they joined (no later size reaches it yet).

    Counted in SQL per (join year, joined after ``today``, year it left by ``today``,
    employees), with the turnover's sum: a year's firms are the rows joined by its end and
    not left by it; the median is read off the employees' counts."""
    m = members.c
    gone = and_(m.status == LEFT, m.left_on.is_not(None), m.left_on <= today)
    firms = (
        select(
            extract("year", m.joined_on).label("joined"),
            case((m.joined_on > today, 1), else_=0).label("later"),
            case((gone, extract("year", m.left_on)), else_=None).label("left"),
            m.employees,
            m.turnover_eur,
        )
        .where(m.joined_on.is_not(None), *_member_terms(scope, guard, level))
        .subquery("firms")
    )
    f = firms.c
    keys = (f.joined, f.later, f.left, f.employees)
    query = select(
        *keys,
        func.count().label("n"),
        func.count(f.turnover_eur).label("turnovers"),
        func.coalesce(func.sum(f.turnover_eur), 0).label("turnover"),
    ).group_by(*keys)
    rows = [
        _Firms(
            int(r.joined),
            bool(r.later),
            None if r.left is None else int(r.left),
            r.employees,
            int(r.n),
            int(r.turnovers),
            int(r.turnover),
        )
        for r in await session.execute(query)
    ]
    if not rows:
        return []
    first = min(r.joined for r in rows)
    last = today.year
    if scope.from_ is not None:
        first = max(first, scope.from_.year)
    if scope.to is not None:
        last = min(last, scope.to.year)
    result = []
    for year in range(first, last + 1):
        # at the year's end (today for this year): joined by it, not left by it
        inside = [
            r
            for r in rows
            if not r.later and r.joined <= year and (r.left is None or r.left > year)
        ]
        count = sum(r.n for r in inside)
        if count < min_members:
            continue
        staff: dict[int, int] = {}
        for r in inside:
            if r.employees is not None:
                staff[r.employees] = staff.get(r.employees, 0) + r.n
        staffed = sum(staff.values())
        turnovers = sum(r.turnovers for r in inside)
        result.append(
            FirmSize(
                year=year,
                firms=count,
                employees_mean=sum(e * n for e, n in staff.items()) / staffed if staffed else None,
                employees_median=_median(staff) if staffed else None,
                turnover_mean_eur=(
                    sum(r.turnover for r in inside) / turnovers if turnovers else None
                ),
            )
        )
    return result


@dataclass(frozen=True)
class _Firms:
    """Member companies alike for :func:`firm_size_by_year`: ``n`` of them."""

    joined: int  # join year
    later: bool  # joined after today
    left: int | None  # the year they left, if by today
    employees: int | None
    n: int
    turnovers: int  # of them, with a turnover
    turnover: int  # its sum


def _median(counts: dict[int, int]) -> float:
    """The median of values given as {value: how many} (as statistics.median would)."""
    total = sum(counts.values())
    wanted = [(total - 1) // 2, total // 2]  # the middle one, or the two middle ones
    found: list[int] = []
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        while wanted and wanted[0] < seen:
            found.append(value)
            wanted.pop(0)
    return (found[0] + found[1]) / 2
