"""The research views' rules and the figures SQL does not give easily (pure Python).

:func:`group_health` turns one page of groups' held meetings (with attendance), members and
counted surveys in a period into their health rows: streaks need the meetings in order.
Definitions: docs/research-views.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import fmean
from typing import Any

from shared.contracts.meetings import ACTIVITY_TYPES

K_ANONYMITY = 3  # a survey counts only once closed with at least this many responses
HELD, CANCELLED, LEFT, ACTIVE = "HELD", "CANCELLED", "LEFT", "ACTIVE"
WENGER_TYPES = ACTIVITY_TYPES  # the one definition of the 11 types (shared.activity_types)
FEEDBACK_WINDOW = 3  # group health: mean of the last 3 counted surveys vs the 3 before

Row = dict[str, Any]


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


@dataclass
class _Held:
    id: str
    starts_at: datetime
    host: str | None
    attendees: int
    expected: int
    came: set[str] = field(default_factory=set)


def group_health(
    page: Sequence[tuple[str, str]],
    people: Iterable[Any],
    held_rows: Iterable[Any],
    surveys: Iterable[Any],
    from_: date | None,
    to: date | None,
) -> list[Row]:
    """Health rows of the ``page``'s groups ((region, group_id), in order) in the period:
    ``people`` rows of queries.health_members, ``held_rows`` of health_meetings,
    ``surveys`` of health_surveys."""
    members_of: dict[str, list[Any]] = defaultdict(list)
    for p in people:
        members_of[p.group_id].append(p)
    held_of: dict[str, dict[str, _Held]] = defaultdict(dict)
    for r in held_rows:
        meeting = held_of[r.group_id].get(r.meeting_id)
        if meeting is None:
            meeting = held_of[r.group_id][r.meeting_id] = _Held(
                r.meeting_id, r.starts_at, r.host_member_id, r.attendees, r.expected
            )
        if r.member_id is not None:
            meeting.came.add(r.member_id)
    counted: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for s in surveys:
        counted[s.group_id].append((s.responses, s.overall_sum))
    return [
        _health(
            region,
            group_id,
            list(held_of[group_id].values()),
            members_of[group_id],
            counted[group_id],
            from_,
            to,
        )
        for region, group_id in page
    ]


def _health(
    region: str,
    group_id: str,
    held: list[_Held],
    members: list[Any],
    surveys: list[tuple[int, int]],
    from_: date | None,
    to: date | None,
) -> Row:
    ever = [
        m
        for m in members
        if m.joined_on is not None
        and (to is None or m.joined_on <= to)
        and not (
            from_ is not None and m.status == LEFT and m.left_on is not None and m.left_on < from_
        )
    ]
    left = [
        m
        for m in ever
        if m.status == LEFT
        and m.left_on is not None
        and (from_ is None or m.left_on >= from_)
        and (to is None or m.left_on <= to)
    ]
    active = [m for m in members if m.status == ACTIVE]
    longest = 0
    current: list[int] = []
    hosts = {m.host for m in held}
    for member in members:
        run = best = 0
        for m in held:
            run = run + 1 if member.id in m.came else 0
            best = max(best, run)
        longest = max(longest, best)
        if member.status == ACTIVE:
            current.append(run)  # consecutive latest meetings attended, up to the newest
    recent, previous = surveys[-FEEDBACK_WINDOW:], surveys[-2 * FEEDBACK_WINDOW : -FEEDBACK_WINDOW]
    return {
        "group_id": group_id,
        "region": region,
        "members_active": len(active),
        "members_ever": len(ever),
        "members_left": len(left),
        "meetings_held": len(held),
        "last_meeting_at": max((m.starts_at for m in held), default=None),
        "attendees": sum(m.attendees for m in held),
        "expected": sum(m.expected for m in held),
        "longest_streak": longest,
        "mean_current_streak": fmean(current) if current else None,
        "active_hosted": sum(1 for m in active if m.id in hosts),
        "feedback_recent": _mean_overall(recent),
        "feedback_previous": _mean_overall(previous) if len(previous) == FEEDBACK_WINDOW else None,
    }


def _mean_overall(surveys: list[tuple[int, int]]) -> float | None:
    responses = sum(n for n, _ in surveys)
    return sum(o for _, o in surveys) / responses if responses else None
