"""The research views of one region, computed from its read-model rows (pure Python).

:func:`compute` takes everything the read model holds for a region (:class:`RegionData`)
and returns the rows of every view table for it (:class:`ViewRows`). The refresh (and the
rebuild) delete a region's view rows and insert these, so a view is always a function of the
read model: applying an event twice, or events out of order, leaves the same views as the
read model they produce. The definitions are documented in docs/research-views.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import combinations, pairwise
from statistics import fmean
from typing import Any

from shared.contracts.meetings import ACTIVITY_TYPES

K_ANONYMITY = 3  # a survey counts only once closed with at least this many responses
HELD, CANCELLED, LEFT, ACTIVE = "HELD", "CANCELLED", "LEFT", "ACTIVE"
WENGER_TYPES = ACTIVITY_TYPES  # the one definition of the 11 types (shared.activity_types)
FEEDBACK_WINDOW = 3  # group health: mean of the last 3 counted surveys vs the 3 before

Row = dict[str, Any]


@dataclass(slots=True)
class Member:
    id: str
    group_id: str
    status: str
    joined_on: date | None
    left_on: date | None

    def member_on(self, day: date) -> bool:
        """In the group on ``day``: joined by then and not (yet) left (pauses count as in)."""
        if self.joined_on is None or self.joined_on > day:
            return False
        return not (self.status == LEFT and self.left_on is not None and self.left_on <= day)


@dataclass(slots=True)
class Meeting:
    id: str
    group_id: str
    status: str
    starts_at: datetime
    host_member_id: str | None


@dataclass(slots=True)
class Activity:
    id: str
    group_id: str
    meeting_id: str
    activity_type: str
    example: str
    coder_id: str | None
    meeting_starts_at: datetime


@dataclass(slots=True)
class Survey:
    id: str
    group_id: str
    invited: int
    closed_at: datetime | None


@dataclass(slots=True)
class Response:
    survey_id: str
    overall: int
    usefulness: int
    recommend: int


@dataclass(slots=True)
class Initiative:
    id: str
    status: str


@dataclass
class RegionData:
    region: str
    groups: list[str] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    attendance: list[tuple[str, str]] = field(default_factory=list)  # (meeting, member)
    activities: list[Activity] = field(default_factory=list)
    surveys: list[Survey] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    initiatives: list[Initiative] = field(default_factory=list)
    initiative_members: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ViewRows:
    """Rows per view table name (``view_*``)."""

    tables: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))


def utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored in UTC); :func:`load` normalises once."""
    if at.tzinfo is UTC:
        return at
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def month_of(at: datetime) -> str:
    return utc(at).strftime("%Y-%m")


def compute(data: RegionData) -> dict[str, list[Row]]:
    region = data.region
    held = sorted(
        (m for m in data.meetings if m.status == HELD), key=lambda m: (utc(m.starts_at), m.id)
    )
    attendees: dict[str, set[str]] = defaultdict(set)
    for meeting_id, member_id in data.attendance:
        attendees[meeting_id].add(member_id)
    members_of: dict[str, list[Member]] = defaultdict(list)
    for member in data.members:
        members_of[member.group_id].append(member)
    expected = {}
    for m in held:
        day = utc(m.starts_at).date()
        expected[m.id] = sum(1 for x in members_of[m.group_id] if x.member_on(day))
    counted = _counted_surveys(data)
    out: dict[str, list[Row]] = {
        "view_cop_cells": _cop_cells(region, data.activities),
        "view_retention": _retention(region, data.members),
        "view_feedback_months": _feedback_months(region, data.surveys, counted),
        "view_initiative_status": _initiatives(region, data),
        "view_coding": _coding(region, data.activities),
    }
    group_months, region_months = _months(region, data.meetings, attendees, expected)
    out["view_group_months"] = group_months
    out["view_region_months"] = region_months
    groups = sorted(set(data.groups) | set(members_of) | {m.group_id for m in data.meetings})
    held_of: dict[str, list[Meeting]] = defaultdict(list)
    for m in held:
        held_of[m.group_id].append(m)
    out["view_host_rotation"] = [
        _host_rotation(region, g, held_of[g], members_of[g]) for g in groups
    ]
    out["view_group_health"] = [
        _health(region, g, held_of[g], members_of[g], attendees, expected, counted) for g in groups
    ]
    out["view_region_summary"] = [
        {
            "region": region,
            "groups": len(set(data.groups)),
            "members_active": sum(1 for m in data.members if m.status == ACTIVE),
            "meetings_held": len(held),
            "last_meeting_at": utc(held[-1].starts_at) if held else None,
            "attendees": sum(len(attendees[m.id]) for m in held),
            "expected": sum(expected.values()),
            "activities": len(data.activities),
            "initiatives": len(data.initiatives),
            "responses": sum(c.responses for c in counted.values()),
        }
    ]
    return out


# -- CoP activities -------------------------------------------------------------------------


def _cop_cells(region: str, activities: Iterable[Activity]) -> list[Row]:
    cells: dict[tuple[int, str], list[Activity]] = defaultdict(list)
    for a in activities:
        cells[(utc(a.meeting_starts_at).year, a.activity_type)].append(a)
    rows = []
    for (year, kind), items in sorted(cells.items()):
        first = min(items, key=lambda a: (utc(a.meeting_starts_at), a.id))
        rows.append(
            {
                "region": region,
                "year": year,
                "activity_type": kind,
                "activities": len(items),
                "meetings": len({a.meeting_id for a in items}),
                "groups": len({a.group_id for a in items}),
                "example": first.example,
            }
        )
    return rows


def _coding(region: str, activities: Iterable[Activity]) -> list[Row]:
    """Unit: a meeting x a Wenger type, coded present/absent by each of two coders who
    both classified the meeting (recorded at least one activity of it)."""
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for act in activities:
        if act.coder_id is not None:
            seen[act.meeting_id][act.coder_id].add(act.activity_type)
    cells: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for coders in seen.values():
        for a, b in combinations(sorted(coders), 2):
            for kind in WENGER_TYPES:
                has_a, has_b = kind in coders[a], kind in coders[b]
                cell = cells[(a, b, kind)]
                cell[0 if has_a and has_b else 1 if has_a else 2 if has_b else 3] += 1
    return [
        {
            "region": region,
            "coder_a": a,
            "coder_b": b,
            "activity_type": kind,
            "both": c[0],
            "a_only": c[1],
            "b_only": c[2],
            "neither": c[3],
        }
        for (a, b, kind), c in sorted(cells.items())
    ]


def cohen_kappa(both: int, a_only: int, b_only: int, neither: int) -> float | None:
    """Cohen's kappa of a 2x2 table; None when it is undefined (no units, or chance
    agreement is 1: both coders said the same thing of every unit)."""
    n = both + a_only + b_only + neither
    if n == 0:
        return None
    observed = (both + neither) / n
    p_a, p_b = (both + a_only) / n, (both + b_only) / n
    chance = p_a * p_b + (1 - p_a) * (1 - p_b)
    if chance >= 1:
        return None
    return (observed - chance) / (1 - chance)


# -- meetings, hosts, health ----------------------------------------------------------------


def _months(
    region: str,
    meetings: Iterable[Meeting],
    attendees: dict[str, set[str]],
    expected: dict[str, int],
) -> tuple[list[Row], list[Row]]:
    per_group: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for m in meetings:
        if m.status not in (HELD, CANCELLED):
            continue
        cell = per_group[(m.group_id, month_of(m.starts_at))]
        if m.status == HELD:
            cell[0] += 1
            cell[2] += len(attendees[m.id])
            cell[3] += expected[m.id]
        else:
            cell[1] += 1
    group_rows = []
    per_region: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for (group_id, month), (held, cancelled, came, due) in sorted(per_group.items()):
        group_rows.append(
            {
                "group_id": group_id,
                "month": month,
                "region": region,
                "meetings_held": held,
                "meetings_cancelled": cancelled,
                "attendees": came,
                "expected": due,
            }
        )
        total = per_region[month]
        total[0] += 1 if held else 0
        for i, value in enumerate((held, cancelled, came, due), start=1):
            total[i] += value
    region_rows = [
        {
            "region": region,
            "month": month,
            "groups_meeting": t[0],
            "meetings_held": t[1],
            "meetings_cancelled": t[2],
            "attendees": t[3],
            "expected": t[4],
        }
        for month, t in sorted(per_region.items())
    ]
    return group_rows, region_rows


def _host_rotation(region: str, group_id: str, held: list[Meeting], members: list[Member]) -> Row:
    hostings: dict[str, list[date]] = defaultdict(list)
    for m in held:
        if m.host_member_id is not None:
            hostings[m.host_member_id].append(utc(m.starts_at).date())
    gaps = [
        (later - earlier).days for days in hostings.values() for earlier, later in pairwise(days)
    ]
    return {
        "group_id": group_id,
        "region": region,
        "members": sum(1 for m in members if m.joined_on is not None),
        "meetings_hosted": sum(len(d) for d in hostings.values()),
        "distinct_hosts": len(hostings),
        "repeat_hostings": len(gaps),
        "mean_days_between": fmean(gaps) if gaps else None,
        "min_days_between": min(gaps) if gaps else None,
    }


def _health(
    region: str,
    group_id: str,
    held: list[Meeting],
    members: list[Member],
    attendees: dict[str, set[str]],
    expected: dict[str, int],
    counted: dict[str, _Counted],
) -> Row:
    longest = 0
    current: list[int] = []
    hosts = {m.host_member_id for m in held}
    active = [m for m in members if m.status == ACTIVE]
    for member in members:
        run = best = 0
        for m in held:
            run = run + 1 if member.id in attendees[m.id] else 0
            best = max(best, run)
        longest = max(longest, best)
        if member.status == ACTIVE:
            current.append(run)  # consecutive latest meetings attended, up to the newest
    mine = sorted(
        (c for c in counted.values() if c.group_id == group_id), key=lambda c: (c.closed, c.id)
    )
    recent, previous = mine[-FEEDBACK_WINDOW:], mine[-2 * FEEDBACK_WINDOW : -FEEDBACK_WINDOW]
    return {
        "group_id": group_id,
        "region": region,
        "members_active": len(active),
        "members_ever": sum(1 for m in members if m.joined_on is not None),
        "members_left": sum(1 for m in members if m.status == LEFT),
        "meetings_held": len(held),
        "last_meeting_at": utc(held[-1].starts_at) if held else None,
        "attendees": sum(len(attendees[m.id]) for m in held),
        "expected": sum(expected[m.id] for m in held),
        "longest_streak": longest,
        "mean_current_streak": fmean(current) if current else None,
        "active_hosted": sum(1 for m in active if m.id in hosts),
        "feedback_recent": _mean_overall(recent),
        "feedback_previous": _mean_overall(previous) if len(previous) == FEEDBACK_WINDOW else None,
    }


# -- members --------------------------------------------------------------------------------


def _retention(region: str, members: Iterable[Member]) -> list[Row]:
    joined = [m for m in members if m.joined_on is not None]
    if not joined:
        return []
    years = [m.joined_on.year for m in joined if m.joined_on is not None]
    years += [m.left_on.year for m in joined if m.status == LEFT and m.left_on is not None]
    rows = []
    for year in range(min(years), max(years) + 1):
        start, end = date(year, 1, 1), date(year, 12, 31)
        at_start = [m for m in joined if m.member_on(date(year - 1, 12, 31))]
        rows.append(
            {
                "region": region,
                "year": year,
                "members_start": len(at_start),
                "joined": sum(1 for m in joined if m.joined_on and start <= m.joined_on <= end),
                "left": sum(
                    1
                    for m in joined
                    if m.status == LEFT and m.left_on is not None and start <= m.left_on <= end
                ),
                "retained": sum(1 for m in at_start if m.member_on(end)),
                "members_end": sum(1 for m in joined if m.member_on(end)),
            }
        )
    return rows


# -- feedback -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counted:
    id: str
    group_id: str
    closed: datetime
    invited: int
    responses: int
    overall: int
    usefulness: int
    recommend: int
    promoters: int
    detractors: int


def _counted_surveys(data: RegionData) -> dict[str, _Counted]:
    """Surveys closed with at least K_ANONYMITY responses (the only ones any view uses)."""
    answers: dict[str, list[Response]] = defaultdict(list)
    for r in data.responses:
        answers[r.survey_id].append(r)
    out = {}
    for s in data.surveys:
        got = answers.get(s.id, [])
        if s.closed_at is None or len(got) < K_ANONYMITY:
            continue
        out[s.id] = _Counted(
            id=s.id,
            group_id=s.group_id,
            closed=utc(s.closed_at),
            invited=s.invited,
            responses=len(got),
            overall=sum(r.overall for r in got),
            usefulness=sum(r.usefulness for r in got),
            recommend=sum(r.recommend for r in got),
            promoters=sum(1 for r in got if r.recommend >= 9),
            detractors=sum(1 for r in got if r.recommend <= 6),
        )
    return out


def _feedback_months(
    region: str, surveys: Iterable[Survey], counted: dict[str, _Counted]
) -> list[Row]:
    months: dict[str, Row] = {}
    sums = ("invited", "responses", "overall", "usefulness", "recommend")
    for s in surveys:
        if s.closed_at is None:
            continue
        key = month_of(s.closed_at)
        row = months.setdefault(
            key,
            {
                "region": region,
                "month": key,
                "surveys": 0,
                "surveys_withheld": 0,
                "invited": 0,
                "responses": 0,
                "overall_sum": 0,
                "usefulness_sum": 0,
                "recommend_sum": 0,
                "promoters": 0,
                "detractors": 0,
            },
        )
        c = counted.get(s.id)
        if c is None:
            row["surveys_withheld"] += 1
            continue
        row["surveys"] += 1
        for name in sums:
            row[name if name in ("invited", "responses") else f"{name}_sum"] += getattr(c, name)
        row["promoters"] += c.promoters
        row["detractors"] += c.detractors
    return [months[k] for k in sorted(months)]


def _mean_overall(surveys: list[_Counted]) -> float | None:
    responses = sum(c.responses for c in surveys)
    return sum(c.overall for c in surveys) / responses if responses else None


# -- initiatives ----------------------------------------------------------------------------


def _initiatives(region: str, data: RegionData) -> list[Row]:
    status = {i.id: i.status for i in data.initiatives}
    per: dict[str, list[Any]] = defaultdict(lambda: [0, set(), 0])
    for i in data.initiatives:
        per[i.status][0] += 1
    for initiative_id, member_id in data.initiative_members:
        s = status.get(initiative_id)
        if s is not None:
            per[s][1].add(member_id)
            per[s][2] += 1
    return [
        {
            "region": region,
            "status": s,
            "initiatives": v[0],
            "members": len(v[1]),
            "joinings": v[2],
        }
        for s, v in sorted(per.items())
    ]
