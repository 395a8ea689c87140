"""The research views' SQL over the facts, one place for the GraphQL fields and the exports.

Every view takes a :class:`Scope`: region, group and a period of exact Helsinki days
(``from``/``to`` inclusive, matched on the facts' ``day``, never widened to months or
years), and groups by the meeting's Helsinki month or year where it has rows per month or
year. Callers check access first (graphql/views/query.py, exports/views.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Table,
    and_,
    case,
    distinct,
    extract,
    func,
    literal,
    or_,
    select,
    union_all,
)

from services.gateway.orm import (
    attendance,
    fact_coding,
    fact_cop,
    fact_cop_months,
    fact_meetings,
    fact_months,
    fact_surveys,
    groups,
    initiative_members,
    initiatives,
    members,
    regions,
)
from services.gateway.views.days import month_of_day
from services.gateway.views.rollups import FEEDBACK_SUMS, scope_key

HELD, CANCELLED, LEFT, ACTIVE = "HELD", "CANCELLED", "LEFT", "ACTIVE"


@dataclass(frozen=True)
class Scope:
    """What a view covers: a region (None: all), a group, a period of Helsinki days."""

    region: str | None = None
    group_id: str | None = None
    from_: date | None = None
    to: date | None = None


NATION = Scope()


def where(table: Any, scope: Scope, day: str = "day") -> list[ColumnElement[bool]]:
    """``scope`` as conditions on a fact table (``region``, ``group_id``, ``day``)."""
    c = table.c
    found: list[ColumnElement[bool]] = []
    if scope.region is not None:
        found.append(c.region == scope.region)
    if scope.group_id is not None:
        found.append(c.group_id == scope.group_id)
    if scope.from_ is not None:
        found.append(c[day] >= scope.from_)
    if scope.to is not None:
        found.append(c[day] <= scope.to)
    return found


def sums(*columns: Any) -> list[Any]:
    return [func.coalesce(func.sum(col), 0).label(col.name) for col in columns]


# -- whole months from the roll-ups, partial ones from the unit facts -------------------------


@dataclass(frozen=True)
class Split:
    """A period as whole Helsinki months (``first``..``last``, None: open; ``whole`` False:
    none) and the exact-day pieces of its partial first and last months."""

    whole: bool
    first: str | None
    last: str | None
    edges: tuple[tuple[date, date], ...]


def split(from_: date | None, to: date | None) -> Split:
    if from_ is not None and to is not None and from_ > to:
        return Split(False, None, None, ())
    edges: list[tuple[date, date]] = []
    first = last = None
    if from_ is not None:
        month_start = from_.replace(day=1)
        first = month_of_day(from_ if from_ == month_start else _next_month(from_))
        if from_ != month_start:
            edges.append((from_, min(_next_month(from_) - timedelta(days=1), to or date.max)))
    if to is not None:
        month_start = to.replace(day=1)
        month_end = _next_month(to) - timedelta(days=1)
        last = month_of_day(to if to == month_end else month_start - timedelta(days=1))
        piece = (max(month_start, from_ or date.min), to)
        if to != month_end and piece not in edges:
            edges.append(piece)
    whole = first is None or last is None or first <= last
    return Split(whole, first, last, tuple(edges))


def _next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _months_of(scope: Scope, cut: Split, table: Table = fact_months) -> list[ColumnElement[bool]]:
    """``scope``'s rows of a roll-up table in ``cut``'s whole months."""
    t = table.c
    found: list[ColumnElement[bool]] = [t.scope == scope_key(scope.region, scope.group_id)]
    if scope.region is not None:
        found.append(t.region == scope.region)
    return [*found, *_month_range(cut, table)]


def _month_range(cut: Split, table: Table = fact_months) -> list[ColumnElement[bool]]:
    t = table.c
    found: list[ColumnElement[bool]] = []
    if cut.first is not None:
        found.append(t.month >= cut.first)
    if cut.last is not None:
        found.append(t.month <= cut.last)
    return found


def _pieces(scope: Scope, cut: Split) -> list[Scope]:
    return [Scope(scope.region, scope.group_id, a, b) for a, b in cut.edges]


def _by_month(parts: list[Select[Any]]) -> Select[Any]:
    if len(parts) == 1:
        return parts[0].order_by(parts[0].selected_columns[0])
    rows = union_all(*parts).subquery("parts")
    return select(rows).order_by(rows.c.month)


# -- CoP activities ---------------------------------------------------------------------------


def _counted(table: Any, coder: str | None) -> ColumnElement[bool]:
    """The records a view counts: each meeting's counted coder's, or one coder's."""
    picked: ColumnElement[bool] = table.c.counted == 1 if coder is None else table.c.coder == coder
    return picked


def cop_table(
    scope: Scope,
    examples: bool,
    activity_type: str | None = None,
    by_year: bool = False,
    coder: str | None = None,
) -> Select[Any]:
    """Per Wenger type (and Helsinki year if ``by_year``): activities, meetings with such
    activities, distinct groups, and the earliest such activity's example (null unless
    ``examples``: the texts are the regions' own words). The counted coders' figures come
    from the roll-ups (:func:`_cop_cells`); one coder's from the unit facts."""
    v = fact_cop.c
    conditions = [_counted(fact_cop, coder), *where(fact_cop, scope)]
    if activity_type is not None:
        conditions.append(v.activity_type == activity_type)
    year = extract("year", v.day).cast(Integer)
    if coder is None:
        cells = _cop_cells(scope, activity_type, by_year)
    else:
        keys = [v.activity_type, *([year.label("year")] if by_year else [])]
        cells = (
            select(
                *keys,
                func.sum(v.activities).label("activities"),
                func.count().label("meetings"),
                func.count(distinct(v.group_id)).label("groups"),
            )
            .where(*conditions)
            .group_by(v.activity_type, *([year] if by_year else []))
            .subquery("cells")
        )
    if examples and (scope.region is not None or scope.group_id is not None):
        # a region's or group's rows: ranking them all is cheaper than a lookup per cell
        # (which walks the type's (type, day) index through every other region's rows)
        shown = _firsts_by_year(conditions, year if by_year else None)
        same = [shown.c.activity_type == cells.c.activity_type]
        if by_year:
            same.append(shown.c.year == cells.c.year)
        return (
            select(
                cells.c.activity_type,
                cells.c.year if by_year else literal(None, Integer).label("year"),
                cells.c.activities,
                cells.c.meetings,
                cells.c.groups,
                shown.c.example,
            )
            .select_from(cells.join(shown, and_(*same)))
            .order_by(cells.c.activity_type, *([cells.c.year] if by_year else []))
        )
    example: Any = literal(None)
    if examples:  # per cell: a walk of the (type, day) index to the scope's first record
        ex = fact_cop.alias("ex")
        pick = [_counted(ex, coder), ex.c.activity_type == cells.c.activity_type]
        if not by_year:
            pick += where(ex, scope)
        else:
            # the year as a day range, clipped to the period: ONE range of the (type, day)
            # index (with the period's bounds beside the year's SQLite walked from the
            # period's first day through every earlier year's records of the type);
            # date() reads 'YYYY-MM-DD' in SQLite and PostgreSQL
            year = cells.c.year.cast(String)
            start: Any = func.date(year + literal("-01-01"))
            end: Any = func.date(year + literal("-12-31"))
            if scope.from_ is not None:
                start = case((start < scope.from_, literal(scope.from_)), else_=start)
            if scope.to is not None:
                end = case((end > scope.to, literal(scope.to)), else_=end)
            pick += [
                *where(ex, Scope(scope.region, scope.group_id)),
                ex.c.day >= start,
                ex.c.day <= end,
            ]
        example = (
            select(ex.c.example)
            .where(*pick)
            .order_by(ex.c.day, ex.c.meeting_id)
            .limit(1)
            .scalar_subquery()
        )
    return select(
        cells.c.activity_type,
        cells.c.year if by_year else literal(None, Integer).label("year"),
        cells.c.activities,
        cells.c.meetings,
        cells.c.groups,
        example.label("example"),
    ).order_by(cells.c.activity_type, *([cells.c.year] if by_year else []))


def _cop_cells(scope: Scope, activity_type: str | None, by_year: bool) -> Any:
    """The counted coders' cells per type (and year): whole months from ``fact_cop_months``
    (a group counts in the rows of its first month of the type in the period, or in the
    year with ``by_year``: ``since`` before it), the partial first and last months from the
    unit facts, where a group counts unless it is among the whole months' already."""
    t, v = fact_cop_months.c, fact_cop.c
    cut = split(scope.from_, scope.to)
    parts: list[Select[Any]] = []
    row_year = func.substr(t.month, 1, 4).cast(Integer)
    if cut.whole:
        first_here = [t.since == "", *([t.since < cut.first] if cut.first is not None else [])]
        if by_year:
            first_here.append(func.substr(t.since, 1, 4) < func.substr(t.month, 1, 4))
        kind = [t.activity_type == activity_type] if activity_type is not None else []
        year: Any = row_year if by_year else literal(None, Integer)
        parts.append(
            select(
                t.activity_type,
                year.label("year"),
                func.sum(t.activities).label("activities"),
                func.sum(t.meetings).label("meetings"),
                func.sum(case((or_(*first_here), t.groups), else_=0)).label("groups"),
            )
            .where(*_months_of(scope, cut, fact_cop_months), *kind)
            # by month, the rows' key order (the union below sums the months of a year): a
            # group by the year expression sorted every row of the scope (16,000 nationally)
            .group_by(t.activity_type, *([t.month] if by_year else []))
        )
    if cut.edges:
        day_year = extract("year", v.day).cast(Integer)
        days = or_(*(and_(v.day >= a, v.day <= b) for a, b in cut.edges))
        conditions = [v.counted == 1, *where(fact_cop, Scope(scope.region, scope.group_id)), days]
        if activity_type is not None:
            conditions.append(v.activity_type == activity_type)
        new_group: Any = v.group_id
        if cut.whole:
            seen = [
                t.scope == literal(scope_key(group_id="")) + v.group_id,
                t.activity_type == v.activity_type,
                *_month_range(cut, fact_cop_months),
                *([row_year == day_year] if by_year else []),
            ]
            new_group = case((~select(t.scope).where(*seen).exists(), v.group_id))
        year = day_year if by_year else literal(None, Integer)
        parts.append(
            select(
                v.activity_type,
                year.label("year"),
                func.sum(v.activities).label("activities"),
                func.count().label("meetings"),
                func.count(distinct(new_group)).label("groups"),
            )
            .where(*conditions)
            .group_by(v.activity_type, *([year] if by_year else []))
        )
    if not parts:  # an empty period
        parts.append(
            select(
                t.activity_type,
                literal(None, Integer).label("year"),
                t.activities,
                t.meetings,
                t.groups,
            ).where(literal(False))
        )
    both = union_all(*parts).subquery("parts")
    return (
        select(
            both.c.activity_type,
            both.c.year,
            func.sum(both.c.activities).label("activities"),
            func.sum(both.c.meetings).label("meetings"),
            func.sum(both.c.groups).label("groups"),
        )
        .group_by(both.c.activity_type, both.c.year)
        .subquery("cells")
    )


def _firsts_by_year(conditions: list[ColumnElement[bool]], year: Any | None) -> Any:
    """Each (type, year)'s earliest record (by day, then meeting; per type if ``year`` is
    None) in one ranked pass over the scope's rows: a lookup per cell cannot use an index
    on the year, and walked the type's whole history for each of its years (seconds for
    one group)."""
    v = fact_cop.c
    per = [v.activity_type, *([year] if year is not None else [])]
    ranked = (
        select(
            v.activity_type,
            (year if year is not None else literal(None, Integer)).label("year"),
            v.example,
            func.row_number().over(partition_by=per, order_by=(v.day, v.meeting_id)).label("rank"),
        )
        .where(*conditions)
        .subquery("ranked")
    )
    return select(ranked).where(ranked.c.rank == 1).subquery("firsts")


# -- meetings -------------------------------------------------------------------------------


def _meeting_sums() -> list[Any]:
    v = fact_meetings.c
    return [
        func.count(distinct(case((v.held == 1, v.group_id)))).label("groups_meeting"),
        func.coalesce(func.sum(v.held), 0).label("meetings_held"),
        func.coalesce(func.sum(v.cancelled), 0).label("meetings_cancelled"),
        func.coalesce(func.sum(v.attendees), 0).label("attendees"),
        func.coalesce(func.sum(v.expected), 0).label("expected"),
    ]


def meetings_over_time(scope: Scope) -> Select[Any]:
    """Per Helsinki month of the meetings' days: whole months from the roll-ups, the
    period's partial ones from the unit facts."""
    v, t = fact_meetings.c, fact_months.c
    cut = split(scope.from_, scope.to)
    parts = [
        select(v.month, *_meeting_sums())
        .where(*where(fact_meetings, piece), v.status.in_((HELD, CANCELLED)))
        .group_by(v.month)
        for piece in _pieces(scope, cut)
    ]
    if cut.whole:
        whole = select(
            t.month,
            t.groups_meeting,
            t.held.label("meetings_held"),
            t.cancelled.label("meetings_cancelled"),
            t.attendees,
            t.expected,
        ).where(*_months_of(scope, cut), or_(t.held > 0, t.cancelled > 0))
        parts.append(whole)
    return _by_month(parts)


def group_months(scope: Scope) -> Select[Any]:
    """Per group and month (unordered: callers page by (group_id, month))."""
    v = fact_meetings.c
    return (
        select(v.group_id, v.month, v.region, *_meeting_sums()[1:])
        .where(*where(fact_meetings, scope), v.status.in_((HELD, CANCELLED)))
        .group_by(v.group_id, v.month, v.region)
    )


GROUP_KEY = "group_key"  # the group rows' scope, what a page of them is ordered by


def group_months_rolled(scope: Scope) -> tuple[Select[Any], Select[Any]] | None:
    """:func:`group_months` from the group rows of ``fact_months`` (unordered: callers page
    by (``group_key``, month)) and their count; None for an empty period. A partial first or
    last month is the group's row of that month with its sums taken again from the unit
    facts of the period's days in it (an index step per row of the page: a page reads the
    roll-ups' rows in key order, whatever the number of groups and regions)."""
    cut = split(scope.from_, scope.to)
    if not cut.whole and not cut.edges:
        return None
    t, v = fact_months.c, fact_meetings.c
    prefix = scope_key(group_id="")
    if scope.group_id is not None:
        rows = [t.scope == scope_key(group_id=scope.group_id)]
    else:  # every group's rows: the keys from 'g:' up to the next prefix
        rows = [t.scope > prefix, t.scope < prefix[:-1] + chr(ord(prefix[-1]) + 1)]
    if scope.region is not None:
        rows.append(t.region == scope.region)
    group_id = func.substr(t.scope, len(prefix) + 1)
    if scope.from_ is not None:
        rows.append(t.month >= month_of_day(scope.from_))
    if scope.to is not None:
        rows.append(t.month <= month_of_day(scope.to))
    edges = {month_of_day(a): (a, b) for a, b in cut.edges}

    def edge_of(month: str, column: Any) -> Any:
        a, b = edges[month]
        return (
            select(func.coalesce(func.sum(column), 0))
            .where(v.group_id == group_id, v.day >= a, v.day <= b, v.status.in_((HELD, CANCELLED)))
            .scalar_subquery()
        )

    def value(name: str) -> Any:
        if not edges:
            return t[name]
        return case(*((t.month == m, edge_of(m, v[name])) for m in edges), else_=t[name])

    met = or_(t.held > 0, t.cancelled > 0)
    if edges:  # an edge month's row counts if the group met on the period's days in it
        met = case(
            *((t.month == m, edge_of(m, v.held + v.cancelled) > 0) for m in edges), else_=met
        )
    conditions = [*rows, met]
    query = select(
        group_id.label("group_id"),
        t.month,
        t.region,
        value("held").label("meetings_held"),
        value("cancelled").label("meetings_cancelled"),
        value("attendees").label("attendees"),
        value("expected").label("expected"),
        t.scope.label(GROUP_KEY),
    ).where(*conditions)
    return query, select(func.count()).select_from(fact_months).where(*conditions)


def group_months_count(scope: Scope) -> Select[Any]:
    v = fact_meetings.c
    keys = (
        select(v.group_id, v.month)
        .where(*where(fact_meetings, scope), v.status.in_((HELD, CANCELLED)))
        .distinct()
        .subquery()
    )
    return select(func.count()).select_from(keys)


def _groups_in(scope: Scope) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if scope.region is not None:
        found.append(groups.c.region == scope.region)
    if scope.group_id is not None:
        found.append(groups.c.id == scope.group_id)
    return found


def group_page(scope: Scope) -> Select[Any]:
    """The groups a per-group view lists (unordered: callers page by (region, group_id))."""
    return select(groups.c.region, groups.c.id.label("group_id")).where(*_groups_in(scope))


def group_count(scope: Scope) -> Select[Any]:
    return select(func.count()).select_from(groups).where(*_groups_in(scope))


def _member_in_period(scope: Scope) -> ColumnElement[bool]:
    """Joined by the period's end and not left before its start (members ever, if open)."""
    p = members.c
    cond: list[ColumnElement[bool]] = [p.joined_on.is_not(None)]
    if scope.to is not None:
        cond.append(p.joined_on <= scope.to)
    if scope.from_ is not None:
        gone = and_(p.status == LEFT, p.left_on.is_not(None), p.left_on < scope.from_)
        cond.append(~gone)
    return and_(*cond)


def host_rotation(scope: Scope, group_ids: Sequence[str]) -> Select[Any]:
    """For ``group_ids``: held meetings with a host in the period, distinct hosts, the
    intervals (days) between a member's consecutive hostings in the period, and the
    members the group had in the period."""
    v = fact_meetings.c
    gap = v.day_number - func.lag(v.day_number).over(
        partition_by=(v.group_id, v.host_member_id), order_by=(v.day_number, v.meeting_id)
    )
    hostings = (
        select(v.group_id, v.host_member_id, gap.label("gap"))
        .where(
            *where(fact_meetings, Scope(None, None, scope.from_, scope.to)),
            v.group_id.in_(group_ids),
            v.held == 1,
            v.host_member_id.is_not(None),
        )
        .subquery("hostings")
    )
    h = hostings.c
    per = (
        select(
            h.group_id,
            func.count().label("meetings_hosted"),
            func.count(distinct(h.host_member_id)).label("distinct_hosts"),
            func.count(h.gap).label("repeat_hostings"),
            func.avg(h.gap).cast(Float).label("mean_days_between"),
            func.min(h.gap).label("min_days_between"),
        )
        .group_by(h.group_id)
        .subquery("per")
    )
    people = (
        select(func.count())
        .where(members.c.group_id == groups.c.id, _member_in_period(scope))
        .scalar_subquery()
    )
    return (
        select(
            groups.c.id.label("group_id"),
            groups.c.region,
            people.label("members"),
            func.coalesce(per.c.meetings_hosted, 0).label("meetings_hosted"),
            func.coalesce(per.c.distinct_hosts, 0).label("distinct_hosts"),
            func.coalesce(per.c.repeat_hostings, 0).label("repeat_hostings"),
            per.c.mean_days_between,
            per.c.min_days_between,
        )
        .select_from(groups.outerjoin(per, per.c.group_id == groups.c.id))
        .where(groups.c.id.in_(group_ids))
        .order_by(groups.c.region, groups.c.id)
    )


# -- members --------------------------------------------------------------------------------


def member_spans(scope: Scope) -> Select[Any]:
    """Members by (joined_on, left_on if left), counted: what :func:`retention` reads."""
    p = members.c
    left = case((p.status == LEFT, p.left_on), else_=None)
    conditions: list[ColumnElement[bool]] = [p.joined_on.is_not(None)]
    if scope.region is not None:
        conditions.append(p.region == scope.region)
    if scope.group_id is not None:
        conditions.append(p.group_id == scope.group_id)
    return (
        select(p.joined_on, left.label("left_on"), func.count().label("n"))
        .where(*conditions)
        .group_by(p.joined_on, left)
    )


def retention(spans: Sequence[Any], scope: Scope) -> list[tuple[int, int, int, int, int, int]]:
    """Per calendar year (clipped to the period's exact days): members the day before its
    first day, joined and left within it, of the former those still in on its last day,
    members on its last day. ``spans``: rows of :func:`member_spans`."""
    if not spans:
        return []
    years = [r.joined_on.year for r in spans] + [r.left_on.year for r in spans if r.left_on]
    first, last = min(years), max(years)
    if scope.from_ is not None:
        first = max(first, scope.from_.year)
    if scope.to is not None:
        last = min(last, scope.to.year)

    def on(row: Any, day: date) -> bool:
        return row.joined_on <= day and not (row.left_on is not None and row.left_on <= day)

    out = []
    for year in range(first, last + 1):
        start, end = date(year, 1, 1), date(year, 12, 31)
        if scope.from_ is not None:
            start = max(start, scope.from_)
        if scope.to is not None:
            end = min(end, scope.to)
        before = start - timedelta(days=1)
        counts = [0] * 5
        for r in spans:
            was, now = on(r, before), on(r, end)
            counts[0] += r.n * was
            counts[1] += r.n * (start <= r.joined_on <= end)
            counts[2] += r.n * (r.left_on is not None and start <= r.left_on <= end)
            counts[3] += r.n * (was and now)
            counts[4] += r.n * now
        out.append((year, counts[0], counts[1], counts[2], counts[3], counts[4]))
    return out


# -- feedback -------------------------------------------------------------------------------


def feedback_trend(scope: Scope) -> Select[Any]:
    """Per Helsinki month of the surveyed meetings: closed surveys, counted or withheld
    (whole months from the roll-ups, the period's partial ones from the unit facts)."""
    v, t = fact_surveys.c, fact_months.c
    cut = split(scope.from_, scope.to)
    parts = [
        select(
            v.month,
            func.coalesce(func.sum(v.counted), 0).label("surveys"),
            func.coalesce(func.sum(v.closed - v.counted), 0).label("surveys_withheld"),
            *sums(*(v[n] for n in FEEDBACK_SUMS)),
        )
        .where(*where(fact_surveys, piece), v.closed == 1)
        .group_by(v.month)
        for piece in _pieces(scope, cut)
    ]
    if cut.whole:
        whole = select(
            t.month,
            t.counted.label("surveys"),
            (t.closed - t.counted).label("surveys_withheld"),
            *(t[n] for n in FEEDBACK_SUMS),
        ).where(*_months_of(scope, cut), t.closed > 0)
        parts.append(whole)
    return _by_month(parts)


# -- initiatives ----------------------------------------------------------------------------


def initiative_statuses(scope: Scope) -> Select[Any]:
    """Initiatives started in the period (by their start day), by current status."""
    i = initiatives.c
    conditions = where(initiatives, scope, day="started_on")
    joined = (
        select(
            i.status,
            func.count(distinct(initiative_members.c.member_id)).label("members"),
            func.count(initiative_members.c.member_id).label("joinings"),
        )
        .select_from(
            initiatives.join(initiative_members, initiative_members.c.initiative_id == i.id)
        )
        .where(*conditions)
        .group_by(i.status)
        .subquery("joined")
    )
    counts = (
        select(i.status, func.count().label("initiatives"))
        .where(*conditions)
        .group_by(i.status)
        .subquery("counts")
    )
    return (
        select(
            counts.c.status,
            counts.c.initiatives,
            func.coalesce(joined.c.members, 0).label("members"),
            func.coalesce(joined.c.joinings, 0).label("joinings"),
        )
        .select_from(counts.outerjoin(joined, joined.c.status == counts.c.status))
        .order_by(counts.c.status)
    )


# -- coding agreement -----------------------------------------------------------------------


def coding(scope: Scope, activity_type: str | None = None) -> Select[Any]:
    """Per coder pair and type over the meetings both coded in the scope."""
    v = fact_coding.c
    conditions = where(fact_coding, scope)
    if activity_type is not None:
        conditions.append(v.activity_type == activity_type)
    return (
        select(v.coder_a, v.coder_b, v.activity_type, *sums(v.both, v.a_only, v.b_only, v.neither))
        .where(*conditions)
        .group_by(v.coder_a, v.coder_b, v.activity_type)
        .order_by(v.coder_a, v.coder_b, v.activity_type)
    )


def coding_pairs(scope: Scope, activity_type: str | None = None) -> Select[Any]:
    v = fact_coding.c
    conditions = where(fact_coding, scope)
    if activity_type is not None:
        conditions.append(v.activity_type == activity_type)
    pairs = select(v.coder_a, v.coder_b).where(*conditions).distinct().subquery()
    return select(func.count()).select_from(pairs)


# -- group health ---------------------------------------------------------------------------


def _held_in(scope: Scope, group_ids: Sequence[str]) -> list[ColumnElement[bool]]:
    """Held meetings of ``group_ids`` in the period."""
    v = fact_meetings.c
    period = Scope(None, None, scope.from_, scope.to)
    return [*where(fact_meetings, period), v.group_id.in_(group_ids), v.held == 1]


def health_streaks(scope: Scope, group_ids: Sequence[str]) -> Select[Any]:
    """Per group and attendee: the longest run of consecutive held meetings of the period
    attended (meetings in the order of day, start, id) and the current run (the latest
    meetings attended in a row, up to the group's newest; 0 if absent from it). Runs are
    islands: while a member keeps coming, the meeting's number in the group minus the
    number of the member's attendance stays the same."""
    v = fact_meetings.c
    held = (
        select(
            v.group_id,
            v.meeting_id,
            func.row_number()
            .over(partition_by=v.group_id, order_by=(v.day_number, v.starts_at, v.meeting_id))
            .label("n"),
            func.count().over(partition_by=v.group_id).label("last"),
        )
        .where(*_held_in(scope, group_ids))
        .subquery("held")
    )
    came = (
        select(
            held.c.group_id,
            attendance.c.member_id,
            held.c.n,
            held.c.last,
            (
                held.c.n
                - func.row_number().over(
                    partition_by=(held.c.group_id, attendance.c.member_id), order_by=held.c.n
                )
            ).label("island"),
        )
        .join(attendance, attendance.c.meeting_id == held.c.meeting_id)
        .subquery("came")
    )
    runs = (
        select(
            came.c.group_id,
            came.c.member_id,
            func.count().label("length"),
            func.max(came.c.n).label("ends"),
            func.max(came.c.last).label("last"),
        )
        .group_by(came.c.group_id, came.c.member_id, came.c.island)
        .subquery("runs")
    )
    r = runs.c
    return select(
        r.group_id,
        r.member_id,
        func.max(r.length).label("longest"),
        func.max(case((r.ends == r.last, r.length), else_=0)).label("current"),
    ).group_by(r.group_id, r.member_id)


def health_members(scope: Scope, group_ids: Sequence[str]) -> Select[Any]:
    """The members of ``group_ids`` (all: the period is applied in compute.group_health)
    with their attendance streaks in the period (0 without one) and whether they hosted a
    held meeting of it."""
    p, v = members.c, fact_meetings.c
    streaks = health_streaks(scope, group_ids).subquery("streaks")
    hosts = (
        select(v.group_id, v.host_member_id)
        .where(*_held_in(scope, group_ids), v.host_member_id.is_not(None))
        .distinct()
        .subquery("hosts")
    )
    return (
        select(
            p.group_id,
            p.id,
            p.status,
            p.joined_on,
            p.left_on,
            func.coalesce(streaks.c.longest, 0).label("longest_streak"),
            func.coalesce(streaks.c.current, 0).label("current_streak"),
            hosts.c.host_member_id.is_not(None).label("hosted"),
        )
        .select_from(
            members.outerjoin(
                streaks, and_(streaks.c.group_id == p.group_id, streaks.c.member_id == p.id)
            ).outerjoin(hosts, and_(hosts.c.group_id == p.group_id, hosts.c.host_member_id == p.id))
        )
        .where(p.group_id.in_(group_ids))
    )


def health_meetings(scope: Scope, group_ids: Sequence[str]) -> Select[Any]:
    """Per group: its held meetings in the period, the newest's start, attendees and
    members expected at them."""
    v = fact_meetings.c
    return (
        select(
            v.group_id,
            func.count().label("meetings_held"),
            func.max(v.starts_at).label("last_meeting_at"),
            func.sum(v.attendees).label("attendees"),
            func.sum(v.expected).label("expected"),
        )
        .where(*_held_in(scope, group_ids))
        .group_by(v.group_id)
    )


def health_surveys(scope: Scope, group_ids: Sequence[str]) -> Select[Any]:
    v = fact_surveys.c
    return (
        select(v.group_id, v.responses, v.overall_sum)
        .where(
            *where(fact_surveys, Scope(None, None, scope.from_, scope.to)),
            v.group_id.in_(group_ids),
            v.counted == 1,
        )
        .order_by(v.group_id, v.day, v.survey_id)
    )


# -- regions --------------------------------------------------------------------------------


def region_overview(scope: Scope = NATION) -> Select[Any]:
    """Every region's summary in the period with its freshness (unordered: callers page by
    region). Groups and active members are current; the rest are the period's: whole
    months from the region's roll-ups, partial first and last months from the unit facts."""
    r, t = regions.c, fact_months.c
    cut = split(scope.from_, scope.to)

    def of(table: Table, value: Any, name: str, *extra: ColumnElement[bool]) -> Any:
        total: Any = literal(0)
        if cut.whole:
            total = (
                select(func.coalesce(func.sum(t[name]), 0))
                .where(t.scope == literal(scope_key("")) + r.id, *_month_range(cut))
                .scalar_subquery()
            )
        for a, b in cut.edges:
            piece = Scope(None, None, a, b)
            total = total + (
                select(func.coalesce(value, 0))
                .where(table.c.region == r.id, *where(table, piece), *extra)
                .scalar_subquery()
            )
        return total

    fm, fs, fc = fact_meetings.c, fact_surveys.c, fact_cop.c
    period = Scope(None, None, scope.from_, scope.to)
    on = fact_meetings.alias("on_day")
    last_day = (
        select(on.c.day)
        .where(on.c.region == r.id, on.c.held == 1, *where(on, period))
        .order_by(on.c.day.desc())
        .limit(1)
        .correlate(regions)
        .scalar_subquery()
    )
    return select(
        r.id.label("region"),
        select(func.count()).where(groups.c.region == r.id).scalar_subquery().label("groups"),
        select(func.count())
        .where(members.c.region == r.id, members.c.status == ACTIVE)
        .scalar_subquery()
        .label("members_active"),
        of(fact_meetings, func.sum(fm.held), "held").label("meetings_held"),
        select(func.max(fm.starts_at))
        # the last day's: one index step (the day is in the period: naming the period here
        # made SQLite walk the region's days in it, the day's lookup again for each)
        .where(fm.region == r.id, fm.held == 1, fm.day == last_day)
        .scalar_subquery()
        .label("last_meeting_at"),
        of(fact_meetings, func.sum(fm.attendees), "attendees").label("attendees"),
        of(fact_meetings, func.sum(fm.expected), "expected").label("expected"),
        of(fact_cop, func.sum(fc.activities), "activities", fc.counted == 1).label("activities"),
        select(func.count())
        .where(initiatives.c.region == r.id, *where(initiatives, period, day="started_on"))
        .scalar_subquery()
        .label("initiatives"),
        of(fact_surveys, func.sum(fs.responses), "responses", fs.counted == 1).label("responses"),
        func.coalesce(r.display_name, r.id).label("display_name"),
        r.last_event_at,
        func.coalesce(r.events_applied, 0).label("events_applied"),
    )
