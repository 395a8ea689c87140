"""Exports of the research views: each the select its GraphQL field runs
(:mod:`services.gateway.views.queries`) over the whole period, with the same rates
(:mod:`services.gateway.views.metrics`) and the same guard rules:

* views of totals (CoP table, meetings over time, retention, feedback trend, initiative
  statuses): without ``region`` the national totals, for every role; ``region=R`` that
  region's figures, for agencies and researchers (REGIONAL). The CoP table's example texts
  (a region's own words) only for callers who see that region in full (its agency,
  researchers), in national totals only for researchers (``Guard.reads_texts``);
* coding agreement: coder pairs' pseudonyms, REGIONAL even for the nation;
* per-group and per-region rows (group months, host rotation, group health, region
  overview): REGIONAL for the region of each row (agencies see every region's, the public
  none).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row, func
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.auth.guard import Level
from services.gateway.exports.dataset import (
    GROUP,
    INITIATIVE_STATUSES,
    REGION,
    WENGER_TYPES,
    Column,
    Dataset,
    column,
)
from services.gateway.orm import fact_coding, fact_meetings, groups, regions
from services.gateway.views import compute, queries
from services.gateway.views.metrics import cohen_kappa, ratio, recommend_score, trend
from services.gateway.views.queries import NATION, Scope

MONTH = column("month", "string", "Month of the meetings' days, YYYY-MM (Europe/Helsinki)")
YEAR = column("year", "integer", "Calendar year")
HELD = column("meetings_held", "integer", "Meetings held")
CANCELLED = column("meetings_cancelled", "integer", "Meetings cancelled")
ATTENDEES = column("attendees", "integer", "Attendances at held meetings")
EXPECTED = column("expected", "integer", "Members the groups had on the days of held meetings")
ATTENDANCE_RATE = column("attendance_rate", "number", "attendees / expected (null if 0)")
TOTALS = " Without ?region the national totals (every role); ?region=R one region's."


def _plus(*figures: Callable[[Row[Any]], Any]) -> Callable[[Row[Any]], Sequence[Any]]:
    """The row as selected, then the derived ``figures`` of it."""
    return lambda row: (*row, *(f(row) for f in figures))


def _attendance(row: Row[Any]) -> float | None:
    return ratio(row.attendees, row.expected)


def _retention(spans: list[Row[Any]]) -> list[Sequence[Any]]:
    return [(*r, ratio(r[4], r[1])) for r in queries.retention(spans, NATION)]


async def _host_rotation(session: AsyncSession, page: list[Row[Any]]) -> list[Sequence[Any]]:
    ids = [r.group_id for r in page]
    rows = (await session.execute(queries.host_rotation(NATION, ids))).all()
    return [(*r, ratio(r.distinct_hosts, r.members)) for r in rows]


_HEALTH = (
    "group_id",
    "region",
    "members_active",
    "members_ever",
    "members_left",
    "meetings_held",
    "last_meeting_at",
    "attendees",
    "expected",
    "longest_streak",
    "mean_current_streak",
    "active_hosted",
    "feedback_recent",
    "feedback_previous",
)


async def _group_health(session: AsyncSession, page: list[Row[Any]]) -> list[Sequence[Any]]:
    ids = [r.group_id for r in page]
    people = (await session.execute(queries.health_members(NATION, ids))).all()
    held = (await session.execute(queries.health_meetings(NATION, ids))).all()
    polls = (await session.execute(queries.health_surveys(NATION, ids))).all()
    keys = [(r.region, r.group_id) for r in page]
    out: list[Sequence[Any]] = []
    for h in compute.group_health(keys, people, held, polls, None, None):
        out.append(
            (
                *(h[name] for name in _HEALTH),
                ratio(h["attendees"], h["expected"]),
                ratio(h["members_left"], h["members_ever"]),
                ratio(h["active_hosted"], h["members_active"]),
                trend(h["feedback_recent"], h["feedback_previous"]),
            )
        )
    return out


def _groups() -> Any:
    return queries.group_page(NATION).order_by(groups.c.region, groups.c.id)


def _totals(
    name: str,
    description: str,
    columns: tuple[Column, ...],
    build: Callable[[str | None, bool], Any],
    derive: Callable[[Row[Any]], Sequence[Any]] | None = None,
    national: Level = Level.NATIONAL,
    collect: Callable[[list[Row[Any]]], list[Sequence[Any]]] | None = None,
) -> Dataset:
    return Dataset(
        name,
        description,
        columns,
        build(None, True),
        collect=collect,
        region=None,
        level=Level.REGIONAL,
        totals=build,
        national=national,
        derive=derive,
    )


_PAIR = ("both", "a_only", "b_only", "neither")


def _coding(region: str | None, _examples: bool) -> Any:
    v = fact_coding.c
    pair = (v.coder_a, v.coder_b)
    over = [
        func.sum(func.coalesce(func.sum(v[c]), 0)).over(partition_by=pair).label(f"pair_{c}")
        for c in _PAIR
    ]
    return queries.coding(Scope(region)).add_columns(*over)


def _agreement(row: Row[Any]) -> Sequence[Any]:
    cells = [int(row._mapping[c]) for c in _PAIR]
    pair = [int(row._mapping[f"pair_{c}"]) for c in _PAIR]
    return (
        row.coder_a,
        row.coder_b,
        row.activity_type,
        *cells,
        cohen_kappa(*cells),
        sum(cells),
        cohen_kappa(*pair),
    )


def _feedback(row: Row[Any]) -> Sequence[Any]:
    return (
        *row,
        ratio(row.responses, row.invited),
        ratio(row.overall_sum, row.responses),
        ratio(row.usefulness_sum, row.responses),
        ratio(row.recommend_sum, row.responses),
        recommend_score(row.promoters, row.detractors, row.responses),
    )


VIEW_DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        _totals(
            "cop_activity_table",
            "The CoP activity table (case study's Table 1): per Wenger type and Helsinki year "
            "of the meetings, activities, meetings and distinct groups with such activities "
            "(each meeting's first coder's records), the earliest example." + TOTALS,
            (
                column(
                    "activity_type", "string", "One of Wenger's 11 activity types", WENGER_TYPES
                ),
                YEAR,
                column("activities", "integer", "Activities of the type in the year"),
                column("meetings", "integer", "Meetings with at least one such activity"),
                column("groups", "integer", "Distinct groups with such activities in the year"),
                column(
                    "example",
                    "string",
                    "An example text: only for who sees the region in full",
                ),
            ),
            lambda region, examples: queries.cop_table(Scope(region), examples, by_year=True),
        ),
        _totals(
            "meetings_over_time",
            "Meetings per month: held, cancelled, groups that met, attendance." + TOTALS,
            (
                MONTH,
                column("groups_meeting", "integer", "Groups that held a meeting"),
                HELD,
                CANCELLED,
                ATTENDEES,
                EXPECTED,
                ATTENDANCE_RATE,
            ),
            lambda region, _: queries.meetings_over_time(Scope(region)),
            _plus(_attendance),
        ),
        Dataset(
            "group_months",
            "Meetings per group per month with the attendance rate (not public).",
            (GROUP, MONTH, REGION, HELD, CANCELLED, ATTENDEES, EXPECTED, ATTENDANCE_RATE),
            queries.group_months(NATION).order_by(fact_meetings.c.group_id, fact_meetings.c.month),
            region=fact_meetings.c.region,
            level=Level.REGIONAL,
            derive=_plus(_attendance),
        ),
        _totals(
            "retention",
            "Retention of members per calendar year." + TOTALS,
            (
                YEAR,
                column("members_start", "integer", "Members on 31 Dec of the year before"),
                column("joined", "integer", "Members who joined in the year"),
                column("left", "integer", "Members who left in the year"),
                column("retained", "integer", "Of members_start, still members on 31 Dec"),
                column("members_end", "integer", "Members on 31 Dec"),
                column("retention_rate", "number", "retained / members_start (null if 0)"),
            ),
            lambda region, _: queries.member_spans(Scope(region)),
            collect=_retention,
        ),
        Dataset(
            "host_rotation",
            "Host rotation per group: distinct hosts, days between a member's hostings "
            "(not public).",
            (
                GROUP,
                REGION,
                column("members", "integer", "Members the group ever had"),
                column("meetings_hosted", "integer", "Held meetings with a host"),
                column("distinct_hosts", "integer", "Distinct members who hosted"),
                column("repeat_hostings", "integer", "Intervals between a host's hostings"),
                column("mean_days_between", "number", "Mean days between a member's hostings"),
                column("min_days_between", "integer", "Shortest such interval, days"),
                column("host_share", "number", "distinct_hosts / members"),
            ),
            _groups(),
            region=groups.c.region,
            level=Level.REGIONAL,
            expand=_host_rotation,
        ),
        _totals(
            "feedback_trend",
            "Feedback per month of the surveyed meetings' days; only surveys closed with at "
            "least 3 responses count (k-anonymity), the others only as surveys_withheld." + TOTALS,
            (
                MONTH,
                column("surveys", "integer", "Counted surveys (closed with >= 3 responses)"),
                column("surveys_withheld", "integer", "Surveys closed with fewer responses"),
                column("invited", "integer", "Attendees invited, counted surveys"),
                column("responses", "integer", "Responses, counted surveys"),
                column("overall_sum", "integer", "Sum of overall scores (1-5)"),
                column("usefulness_sum", "integer", "Sum of usefulness scores (1-5)"),
                column("recommend_sum", "integer", "Sum of recommend scores (0-10)"),
                column("promoters", "integer", "Responses recommending 9-10"),
                column("detractors", "integer", "Responses recommending 0-6"),
                column("response_rate", "number", "responses / invited"),
                column("mean_overall", "number", "Mean overall score (1-5)"),
                column("mean_usefulness", "number", "Mean usefulness (1-5)"),
                column("mean_recommend", "number", "Mean likelihood to recommend (0-10)"),
                column("recommend_score", "number", "% promoters - % detractors, -100..100"),
            ),
            lambda region, _: queries.feedback_trend(Scope(region)),
            _feedback,
        ),
        _totals(
            "initiative_statuses",
            "Initiatives by current status and the members who joined them." + TOTALS,
            (
                column(
                    "status",
                    "string",
                    "ACTIVE | PAUSED | COMPLETED | ABANDONED",
                    INITIATIVE_STATUSES,
                ),
                column("initiatives", "integer", "Initiatives in the status"),
                column("members", "integer", "Distinct members in these initiatives"),
                column("joinings", "integer", "(initiative, member) pairs"),
            ),
            lambda region, _: queries.initiative_statuses(Scope(region)),
        ),
        Dataset(
            "group_health",
            "Group health: attendance streaks, churn, members who hosted, feedback trend "
            "(not public).",
            (
                GROUP,
                REGION,
                column("members_active", "integer", "Active members"),
                column("members_ever", "integer", "Members the group ever had"),
                column("members_left", "integer", "Members who left"),
                HELD,
                column("last_meeting_at", "timestamp", "Its newest held meeting (UTC)"),
                ATTENDEES,
                EXPECTED,
                column("longest_streak", "integer", "Longest run of meetings one member came"),
                column("mean_current_streak", "number", "Mean latest run, active members"),
                column("active_hosted", "integer", "Active members who have hosted"),
                column("feedback_recent", "number", "Mean overall, last 3 counted surveys"),
                column("feedback_previous", "number", "Mean overall, the 3 before those"),
                ATTENDANCE_RATE,
                column("churn_rate", "number", "members_left / members_ever"),
                column("hosted_share", "number", "active_hosted / members_active"),
                column("feedback_trend", "number", "feedback_recent - feedback_previous"),
            ),
            _groups(),
            region=groups.c.region,
            level=Level.REGIONAL,
            expand=_group_health,
        ),
        _totals(
            "coding_agreement",
            "Coding agreement: per pair of researchers (coder_a < coder_b) and Wenger type, "
            "the 2x2 table over the meetings both classified (unit: meeting x type) and "
            "Cohen's kappa; not public." + TOTALS,
            (
                column("coder_a", "id", "Pseudonymous id of the first researcher"),
                column("coder_b", "id", "Pseudonymous id of the second researcher"),
                column(
                    "activity_type", "string", "One of Wenger's 11 activity types", WENGER_TYPES
                ),
                column("both", "integer", "Meetings where both saw the type"),
                column("a_only", "integer", "Meetings where only coder_a saw it"),
                column("b_only", "integer", "Meetings where only coder_b saw it"),
                column("neither", "integer", "Meetings where neither saw it"),
                column("kappa", "number", "Cohen's kappa of the type (null if undefined)"),
                column("meetings", "integer", "Meetings both coders classified"),
                column("pair_kappa", "number", "Cohen's kappa of the pair over all 11 types"),
            ),
            _coding,
            _agreement,
            national=Level.REGIONAL,
        ),
        Dataset(
            "region_overview",
            "Per-region research summary with freshness (not public).",
            (
                REGION,
                column("groups", "integer", "Core groups"),
                column("members_active", "integer", "Active members"),
                HELD,
                column("last_meeting_at", "timestamp", "Newest held meeting (UTC)"),
                ATTENDEES,
                EXPECTED,
                column("activities", "integer", "CoP activities recorded"),
                column("initiatives", "integer", "Initiatives"),
                column("responses", "integer", "Responses in counted (k-anonymous) surveys"),
                column("display_name", "string", "Name the node announced (else its id)"),
                column("last_event_at", "timestamp", "Its newest event applied (UTC)"),
                column("events_applied", "integer", "Its events applied nationally"),
                ATTENDANCE_RATE,
            ),
            queries.region_overview().order_by(regions.c.id),
            region=regions.c.id,
            level=Level.REGIONAL,
            derive=_plus(_attendance),
        ),
    )
}
