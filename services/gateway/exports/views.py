"""Exports of the research views: each the select its GraphQL field runs
(:mod:`services.gateway.views.queries`), unfiltered, with the same rates
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

from sqlalchemy import Row, Table, func, select

from services.gateway.auth.guard import Level
from services.gateway.exports.dataset import GROUP, REGION, Column, Dataset, column
from services.gateway.orm import (
    view_coding,
    view_group_health,
    view_group_months,
    view_host_rotation,
    view_region_summary,
)
from services.gateway.views import queries
from services.gateway.views.metrics import cohen_kappa, ratio, recommend_score, trend

MONTH = column("month", "string", "Month, YYYY-MM (UTC)")
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


def _rows(table: Table, *order: str) -> Any:
    return select(*table.c).order_by(*(table.c[name] for name in order))


def _totals(
    name: str,
    description: str,
    columns: tuple[Column, ...],
    build: Callable[[str | None, bool], Any],
    derive: Callable[[Row[Any]], Sequence[Any]] | None = None,
    national: Level = Level.NATIONAL,
) -> Dataset:
    return Dataset(
        name,
        description,
        columns,
        build(None, True),
        region=None,
        level=Level.REGIONAL,
        totals=build,
        national=national,
        derive=derive,
    )


_PAIR = ("both", "a_only", "b_only", "neither")


def _coding(region: str | None, _examples: bool) -> Any:
    v = view_coding.c
    pair = (v.coder_a, v.coder_b)
    over = [
        func.sum(func.coalesce(func.sum(v[c]), 0)).over(partition_by=pair).label(f"pair_{c}")
        for c in _PAIR
    ]
    return queries.coding(region).add_columns(*over)


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
            "The CoP activity table (case study's Table 1): per Wenger type and year, "
            "activities, meetings and group-years with such activities, an example." + TOTALS,
            (
                column("activity_type", "string", "One of Wenger's 11 activity types"),
                YEAR,
                column("activities", "integer", "Activities of the type in the year"),
                column("meetings", "integer", "Meetings with at least one such activity"),
                column("groups", "integer", "Group-years: groups summed over regions"),
                column(
                    "example",
                    "string",
                    "An example text: only for who sees the region in full",
                ),
            ),
            lambda region, examples: queries.cop_table(region, examples),
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
            lambda region, _: queries.meetings_over_time(region),
            _plus(_attendance),
        ),
        Dataset(
            "group_months",
            "Meetings per group per month with the attendance rate (not public).",
            (GROUP, MONTH, REGION, HELD, CANCELLED, ATTENDEES, EXPECTED, ATTENDANCE_RATE),
            _rows(view_group_months, "group_id", "month"),
            region=view_group_months.c.region,
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
            lambda region, _: queries.retention(region),
            _plus(lambda r: ratio(r.retained, r.members_start)),
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
            _rows(view_host_rotation, "region", "group_id"),
            region=view_host_rotation.c.region,
            level=Level.REGIONAL,
            derive=_plus(lambda r: ratio(r.distinct_hosts, r.members)),
        ),
        _totals(
            "feedback_trend",
            "Feedback per month of closing; only surveys closed with at least 3 responses "
            "count (k-anonymity), the others only as surveys_withheld." + TOTALS,
            (
                column("month", "string", "Month the surveys closed, YYYY-MM (UTC)"),
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
            lambda region, _: queries.feedback_trend(region),
            _feedback,
        ),
        _totals(
            "initiative_statuses",
            "Initiatives by current status and the members who joined them." + TOTALS,
            (
                column("status", "string", "ACTIVE | PAUSED | COMPLETED | ABANDONED"),
                column("initiatives", "integer", "Initiatives in the status"),
                column("members", "integer", "Distinct members in these initiatives"),
                column("joinings", "integer", "(initiative, member) pairs"),
            ),
            lambda region, _: queries.initiative_statuses(region),
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
            _rows(view_group_health, "region", "group_id"),
            region=view_group_health.c.region,
            level=Level.REGIONAL,
            derive=_plus(
                _attendance,
                lambda r: ratio(r.members_left, r.members_ever),
                lambda r: ratio(r.active_hosted, r.members_active),
                lambda r: trend(r.feedback_recent, r.feedback_previous),
            ),
        ),
        _totals(
            "coding_agreement",
            "Coding agreement: per pair of researchers (coder_a < coder_b) and Wenger type, "
            "the 2x2 table over the meetings both classified (unit: meeting x type) and "
            "Cohen's kappa; not public." + TOTALS,
            (
                column("coder_a", "id", "Pseudonymous id of the first researcher"),
                column("coder_b", "id", "Pseudonymous id of the second researcher"),
                column("activity_type", "string", "One of Wenger's 11 activity types"),
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
            queries.region_overview().order_by(view_region_summary.c.region),
            region=view_region_summary.c.region,
            level=Level.REGIONAL,
            derive=_plus(_attendance),
        ),
    )
}
