"""The workspace's facts: Table 1 and agreement as index-range queries, kept per meeting.

Unit rows, a function of one meeting's codings (and its day): ``fact_marks`` (per codebook,
coder or consensus, meeting and code: marks, the example shown) and ``fact_coded`` (per
codebook, meeting and coder: coded, "nothing found" included). Sums over the units, per
scope key (:func:`scope_keys`: the nation, the meeting's region, its group):
``fact_mark_totals`` (per codebook, coder and code over all time: meetings, marks, distinct
groups), ``fact_agree_days`` and ``fact_agree_coders`` (per day: agreement's counts,
:class:`services.gateway.research.agreement.Counts`, and who coded).

:func:`recount` is the one way they are kept: it recomputes the unit rows of the meetings
given, and adds to the sums what :func:`contributions` of the new units minus those of the
old ones gives; a rebuild is the same with no old units. It runs inside
:func:`services.gateway.views.facts.apply`, so a saved coding (research/store.py) and a moved
meeting (the projection) keep them in their own transaction, like the research views.
Distinct groups are not a sum: a group's own total row counts 1 while it has meetings, and
the nation's and region's ``groups`` move when a group's row appears or disappears.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.auth.guard import Guard
from services.gateway.orm import groups, meetings
from services.gateway.projections.sql import upsert
from services.gateway.research.agreement import Counts
from services.gateway.research.coding import shown_example
from services.gateway.research.scope import Scope, day_start
from services.gateway.research.tables import (
    CONSENSUS,
    WORKSPACE_FACTS,
    coding_marks,
    codings,
    fact_agree_coders,
    fact_agree_days,
    fact_coded,
    fact_mark_totals,
    fact_marks,
)
from services.gateway.views.days import day_of
from shared.storage.chunks import chunks
from shared.storage.keys import among

NATION = ""
KEYS_CHUNK = 1000  # keys of up to 6 columns in a tuple IN: far below the parameter limits
Row = dict[str, Any]
Key = tuple[Any, ...]


def scope_keys(region: str, group_id: str) -> tuple[str, str, str]:
    return NATION, f"r:{region}", f"g:{group_id}"


# -- units ----------------------------------------------------------------------------------


async def _units(session: AsyncSession, meeting_ids: Sequence[str]) -> tuple[list[Row], list[Row]]:
    """The unit rows (fact_marks, fact_coded) of ``meeting_ids``' codings, from the workspace."""
    c = codings.c
    found = (
        await session.execute(
            select(
                c.id,
                c.codebook_id,
                c.meeting_id,
                c.coder_id,
                c.region,
                c.group_id,
                meetings.c.starts_at,
            )
            .select_from(codings.join(meetings, meetings.c.id == c.meeting_id))
            .where(among(session, c.meeting_id, meeting_ids))
        )
    ).all()
    marks: dict[str, list[Any]] = defaultdict(list)
    m = coding_marks.c
    for chunk in chunks([r.id for r in found]):
        query = select(m.coding_id, m.code, m.example, m.featured, m.id).where(
            among(session, m.coding_id, chunk)
        )
        for mark in await session.execute(query):
            marks[mark.coding_id].append(mark)
    mark_rows: list[Row] = []
    coded_rows: list[Row] = []
    for r in found:
        place = {
            "codebook_id": r.codebook_id,
            "meeting_id": r.meeting_id,
            "region": r.region,
            "group_id": r.group_id,
            "day": day_of(r.starts_at),
            "starts_at": r.starts_at,
        }
        if r.coder_id != CONSENSUS:
            coded_rows.append({**place, "coder": r.coder_id})
        per_code: dict[str, list[Any]] = defaultdict(list)
        for mark in marks[r.id]:
            per_code[mark.code].append(mark)
        for code, mine in sorted(per_code.items()):
            mark_rows.append(
                {
                    **place,
                    "coder": r.coder_id,
                    "code": code,
                    "marks": len(mine),
                    "featured": int(any(x.featured for x in mine)),
                    "example": shown_example(mine),
                }
            )
    return mark_rows, coded_rows


async def _stored_units(
    session: AsyncSession, meeting_ids: Sequence[str]
) -> tuple[list[Row], list[Row]]:
    out = []
    for table in (fact_marks, fact_coded):
        query = select(table).where(among(session, table.c.meeting_id, meeting_ids))
        out.append([dict(r._mapping) for r in await session.execute(query)])
    return out[0], out[1]


# -- sums -----------------------------------------------------------------------------------


@dataclass
class Sums:
    """What units add to the sum tables, by each table's key."""

    totals: dict[Key, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    regions: dict[Key, str] = field(default_factory=dict)  # a group's total key -> region
    days: dict[Key, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    coders: Counter[Key] = field(default_factory=Counter)

    def add(self, other: Sums) -> None:
        """``self += other`` (sums of units: nothing comes to 0)."""
        for mine, theirs in ((self.totals, other.totals), (self.days, other.days)):
            for key, values in theirs.items():
                cell = mine[key]
                for i, value in enumerate(values):
                    cell[i] += value
        self.coders.update(other.coders)
        self.regions.update(other.regions)

    def minus(self, other: Sums) -> Sums:
        """``self - other``, keys that come to 0 left out."""
        out = Sums(regions={**other.regions, **self.regions})
        for mine, theirs, into in (
            (self.totals, other.totals, out.totals),
            (self.days, other.days, out.days),
        ):
            for key in mine.keys() | theirs.keys():
                a, b = mine.get(key), theirs.get(key)
                diff = [x - y for x, y in zip(a or [0] * 3, b or [0] * 3, strict=False)]
                if any(diff):
                    into[key] = diff
        for key in self.coders.keys() | other.coders.keys():
            if change := self.coders[key] - other.coders[key]:
                out.coders[key] = change
        return out


def contributions(mark_rows: Iterable[Row], coded_rows: Iterable[Row]) -> Sums:
    """What unit rows add to the sums (a meeting at a time or any number of them)."""
    sums = Sums()
    for r in mark_rows:
        nation, region, group = scope_keys(r["region"], r["group_id"])
        for scope in (nation, region, group):
            cell = sums.totals[(r["codebook_id"], r["coder"], r["code"], scope)]
            cell[0] += 1
            cell[1] += r["marks"]
        sums.regions[(r["codebook_id"], r["coder"], r["code"], group)] = r["region"]
    coders: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in coded_rows:
        coders[(r["codebook_id"], r["meeting_id"])].append(r)
    applied: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in mark_rows:
        if r["coder"] != CONSENSUS:
            applied[(r["codebook_id"], r["meeting_id"])][r["code"]].add(r["coder"])
    for unit, rows in coders.items():
        book, first = unit[0], rows[0]
        names = sorted(r["coder"] for r in rows)
        keys = scope_keys(first["region"], first["group_id"])
        for scope in keys:
            for name in names:
                sums.coders[(book, scope, first["day"], name)] += 1
        m = len(names)
        if m < 2:
            continue
        for scope in keys:
            sums.days[(book, scope, first["day"], "", m, 0)][0] += 1
            for code, by in applied[unit].items():
                cell = sums.days[(book, scope, first["day"], code, m, len(by))]
                cell[0] += 1
                if m == 2:
                    cell[1] += names[0] in by
                    cell[2] += names[1] in by
    return sums


async def recount(session: AsyncSession, meeting_ids: Sequence[str]) -> None:
    """Recompute the workspace facts of ``meeting_ids``: their unit rows, and what changed
    in them added to the sums."""
    for chunk in chunks(meeting_ids):
        new_marks, new_coded = await _units(session, chunk)
        old_marks, old_coded = await _stored_units(session, chunk)
        delta = contributions(new_marks, new_coded).minus(contributions(old_marks, old_coded))
        for table, rows in ((fact_marks, new_marks), (fact_coded, new_coded)):
            await session.execute(delete(table).where(among(session, table.c.meeting_id, chunk)))
            if rows:
                await session.execute(insert(table), rows)
        await _add(session, delta)


async def rebuild(session: AsyncSession) -> None:
    """Every workspace fact again from the codings: the unit rows, and the sums of their
    :func:`contributions` written once (the nation's and regions' distinct groups: their
    groups' own rows)."""
    for table in WORKSPACE_FACTS:
        await session.execute(delete(table))
    coded = sorted(set(await session.scalars(select(codings.c.meeting_id).distinct())))
    total = Sums()
    for chunk in chunks(coded):
        new_marks, new_coded = await _units(session, chunk)
        for table, rows in ((fact_marks, new_marks), (fact_coded, new_coded)):
            if rows:
                await session.execute(insert(table), rows)
        total.add(contributions(new_marks, new_coded))
    spread: Counter[Key] = Counter()
    for key in total.totals:
        if key[3].startswith("g:"):
            spread[(*key[:3], NATION)] += 1
            spread[(*key[:3], f"r:{total.regions[key]}")] += 1
    rows = [
        _totals_row(k, v, 1 if k[3].startswith("g:") else spread[k])
        for k, v in total.totals.items()
    ]
    await _insert(session, fact_mark_totals, rows)
    d, a = fact_agree_days.c, fact_agree_coders.c
    names = [c.name for c in (d.codebook_id, d.scope, d.day, d.code, d.m, d.k)]
    rows = [
        dict(zip(names, k, strict=True)) | dict(zip(("units", "first", "second"), v, strict=True))
        for k, v in total.days.items()
    ]
    await _insert(session, fact_agree_days, rows)
    names = [c.name for c in (a.codebook_id, a.scope, a.day, a.coder)]
    rows = [dict(zip(names, k, strict=True)) | {"units": v} for k, v in total.coders.items()]
    await _insert(session, fact_agree_coders, rows)


async def _insert(session: AsyncSession, table: Table, rows: list[Row]) -> None:
    for chunk in chunks(rows):
        await session.execute(insert(table), list(chunk))


def _totals_row(key: Key, value: list[int], groups_: int) -> Row:
    book, coder, code, scope = key
    return {
        "codebook_id": book,
        "coder": coder,
        "code": code,
        "scope": scope,
        "meetings": value[0],
        "marks": value[1],
        "groups": groups_,
    }


def _adding(*names: str) -> Any:
    return lambda current, new: {n: current[n] + new[n] for n in names}


async def _add(session: AsyncSession, delta: Sums) -> None:
    """Add ``delta`` to the sum tables; rows that come to nothing are deleted. Keys in
    sorted order (concurrent requests lock rows in the same order)."""
    t = fact_mark_totals.c
    totals_key = (t.codebook_id, t.coder, t.code, t.scope)
    own = sorted(k for k in delta.totals if k[3].startswith("g:"))
    rows = [_totals_row(k, delta.totals[k], 1) for k in own]
    await upsert(
        session,
        fact_mark_totals,
        rows,
        key=[c.name for c in totals_key],
        merge=_adding("meetings", "marks"),
    )
    moved: Counter[Key] = Counter()  # groups appearing (+1) or disappearing (-1)
    for chunk in chunks(own, KEYS_CHUNK):
        now = await session.execute(
            select(*totals_key, t.meetings).where(tuple_(*totals_key).in_(chunk))
        )
        for *key, meetings_now in now:
            was = meetings_now - delta.totals[tuple(key)][0]
            if (was > 0) != (meetings_now > 0):
                book, coder, code, _group = key
                region = delta.regions[tuple(key)]
                change = 1 if meetings_now > 0 else -1
                moved[(book, coder, code, NATION)] += change
                moved[(book, coder, code, f"r:{region}")] += change
    wide = sorted((delta.totals.keys() - set(own)) | moved.keys())
    rows = [_totals_row(k, delta.totals.get(k, [0, 0]), moved[k]) for k in wide]
    await upsert(
        session,
        fact_mark_totals,
        rows,
        key=[c.name for c in totals_key],
        merge=_adding("meetings", "marks", "groups"),
    )
    await _drop_empty(session, fact_mark_totals, totals_key, own + wide, t.meetings)
    d = fact_agree_days.c
    days_key = (d.codebook_id, d.scope, d.day, d.code, d.m, d.k)
    keys = sorted(delta.days)
    rows = [
        dict(zip([c.name for c in days_key], k, strict=True))
        | dict(zip(("units", "first", "second"), delta.days[k], strict=True))
        for k in keys
    ]
    await upsert(
        session,
        fact_agree_days,
        rows,
        key=[c.name for c in days_key],
        merge=_adding("units", "first", "second"),
    )
    await _drop_empty(session, fact_agree_days, days_key, keys, d.units)
    a = fact_agree_coders.c
    coders_key = (a.codebook_id, a.scope, a.day, a.coder)
    keys = sorted(delta.coders)
    rows = [
        dict(zip([c.name for c in coders_key], k, strict=True)) | {"units": delta.coders[k]}
        for k in keys
    ]
    await upsert(
        session, fact_agree_coders, rows, key=[c.name for c in coders_key], merge=_adding("units")
    )
    await _drop_empty(session, fact_agree_coders, coders_key, keys, a.units)


async def _drop_empty(
    session: AsyncSession,
    table: Table,
    key: tuple[Any, ...],
    keys: Sequence[Key],
    count: ColumnElement[int],
) -> None:
    for chunk in chunks(list(keys), KEYS_CHUNK):
        await session.execute(delete(table).where(tuple_(*key).in_(chunk), count == 0))


# -- the queries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """A workspace scope resolved for the facts: the sums' key when the scope is a whole
    nation, region or group (``None``: empty, e.g. a group outside the region asked), and
    the unit rows' terms."""

    key: str | None
    scope: Scope
    regions: frozenset[str] | None  # the caller's (None: every region)


async def resolve(session: AsyncSession, scope: Scope, guard: Guard) -> Where:
    regions = guard.full_regions()
    region = scope.region
    if region is None and regions is not None and len(regions) == 1:
        region = next(iter(regions))  # an agency: its own region
    key: str | None
    if scope.group_id is not None:
        home = await session.scalar(select(groups.c.region).where(groups.c.id == scope.group_id))
        seen = regions is None or home in regions
        key = f"g:{scope.group_id}" if seen and region in (None, home) else None
    elif region is not None:
        key = f"r:{region}" if regions is None or region in regions else None
    else:
        key = NATION if regions is None else None
    return Where(key, scope, regions)


def _unit_terms(table: Table, where: Where, by_day: bool = True) -> list[ColumnElement[bool]]:
    """``where`` on unit rows; the period on ``day`` (``by_day``) or on ``starts_at`` (the
    same rows: a day is its meeting's start in Europe/Helsinki), whichever an index has."""
    c, s = table.c, where.scope
    terms: list[ColumnElement[bool]] = []
    if where.regions is not None:
        terms += visible_regions(c.region, where.regions)
    if s.region is not None:
        terms.append(c.region == s.region)
    if s.group_id is not None:
        terms.append(c.group_id == s.group_id)
    if s.from_ is not None:
        terms.append(c.day >= s.from_ if by_day else c.starts_at >= day_start(s.from_))
    if s.to is not None:
        end = day_start(s.to + timedelta(days=1))
        terms.append(c.day <= s.to if by_day else c.starts_at < end)
    return terms


def visible_regions(region: ColumnElement[str], regions: frozenset[str]) -> list[Any]:
    return [region.in_(sorted(regions))] if regions else [region.in_([])]


async def table1_counts(
    session: AsyncSession, codebook_id: str, coder: str, where: Where
) -> dict[str, tuple[int, int, int]]:
    """code -> (distinct groups, meetings, marks) of ``coder``'s codings in ``where``."""
    s = where.scope
    if s.from_ is None and s.to is None:  # all time: the sums
        if where.key is None:
            return {}
        t = fact_mark_totals.c
        query: Select[Any] = select(t.code, t.groups, t.meetings, t.marks).where(
            t.codebook_id == codebook_id, t.coder == coder, t.scope == where.key
        )
    else:
        f = fact_marks.c
        query = (
            select(
                f.code,
                func.count(func.distinct(f.group_id)),
                func.count(),
                func.sum(f.marks),
            )
            .where(f.codebook_id == codebook_id, f.coder == coder, *_unit_terms(fact_marks, where))
            .group_by(f.code)
        )
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in await session.execute(query)}


@cache
def _examples_statement(
    codes: int, group: bool, region: bool, regions: bool, start: bool, end: bool
) -> Any:
    """The examples query for one shape of scope, built once (building 22 limited
    subqueries costs SQLAlchemy tens of ms of CPU; executing the cached one does not)."""
    f = fact_marks.c
    cols = (f.code, f.example, f.featured, f.meeting_id, f.region, f.group_id, f.starts_at)
    base: list[ColumnElement[bool]] = [
        f.codebook_id == bindparam("book"),
        f.coder == bindparam("coder"),
        f.example != "",
    ]
    if regions:
        base.append(f.region.in_(bindparam("regions", expanding=True)))
    if region:
        base.append(f.region == bindparam("region"))
    if group:
        base.append(f.group_id == bindparam("group"))
    if start:
        base.append(f.starts_at >= bindparam("start", type_=f.starts_at.type))
    if end:
        base.append(f.starts_at < bindparam("end", type_=f.starts_at.type))
    slots: list[Any] = [bindparam(f"code{i}") for i in range(codes)]
    if group:  # a group's rows are few: all of them, ranked by the caller
        return select(*cols).where(*base, f.code.in_(slots))
    parts = []
    for name in slots:
        for chosen in (1, 0):
            part = (
                select(*cols)
                .where(*base, f.code == name, f.featured == chosen)
                .order_by(f.starts_at.desc(), f.meeting_id.desc())  # an index walk
                .limit(bindparam("n"))
                .subquery()
            )
            parts.append(select(*part.c))
    return union_all(*parts)


async def table1_examples(
    session: AsyncSession, codebook_id: str, coder: str, where: Where, codes: Sequence[str], n: int
) -> dict[str, list[Any]]:
    """Per code, up to ``n`` meetings' examples: the chosen ones first, then the most recent
    (by meeting start, then meeting id, both descending: one walk of an index); rows of
    fact_marks with ``group_name``."""
    if n <= 0 or not codes:
        return {}
    s = where.scope
    shape = (
        len(codes),
        s.group_id is not None,
        s.region is not None,
        where.regions is not None,
        s.from_ is not None,
        s.to is not None,
    )
    params: dict[str, Any] = {"book": codebook_id, "coder": coder, "n": n}
    params |= {f"code{i}": code for i, code in enumerate(codes)}
    params |= {"group": s.group_id, "region": s.region, "regions": sorted(where.regions or ())}
    if s.from_ is not None:
        params["start"] = day_start(s.from_)
    if s.to is not None:
        params["end"] = day_start(s.to + timedelta(days=1))
    found = (await session.execute(_examples_statement(*shape), params)).all()
    names = dict(
        (
            await session.execute(
                select(groups.c.id, groups.c.name).where(
                    groups.c.id.in_({r.group_id for r in found})
                )
            )
        ).all()
    )
    out: dict[str, list[Any]] = defaultdict(list)
    order = sorted(found, key=lambda r: (r.featured, r.starts_at, r.meeting_id), reverse=True)
    for r in order:
        if len(out[r.code]) < n:
            out[r.code].append((r, names.get(r.group_id)))
    return out


async def agreement_counts(session: AsyncSession, codebook_id: str, where: Where) -> Counts:
    """Agreement's counts for everyone who coded with the codebook in ``where``."""
    s = where.scope
    if where.key is None:
        return Counts(())

    def period(day: ColumnElement[date]) -> list[ColumnElement[bool]]:
        terms = []
        if s.from_ is not None:
            terms.append(day >= s.from_)
        if s.to is not None:
            terms.append(day <= s.to)
        return terms

    a, d = fact_agree_coders.c, fact_agree_days.c
    coders = await session.scalars(
        select(a.coder)
        .where(a.codebook_id == codebook_id, a.scope == where.key, *period(a.day))
        .distinct()
    )
    counts = Counts(tuple(sorted(coders)))
    query = (
        select(d.code, d.m, d.k, func.sum(d.units), func.sum(d.first), func.sum(d.second))
        .where(d.codebook_id == codebook_id, d.scope == where.key, *period(d.day))
        .group_by(d.code, d.m, d.k)
    )
    for code, m, k, units, first, second in await session.execute(query):
        if code == "":
            counts.units[int(m)] += int(units)
            continue
        counts.applied.setdefault(code, Counter())[(int(m), int(k))] += int(units)
        if len(counts.coders) == 2:
            counts.first[code] += int(first)
            counts.second[code] += int(second)
    return counts


__all__ = ["agreement_counts", "rebuild", "recount", "resolve", "table1_counts"]
