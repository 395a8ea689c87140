"""The research views' SQL, one place for the GraphQL fields and the exports.

Each function gives the select of one view over its summary table, for the nation
(``region=None``) or one region, with optional filters; callers check access first
(graphql/views/query.py, exports/views.py). Periods are inclusive days, matched by month
or year as the view is kept.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select

from services.gateway.orm import (
    regions,
    view_coding,
    view_cop_cells,
    view_feedback_months,
    view_initiative_status,
    view_region_months,
    view_region_summary,
    view_retention,
)
from services.gateway.views.refresh import NATIONAL


def sums(*columns: Any) -> list[Any]:
    return [func.coalesce(func.sum(col), 0).label(col.name) for col in columns]


def months(column: Any, from_: date | None, to: date | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if from_ is not None:
        where.append(column >= from_.strftime("%Y-%m"))
    if to is not None:
        where.append(column <= to.strftime("%Y-%m"))
    return where


def years(column: Any, from_: date | None, to: date | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if from_ is not None:
        where.append(column >= from_.year)
    if to is not None:
        where.append(column <= to.year)
    return where


def cop_table(
    region: str | None,
    examples: bool,
    activity_type: str | None = None,
    from_: date | None = None,
    to: date | None = None,
) -> Select[Any]:
    """``examples``: whether the caller may read the regions' example texts (else null)."""
    v = view_cop_cells.c
    cell = view_cop_cells.alias("cell")
    # the national rows carry no example: take the first region's (one indexed seek)
    example = (
        select(cell.c.example)
        .where(
            cell.c.activity_type == v.activity_type,
            cell.c.year == v.year,
            cell.c.region != NATIONAL,
        )
        .order_by(cell.c.region)
        .limit(1)
        .scalar_subquery()
    )
    shown: Any = (v.example if region is not None else example) if examples else literal(None)
    query = select(
        v.activity_type, v.year, v.activities, v.meetings, v.groups, shown.label("example")
    ).where(v.region == (NATIONAL if region is None else region), *years(v.year, from_, to))
    if activity_type is not None:
        query = query.where(v.activity_type == activity_type)
    return query.order_by(v.activity_type, v.year)


def meetings_over_time(
    region: str | None, from_: date | None = None, to: date | None = None
) -> Select[Any]:
    v = view_region_months.c
    query = select(
        v.month,
        *sums(v.groups_meeting, v.meetings_held, v.meetings_cancelled, v.attendees, v.expected),
    ).where(*months(v.month, from_, to), v.region == (region or NATIONAL))
    return query.group_by(v.month).order_by(v.month)


def retention(region: str | None, from_: date | None = None, to: date | None = None) -> Select[Any]:
    v = view_retention.c
    query = select(v.year, *sums(v.members_start, v.joined, v.left, v.retained, v.members_end))
    if region is not None:
        query = query.where(v.region == region)
    query = query.where(*years(v.year, from_, to))
    return query.group_by(v.year).order_by(v.year)


def feedback_trend(
    region: str | None, from_: date | None = None, to: date | None = None
) -> Select[Any]:
    v = view_feedback_months.c
    query = select(
        v.month,
        *sums(
            v.surveys,
            v.surveys_withheld,
            v.invited,
            v.responses,
            v.overall_sum,
            v.usefulness_sum,
            v.recommend_sum,
            v.promoters,
            v.detractors,
        ),
    ).where(*months(v.month, from_, to), v.region == (region or NATIONAL))
    return query.group_by(v.month).order_by(v.month)


def initiative_statuses(region: str | None) -> Select[Any]:
    v = view_initiative_status.c
    query = select(v.status, *sums(v.initiatives, v.members, v.joinings))
    if region is not None:
        query = query.where(v.region == region)
    return query.group_by(v.status).order_by(v.status)


def coding_where(region: str | None, activity_type: str | None) -> list[ColumnElement[bool]]:
    v = view_coding.c
    where: list[ColumnElement[bool]] = []
    if region is not None:
        where.append(v.region == region)
    if activity_type is not None:
        where.append(v.activity_type == activity_type)
    return where


def coding(region: str | None, activity_type: str | None = None) -> Select[Any]:
    """Per coder pair and type (summed over regions for the nation), by pair and type."""
    v = view_coding.c
    return (
        select(v.coder_a, v.coder_b, v.activity_type, *sums(v.both, v.a_only, v.b_only, v.neither))
        .where(*coding_where(region, activity_type))
        .group_by(v.coder_a, v.coder_b, v.activity_type)
        .order_by(v.coder_a, v.coder_b, v.activity_type)
    )


def region_overview() -> Select[Any]:
    """Every region's summary with its freshness (unordered: callers page by region)."""
    v = view_region_summary.c
    query = select(
        view_region_summary,
        func.coalesce(regions.c.display_name, v.region).label("display_name"),
        regions.c.last_event_at,
        func.coalesce(regions.c.events_applied, 0).label("events_applied"),
    )
    return query.select_from(view_region_summary.outerjoin(regions, regions.c.id == v.region))
