"""The research views' rules and the figures SQL does not give easily (pure Python).

:func:`group_health` turns one page of groups' held meetings (with attendance), members and
counted surveys in a period into their health rows: streaks need the meetings in order.
Definitions: docs/research-views.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
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


def group_health(
    page: Sequence[tuple[str, str]],
    people: Iterable[Any],
    held_rows: Iterable[Any],
    surveys: Iterable[Any],
    from_: date | None,
    to: date | None,
) -> list[Row]:
    """Health rows of the ``page``'s groups ((region, group_id), in order) in the period:
    ``people`` rows of queries.health_members (members with their streaks, computed in
    SQL), ``held_rows`` of health_meetings (one a group), ``surveys`` of health_surveys."""
    members_of: dict[str, list[Any]] = defaultdict(list)
    for p in people:
        members_of[p.group_id].append(p)
    held_of = {r.group_id: r for r in held_rows}
    counted: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for s in surveys:
        counted[s.group_id].append((s.responses, s.overall_sum))
    return [
        _health(
            region,
            group_id,
            held_of.get(group_id),
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
    held: Any,
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
    # the mean of whole numbers, as statistics.fmean gives it: the exact sum over the count
    current = sum(m.current_streak for m in active) / len(active) if active else None
    recent, previous = surveys[-FEEDBACK_WINDOW:], surveys[-2 * FEEDBACK_WINDOW : -FEEDBACK_WINDOW]
    return {
        "group_id": group_id,
        "region": region,
        "members_active": len(active),
        "members_ever": len(ever),
        "members_left": len(left),
        "meetings_held": held.meetings_held if held else 0,
        "last_meeting_at": held.last_meeting_at if held else None,
        "attendees": held.attendees if held else 0,
        "expected": held.expected if held else 0,
        "longest_streak": max((m.longest_streak for m in members), default=0),
        "mean_current_streak": current,
        "active_hosted": sum(1 for m in active if m.hosted),
        "feedback_recent": _mean_overall(recent),
        "feedback_previous": _mean_overall(previous) if len(previous) == FEEDBACK_WINDOW else None,
    }


def _mean_overall(surveys: list[tuple[int, int]]) -> float | None:
    responses = sum(n for n, _ in surveys)
    return sum(o for _, o in surveys) / responses if responses else None
