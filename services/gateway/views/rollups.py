"""The facts summed per (scope, month): what national and regional answers read.

``fact_months`` holds, per scope (``''`` the nation, ``'r:<region>'``, ``'g:<group>'``, as
:func:`services.gateway.research.counts.scope_keys`) and Helsinki month of the meetings'
days, the sums of the unit facts (:mod:`.facts`): meetings held and cancelled, attendees
and expected, groups that held a meeting (a group's own row: 0 or 1, so the nation's and a
region's are distinct groups per month), the closed and counted surveys with the counted
ones' sums, and the counted coder's activities.

Kept by :func:`update`, inside :func:`services.gateway.views.facts.apply`, from the units a
batch replaced: every (group, month) an old or new unit row fell in is summed again from
the unit facts (a group's month: a handful of rows), and what changed in that group's row
is added to its region's and the nation's (in sorted key order: concurrent transactions
lock rows in the same order). Rows that come to nothing are deleted, so the table is the
same after any order of batches as after :func:`rebuild` (the equality tests compare them).

The views (:mod:`.queries`) read whole months of a period here (at most ~120 rows per
scope and series) and only its partial first and last months from the unit facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Delete

from services.gateway.orm import (
    fact_cop,
    fact_cop_months,
    fact_meetings,
    fact_months,
    fact_surveys,
)
from services.gateway.projections.sql import Merge, upsert
from services.gateway.research import counts
from services.gateway.views.days import month_of_day
from shared.storage.bulk import execute_many, insert_rows, keyed_delete
from shared.storage.chunks import chunks
from shared.storage.keys import among

MEETING_SUMS = ("held", "cancelled", "attendees", "expected")
FEEDBACK_SUMS = (  # a survey's answers summed: one meeting's fact row, a month's, a trend's
    "invited",
    "responses",
    "overall_sum",
    "usefulness_sum",
    "recommend_sum",
    "promoters",
    "detractors",
)
SURVEY_SUMS = ("closed", "counted", *FEEDBACK_SUMS)
SUMS = (*MEETING_SUMS, "groups_meeting", *SURVEY_SUMS, "activities")
GROUPS_CHUNK = 500  # groups per read of a rebuild
Key = tuple[str, str]  # (scope, month)


def scope_key(region: str | None = None, group_id: str | None = None) -> str:
    """The ``scope`` of a group's rows, else a region's, else the nation's."""
    nation, of_region, of_group = counts.scope_keys(region or "", group_id or "")
    return of_group if group_id is not None else of_region if region is not None else nation


@dataclass
class Changed:
    """The (group, month) pairs whose unit facts a batch replaced (old or new rows).

    Only these pairs are summed again and rewritten: not every month of the batch for every
    group of the batch (with many regions a batch touches hundreds of groups, each in a
    month or two; their cross product is every month of every such group's history)."""

    pairs: set[tuple[str, str]] = field(default_factory=set)
    cop_groups: set[str] = field(default_factory=set)  # whose CoP unit facts changed

    def add(self, group_id: str, day: date, cop: bool = False) -> None:
        self.pairs.add((group_id, month_of_day(day)))
        if cop:
            self.cop_groups.add(group_id)

    @property
    def groups(self) -> set[str]:
        return {group_id for group_id, _ in self.pairs}

    @property
    def months(self) -> set[str]:
        return {month for _, month in self.pairs}

    def keys(self) -> set[Key]:
        """The pairs as ``fact_months`` keys (the groups' scopes)."""
        return {(scope_key(group_id=g), month) for g, month in self.pairs}

    def __bool__(self) -> bool:
        return bool(self.pairs)


@dataclass
class _Row:
    region: str
    sums: dict[str, int]

    @classmethod
    def zero(cls, region: str, names: Sequence[str] = SUMS) -> _Row:
        return cls(region, dict.fromkeys(names, 0))

    def plus(self, other: dict[str, int], sign: int = 1) -> None:
        for name in self.sums:
            self.sums[name] += sign * other[name]


async def _group_rows(
    session: AsyncSession,
    group_ids: Sequence[str],
    months: Sequence[str] | None,
    only: set[tuple[str, str]] | None = None,
) -> dict[Key, _Row]:
    """The group rows of ``group_ids`` (in ``months``; None: all; and of those only the
    (group, month) pairs ``only`` if given), summed from the unit facts."""
    out: dict[Key, _Row] = {}
    skipped: dict[str, int] = {}  # a sink for the rows of pairs not asked for

    def cell(region: str, group_id: str, month: str) -> dict[str, int]:
        if only is not None and (group_id, month) not in only:
            return skipped
        key = (scope_key(group_id=group_id), month)
        row = out.get(key)
        if row is None:
            row = out[key] = _Row.zero(region)
        return row.sums

    m, s, c = fact_meetings.c, fact_surveys.c, fact_cop.c
    in_months: list[ColumnElement[bool]] = []
    if months is not None:
        in_months = [among(session, m.month, months)]
    query = select(m.region, m.group_id, m.month, *(m[n] for n in MEETING_SUMS)).where(
        among(session, m.group_id, group_ids), *in_months, or_(m.held == 1, m.cancelled == 1)
    )
    for r in await session.execute(query):
        sums = cell(r.region, r.group_id, r.month)
        if sums is skipped:
            continue
        for name in MEETING_SUMS:
            sums[name] += r._mapping[name]
        sums["groups_meeting"] = max(sums["groups_meeting"], r.held)
    in_months = [] if months is None else [among(session, s.month, months)]
    query = select(s.region, s.group_id, s.month, *(s[n] for n in SURVEY_SUMS)).where(
        among(session, s.group_id, group_ids), *in_months, s.closed == 1
    )
    for r in await session.execute(query):
        sums = cell(r.region, r.group_id, r.month)
        if sums is skipped:
            continue
        for name in SURVEY_SUMS:
            sums[name] += r._mapping[name]
    query = select(c.region, c.group_id, c.day, c.activities).where(
        among(session, c.group_id, group_ids), c.counted == 1
    )
    wanted = None if months is None else set(months)
    for r in await session.execute(query):
        month = month_of_day(r.day)
        if wanted is None or month in wanted:
            sums = cell(r.region, r.group_id, month)
            if sums is not skipped:
                sums["activities"] += r.activities
    return out


def _adding(names: Sequence[str]) -> Merge:
    def merge(current: Any, new: Any) -> dict[str, Any]:
        return {n: current[n] + new[n] for n in names}

    return merge


@dataclass(frozen=True)
class _Kind:
    """A roll-up table: its key columns (``scope`` first) and its sums."""

    table: Table
    keys: tuple[str, ...]
    sums: tuple[str, ...]
    merge: Merge

    def record(self, key: tuple[str, ...], row: _Row) -> dict[str, Any]:
        return {**dict(zip(self.keys, key, strict=True)), "region": row.region, **row.sums}

    @cached_property
    def delete_key(self) -> Delete:
        """Deletes a row by its key (:func:`execute_many` of key dictionaries)."""
        return keyed_delete(self.table, self.keys)

    @cached_property
    def delete_empty(self) -> Delete:
        """Deletes a row by its key if all its sums are 0."""
        zero: ColumnElement[int] = literal_column("0")
        return keyed_delete(self.table, self.keys, *(self.table.c[n] == zero for n in self.sums))

    def key_rows(self, keys: Iterable[tuple[str, ...]]) -> list[dict[str, str]]:
        return [dict(zip(self.keys, key, strict=True)) for key in keys]

    def widened(self, new: dict[Any, _Row], old: dict[Any, _Row]) -> dict[Any, _Row]:
        """What changed in the group rows (``old`` -> ``new``), summed into the rows of
        their regions and the nation."""
        wide: dict[Any, _Row] = {}
        for key in new.keys() | old.keys():
            was, now = old.get(key), new.get(key)
            if was is not None and now is not None and was.sums == now.sums:
                continue
            region = (now or was).region  # type: ignore[union-attr]
            for scope, where in ((scope_key(), ""), (scope_key(region), region)):
                row = wide.setdefault((scope, *key[1:]), _Row.zero(where, self.sums))
                if now is not None:
                    row.plus(now.sums)
                if was is not None:
                    row.plus(was.sums, -1)
        return wide

    async def add(self, session: AsyncSession, wide: dict[Any, _Row]) -> None:
        """Add ``wide`` to the region and nation rows (sorted keys: concurrent transactions
        lock rows in the same order); rows that come to nothing are deleted."""
        keys = sorted(k for k, r in wide.items() if any(r.sums.values()))
        rows = [self.record(k, wide[k]) for k in keys]
        await upsert(session, self.table, rows, key=list(self.keys), merge=self.merge)
        await execute_many(session, self.delete_empty, self.key_rows(keys))


MONTHS = _Kind(fact_months, ("scope", "month"), SUMS, _adding(SUMS))
COP_SUMS = ("activities", "meetings", "groups")
COP = _Kind(
    fact_cop_months, ("scope", "activity_type", "month", "since"), COP_SUMS, _adding(COP_SUMS)
)


async def update(session: AsyncSession, changed: Changed) -> None:
    """Sum ``changed``'s group months again and add what changed to their regions' and the
    nation's rows; the CoP rows of groups whose CoP facts changed, over their history."""
    if changed:
        await _update_months(session, changed)
    if changed.cop_groups:
        await _update_cop(session, sorted(changed.cop_groups))


async def _update_months(session: AsyncSession, changed: Changed) -> None:
    t = fact_months.c
    group_ids, months = sorted(changed.groups), sorted(changed.months)
    touched = changed.keys()
    scopes = sorted({scope for scope, _ in touched})
    new = await _group_rows(session, group_ids, months, changed.pairs)
    mine = [among(session, t.scope, scopes), among(session, t.month, months)]
    old = {
        (r.scope, r.month): _Row(r.region, {n: r._mapping[n] for n in SUMS})
        for r in await session.execute(select(fact_months).where(*mine))
        if (r.scope, r.month) in touched
    }
    wide = MONTHS.widened(new, old)
    if not wide:
        return
    await execute_many(session, MONTHS.delete_key, MONTHS.key_rows(sorted(old)))
    await insert_rows(session, fact_months, [MONTHS.record(k, r) for k, r in sorted(new.items())])
    await MONTHS.add(session, wide)


async def _update_cop(session: AsyncSession, group_ids: Sequence[str]) -> None:
    t = fact_cop_months.c
    scopes = [scope_key(group_id=g) for g in group_ids]
    new = await _group_cop(session, group_ids)
    mine = among(session, t.scope, scopes)
    old = {
        (r.scope, r.activity_type, r.month, r.since): _Row(
            r.region, {n: r._mapping[n] for n in COP_SUMS}
        )
        for r in await session.execute(select(fact_cop_months).where(mine))
    }
    wide = COP.widened(new, old)
    if not wide:
        return
    await session.execute(delete(fact_cop_months).where(mine))
    await insert_rows(session, fact_cop_months, [COP.record(k, r) for k, r in sorted(new.items())])
    await COP.add(session, wide)


async def _group_cop(session: AsyncSession, group_ids: Sequence[str]) -> dict[Any, _Row]:
    """The CoP rows of ``group_ids`` over their history, from the counted coders' unit
    facts: per type and month, activities, meetings, 1 group, and ``since``: the group's
    previous month with that type ('' for its first)."""
    c = fact_cop.c
    query = select(c.region, c.group_id, c.activity_type, c.day, c.activities).where(
        among(session, c.group_id, group_ids), c.counted == 1
    )
    cells: dict[tuple[str, str, str], _Row] = {}
    for r in await session.execute(query):
        key = (r.group_id, r.activity_type, month_of_day(r.day))
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = _Row(r.region, {"activities": 0, "meetings": 0, "groups": 1})
        cell.sums["activities"] += r.activities
        cell.sums["meetings"] += 1
    out: dict[Any, _Row] = {}
    since: dict[tuple[str, str], str] = {}
    for group_id, kind, month in sorted(cells):
        before = since.get((group_id, kind), "")
        out[(scope_key(group_id=group_id), kind, month, before)] = cells[(group_id, kind, month)]
        since[(group_id, kind)] = month
    return out


async def rebuild(session: AsyncSession) -> None:
    """Every group's and region's row again from the unit facts (which must be complete),
    for empty tables; the nation's: :func:`rebuild_nation` after (a rebuild's partitions
    each compute their regions' rows, the nation's is summed once they are merged)."""
    for kind in (MONTHS, COP):
        await session.execute(delete(kind.table))
    found = union(*(select(t.c.group_id) for t in (fact_meetings, fact_surveys, fact_cop)))
    ids = sorted(await session.scalars(select(found.subquery().c.group_id)))
    for kind, rows_of in (
        (MONTHS, lambda chunk: _group_rows(session, chunk, None)),
        (COP, lambda chunk: _group_cop(session, chunk)),
    ):
        wide: dict[Any, _Row] = {}
        for chunk in chunks(ids, GROUPS_CHUNK):
            own = await rows_of(chunk)
            await insert_rows(
                session, kind.table, [kind.record(k, r) for k, r in sorted(own.items())]
            )
            for key, row in own.items():
                into = wide.setdefault(
                    (scope_key(row.region), *key[1:]), _Row.zero(row.region, kind.sums)
                )
                into.plus(row.sums)
        await insert_rows(session, kind.table, [kind.record(k, r) for k, r in sorted(wide.items())])


async def rebuild_nation(session: AsyncSession) -> None:
    """The nation's rows again, each the sum of the regions' rows of its key (a group's
    row adds to its region's and the nation's alike)."""
    nation, regions = scope_key(), scope_key(region="")
    for kind in (MONTHS, COP):
        t = kind.table.c
        await session.execute(delete(kind.table).where(t.scope == nation))
        keys = [t[n] for n in kind.keys[1:]]
        summed = (
            select(literal(nation), *keys, literal(""), *(func.sum(t[n]) for n in kind.sums))
            .where(t.scope.startswith(regions, autoescape=True))
            .group_by(*keys)
        )
        columns = [*kind.keys, "region", *kind.sums]
        await session.execute(insert(kind.table).from_select(columns, summed))
