"""The datasets one can export, each with its data dictionary (column, type, meaning).

The raw datasets are pseudonymous tables of the national read model (no names: ids are
pseudonyms; personal data never leaves the regions). Rows are guarded like GraphQL's:
``level`` is what a caller needs of a region to see the dataset's rows of it
(:mod:`services.gateway.auth.guard`); ``region`` is the column the guard filters on.
Survey aggregates show means only where at least ``K_ANONYMITY`` (3) attendees answered.
The research views' datasets (their GraphQL fields' figures and rules) are in
:mod:`services.gateway.exports.views`; :data:`DATASETS` holds both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from services.gateway.auth.guard import Level
from services.gateway.exports.dataset import (
    GROUP,
    GROWTH_INTENTIONS,
    INITIATIVE_STATUSES,
    MEETING,
    MEETING_STATUSES,
    MEMBER,
    MEMBER_STATUSES,
    MEMBERSHIP_CHANGES,
    REGION,
    WENGER_TYPES,
    Column,
    Dataset,
)
from services.gateway.exports.dataset import column as _c
from services.gateway.exports.views import VIEW_DATASETS
from services.gateway.exports.workspace import WORKSPACE_DATASETS
from services.gateway.orm import (
    activities,
    attendance,
    groups,
    initiatives,
    interviews,
    meetings,
    members,
    membership_changes,
    regions,
    survey_responses,
    surveys,
)
from shared.contracts import K_ANONYMITY

_responses = (
    select(
        survey_responses.c.survey_id.label("survey_id"),
        func.count().label("n"),
        func.avg(survey_responses.c.overall).label("overall"),
        func.avg(survey_responses.c.usefulness).label("usefulness"),
        func.avg(survey_responses.c.recommend).label("recommend"),
    )
    .group_by(survey_responses.c.survey_id)
    .subquery()
)


def _k_mean(column: ColumnElement[Any], name: str) -> ColumnElement[Any]:
    n = func.coalesce(_responses.c.n, 0)
    return case((n >= K_ANONYMITY, func.round(column, 2)), else_=None).label(name)


RAW_DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset.of_table(
            regions,
            "regions",
            "Regional nodes seen nationally and their freshness.",
            (
                _c("id", "string", "Region id"),
                _c("display_name", "string", "Name the node announced (null until then)"),
                _c("agency", "string", "The regional agency running the node"),
                _c("first_seen", "timestamp", "Time of its earliest event seen (UTC)"),
                _c("last_event_at", "timestamp", "Time of its newest event applied (UTC)"),
                _c("events_applied", "integer", "Events of the region applied nationally"),
            ),
            order_by=(regions.c.id,),
            region=None,
            level=Level.NATIONAL,
        ),
        Dataset.of_table(
            groups,
            "groups",
            "Core groups of micro-entrepreneurs.",
            (
                _c("id", "id", "Pseudonymous id of the group"),
                REGION,
                _c("name", "string", "Group name"),
                _c("municipality", "string", "Municipality where it meets"),
                _c("founded_on", "date", "Founding date"),
            ),
            order_by=(
                groups.c.region,
                groups.c.name,
                groups.c.id,
            ),
            region=groups.c.region,
        ),
        Dataset.of_table(
            members,
            "members",
            "Member micro-enterprises (pseudonymous), their current status and size.",
            (
                _c("id", "id", "Pseudonymous id of the member enterprise"),
                REGION,
                GROUP,
                _c(
                    "status",
                    "string",
                    "ACTIVE | PAUSED | LEFT, from its newest event",
                    MEMBER_STATUSES,
                ),
                _c("joined_on", "date", "Day it joined (null while only later events seen)"),
                _c("left_on", "date", "Day it left, if it left"),
                _c("employees", "integer", "Employees when it joined (fewer than 10)"),
                _c("turnover_eur", "integer", "Annual turnover, whole euros"),
                _c("balance_sheet_eur", "integer", "Balance sheet total, whole euros"),
                _c("industry_code", "string", "Industry code (TOL 2008)"),
            ),
            order_by=(
                members.c.region,
                members.c.group_id,
                members.c.id,
            ),
            region=members.c.region,
        ),
        Dataset.of_table(
            membership_changes,
            "memberships",
            "Every membership change (joined, paused, rejoined, left), one row each.",
            (
                MEMBER,
                _c("version", "integer", "The member's event sequence of the change"),
                REGION,
                GROUP,
                _c("change", "string", "JOINED | PAUSED | REJOINED | LEFT", MEMBERSHIP_CHANGES),
                _c("changed_on", "date", "Day of the change"),
                _c("reason", "string", "Reason given (pause, leaving), if any"),
            ),
            order_by=(
                membership_changes.c.member_id,
                membership_changes.c.version,
            ),
            region=membership_changes.c.region,
        ),
        Dataset.of_table(
            meetings,
            "meetings",
            "Monthly meetings: host, theme, time, status and attendance count.",
            (
                _c("id", "id", "Pseudonymous id of the meeting"),
                REGION,
                GROUP,
                _c("status", "string", "PLANNED | HELD | CANCELLED", MEETING_STATUSES),
                _c("host_member_id", "id", "Pseudonymous id of the hosting member"),
                _c("theme", "string", "Theme the host chose"),
                _c("starts_at", "timestamp", "Start time (UTC)"),
                _c("held_at", "timestamp", "When it was recorded held (UTC)"),
                _c("attendance_count", "integer", "Members who came (if held)"),
                _c("cancelled_at", "timestamp", "When it was cancelled (UTC)"),
                _c("recorded", "boolean", "Audio-recorded with every attendee's consent"),
            ),
            order_by=(
                meetings.c.starts_at,
                meetings.c.id,
            ),
            region=meetings.c.region,
        ),
        Dataset(
            "attendance",
            "Who came to each held meeting: one row per meeting and member.",
            (MEETING, MEMBER, REGION, GROUP),
            select(
                attendance.c.meeting_id,
                attendance.c.member_id,
                meetings.c.region,
                meetings.c.group_id,
            )
            .join(meetings, meetings.c.id == attendance.c.meeting_id)
            .order_by(attendance.c.meeting_id, attendance.c.member_id),
            region=meetings.c.region,
        ),
        Dataset.of_table(
            activities,
            "activities",
            "CoP activities recorded in meetings, classified by Wenger's 11 types.",
            (
                _c("id", "id", "Pseudonymous id of the activity record"),
                REGION,
                GROUP,
                MEETING,
                _c("activity_type", "string", "One of Wenger's 11 activity types", WENGER_TYPES),
                _c("example", "string", "Short example text"),
                _c("coder_id", "id", "Pseudonymous id of the researcher who classified it"),
                _c("meeting_starts_at", "timestamp", "Its meeting's start time (UTC)"),
            ),
            order_by=(
                activities.c.meeting_starts_at,
                activities.c.id,
            ),
            region=activities.c.region,
        ),
        Dataset.of_table(
            initiatives,
            "initiatives",
            "Joint initiatives that started in a meeting, with status and outcome.",
            (
                _c("id", "id", "Pseudonymous id of the initiative"),
                REGION,
                GROUP,
                _c(
                    "status",
                    "string",
                    "ACTIVE | PAUSED | COMPLETED | ABANDONED",
                    INITIATIVE_STATUSES,
                ),
                _c("title", "string", "Title"),
                _c("origin_meeting_id", "id", "Meeting it started in"),
                _c("started_on", "date", "Day it started"),
                _c("outcome", "string", "Outcome of its newest update"),
                _c("updated_on", "date", "Day of its newest update"),
            ),
            order_by=(
                initiatives.c.region,
                initiatives.c.group_id,
                initiatives.c.id,
            ),
            region=initiatives.c.region,
        ),
        Dataset(
            "surveys",
            f"Feedback survey aggregates per meeting; means only where at least {K_ANONYMITY} "
            "attendees answered (k-anonymity).",
            (
                _c("id", "id", "Pseudonymous id of the survey"),
                REGION,
                GROUP,
                MEETING,
                _c("invited", "integer", "Attendees invited to answer"),
                _c("responses", "integer", "Attendees who answered"),
                _c("mean_overall", "number", f"Mean overall score 1-5 (null below {K_ANONYMITY})"),
                _c("mean_usefulness", "number", f"Mean usefulness 1-5 (null below {K_ANONYMITY})"),
                _c("mean_recommend", "number", f"Mean recommend 0-10 (null below {K_ANONYMITY})"),
                _c("closed_at", "timestamp", "When the survey closed (UTC), if it has"),
            ),
            select(
                surveys.c.id,
                surveys.c.region,
                surveys.c.group_id,
                surveys.c.meeting_id,
                surveys.c.invited,
                func.coalesce(_responses.c.n, 0).label("responses"),
                _k_mean(_responses.c.overall, "mean_overall"),
                _k_mean(_responses.c.usefulness, "mean_usefulness"),
                _k_mean(_responses.c.recommend, "mean_recommend"),
                surveys.c.closed_at,
            )
            .outerjoin(_responses, _responses.c.survey_id == surveys.c.id)
            .order_by(surveys.c.region, surveys.c.group_id, surveys.c.id),
            region=surveys.c.region,
        ),
        Dataset.of_table(
            interviews,
            "interviews",
            "Growth-intention interviews, one row per interview.",
            (
                _c("id", "id", "Pseudonymous id of the interview"),
                REGION,
                MEMBER,
                _c("interviewed_on", "date", "Day of the interview"),
                _c("intends_to_grow", "string", "yes | no | unsure", GROWTH_INTENTIONS),
                _c("planned_hires", "integer", "Hires the entrepreneur plans"),
                _c("barriers", "string", "Barriers to growth, comma-separated"),
            ),
            order_by=(
                interviews.c.interviewed_on,
                interviews.c.id,
            ),
            region=interviews.c.region,
        ),
    )
}


# the research views (exports/views.py) and the memos and coding workspace
# (exports/workspace.py): same guard rules as their GraphQL fields
DATASETS: dict[str, Dataset] = {**RAW_DATASETS, **WORKSPACE_DATASETS, **VIEW_DATASETS}


class UnknownDataset(LookupError):
    pass


def dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDataset(
            f"no dataset {name!r}: choose one of {', '.join(sorted(DATASETS))}"
        ) from None


__all__ = [
    "DATASETS",
    "RAW_DATASETS",
    "VIEW_DATASETS",
    "WORKSPACE_DATASETS",
    "Column",
    "Dataset",
    "UnknownDataset",
]
