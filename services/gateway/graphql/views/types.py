"""GraphQL types of the research views: rows of the summary tables, with derived rates.

Rates are ``null`` when their denominator is 0; definitions in docs/research-views.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Row

from services.gateway.graphql.activity import ActivityType
from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.initiative import InitiativeStatus
from services.gateway.graphql.values import maybe_utc
from services.gateway.views import metrics
from services.gateway.views.metrics import cohen_kappa, ratio


@strawberry.type(
    description="One row of the CoP activity table: a Wenger type over the period (or one "
    "Helsinki year of it, with byYear)."
)
class CopCell:
    activity_type: ActivityType
    year: int | None = strawberry.field(description="The year with byYear, else null.")
    activities: int
    meetings: int = strawberry.field(description="Meetings with at least one such activity.")
    groups: int = strawberry.field(description="Distinct groups with such activities.")
    example: str | None = strawberry.field(
        description="An example text of the cell's activities; null for callers who see "
        "national aggregates only (the texts are the regions' own words)."
    )


@strawberry.type(description="Meetings in one month of their days (Europe/Helsinki).")
class MonthMeetings:
    month: str = strawberry.field(description="YYYY-MM")
    groups_meeting: int
    meetings_held: int
    meetings_cancelled: int
    attendees: int
    expected: int = strawberry.field(
        description="Members the groups had on the days of their held meetings."
    )

    @resolved("attendees / expected; null without held meetings.")
    def attendance_rate(self) -> float | None:
        return ratio(self.attendees, self.expected)


@strawberry.type(description="One group's meetings in one month (Europe/Helsinki).")
class GroupMonth:
    group_id: strawberry.ID
    region: str
    month: str = strawberry.field(description="YYYY-MM")
    meetings_held: int
    meetings_cancelled: int
    attendees: int
    expected: int

    @resolved("attendees / expected; null without held meetings.")
    def attendance_rate(self) -> float | None:
        return ratio(self.attendees, self.expected)

    @classmethod
    def from_row(cls, row: Row[Any]) -> GroupMonth:
        return cls(
            group_id=strawberry.ID(row.group_id),
            region=row.region,
            month=row.month,
            meetings_held=row.meetings_held,
            meetings_cancelled=row.meetings_cancelled,
            attendees=row.attendees,
            expected=row.expected,
        )


@strawberry.type(
    description="Membership in one calendar year (its days within the period, if given)."
)
class RetentionYear:
    year: int
    members_start: int = strawberry.field(description="Members the day before its first day.")
    joined: int
    left: int
    retained: int = strawberry.field(description="Of members_start, still members at its end.")
    members_end: int

    @resolved("retained / members_start; null if there were none.")
    def retention_rate(self) -> float | None:
        return ratio(self.retained, self.members_start)


@strawberry.type(description="How hosting rotates in one group (its held meetings in the period).")
class HostRotation:
    group_id: strawberry.ID
    region: str
    members: int = strawberry.field(description="Members the group had in the period.")
    meetings_hosted: int
    distinct_hosts: int
    repeat_hostings: int = strawberry.field(description="Intervals between a host's hostings.")
    mean_days_between: float | None = strawberry.field(
        description="Mean days between a member's consecutive hostings."
    )
    min_days_between: int | None

    @resolved("distinct_hosts / members.")
    def host_share(self) -> float | None:
        return ratio(self.distinct_hosts, self.members)

    @classmethod
    def from_row(cls, row: Row[Any]) -> HostRotation:
        return cls(
            group_id=strawberry.ID(row.group_id),
            region=row.region,
            members=row.members,
            meetings_hosted=row.meetings_hosted,
            distinct_hosts=row.distinct_hosts,
            repeat_hostings=row.repeat_hostings,
            mean_days_between=row.mean_days_between,
            min_days_between=row.min_days_between,
        )


@strawberry.type(
    description="Feedback on the meetings of one month (their Helsinki days); only surveys "
    "closed with at least 3 responses are counted (k-anonymity), the other closed ones only "
    "as surveys_withheld."
)
class FeedbackMonth:
    month: str = strawberry.field(description="YYYY-MM of the surveyed meetings' days")
    surveys: int
    surveys_withheld: int
    invited: int
    responses: int
    _overall: strawberry.Private[int]
    _usefulness: strawberry.Private[int]
    _recommend: strawberry.Private[int]
    _promoters: strawberry.Private[int]
    _detractors: strawberry.Private[int]

    @resolved("responses / invited of the counted surveys.")
    def response_rate(self) -> float | None:
        return ratio(self.responses, self.invited)

    @resolved("Mean overall score (1-5).")
    def mean_overall(self) -> float | None:
        return ratio(self._overall, self.responses)

    @resolved("Mean usefulness (1-5).")
    def mean_usefulness(self) -> float | None:
        return ratio(self._usefulness, self.responses)

    @resolved("Mean likelihood to recommend (0-10).")
    def mean_recommend(self) -> float | None:
        return ratio(self._recommend, self.responses)

    @resolved("Recommend score: % promoters (9-10) minus % detractors (0-6), -100..100.")
    def recommend_score(self) -> float | None:
        return metrics.recommend_score(self._promoters, self._detractors, self.responses)


@strawberry.type(description="Initiatives in one status and the members who joined them.")
class InitiativeStatusCount:
    status: InitiativeStatus
    initiatives: int
    members: int = strawberry.field(description="Distinct members in these initiatives.")
    joinings: int = strawberry.field(description="(initiative, member) pairs.")


@strawberry.type(description="The signals a coordinator reads to see which group needs help.")
class GroupHealth:
    group_id: strawberry.ID
    region: str
    members_active: int
    members_ever: int
    members_left: int
    meetings_held: int
    last_meeting_at: datetime | None
    attendees: int
    expected: int
    longest_streak: int = strawberry.field(
        description="Longest run of consecutive held meetings one member attended."
    )
    mean_current_streak: float | None = strawberry.field(
        description="Mean, over active members, of the latest meetings attended in a row."
    )
    active_hosted: int
    feedback_recent: float | None = strawberry.field(
        description="Mean overall score of the last 3 counted surveys (k-anonymous)."
    )
    feedback_previous: float | None = strawberry.field(
        description="Mean overall score of the 3 counted surveys before those."
    )

    @resolved("attendees / expected over all held meetings.")
    def attendance_rate(self) -> float | None:
        return ratio(self.attendees, self.expected)

    @resolved("members_left / members_ever.")
    def churn_rate(self) -> float | None:
        return ratio(self.members_left, self.members_ever)

    @resolved("Share of active members who have hosted a held meeting.")
    def hosted_share(self) -> float | None:
        return ratio(self.active_hosted, self.members_active)

    @resolved("feedback_recent - feedback_previous.")
    def feedback_trend(self) -> float | None:
        return metrics.trend(self.feedback_recent, self.feedback_previous)

    @classmethod
    def from_row(cls, row: Row[Any]) -> GroupHealth:
        return cls(
            group_id=strawberry.ID(row.group_id),
            region=row.region,
            members_active=row.members_active,
            members_ever=row.members_ever,
            members_left=row.members_left,
            meetings_held=row.meetings_held,
            last_meeting_at=maybe_utc(row.last_meeting_at),
            attendees=row.attendees,
            expected=row.expected,
            longest_streak=row.longest_streak,
            mean_current_streak=row.mean_current_streak,
            active_hosted=row.active_hosted,
            feedback_recent=row.feedback_recent,
            feedback_previous=row.feedback_previous,
        )

    @classmethod
    def from_mapping(cls, row: dict[str, Any]) -> GroupHealth:
        return cls.from_row(_Attrs(row))  # type: ignore[arg-type]


class _Attrs:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


@strawberry.type(description="Two coders' agreement on one Wenger type (unit: a meeting).")
class TypeAgreement:
    activity_type: ActivityType
    both: int
    a_only: int
    b_only: int
    neither: int

    @resolved("Cohen's kappa; null when undefined (chance agreement 1).")
    def kappa(self) -> float | None:
        return cohen_kappa(self.both, self.a_only, self.b_only, self.neither)


@strawberry.type(
    description="Two researchers who classified the same meetings: Cohen's kappa over the "
    "units meeting x type (present or not), overall and per type."
)
class CoderAgreement:
    coder_a: strawberry.ID
    coder_b: strawberry.ID
    per_type: list[TypeAgreement]

    @resolved("Meetings both coders classified.")
    def meetings(self) -> int:
        first = self.per_type[0] if self.per_type else None
        return 0 if first is None else first.both + first.a_only + first.b_only + first.neither

    @resolved("Cohen's kappa over all units of the types shown.")
    def kappa(self) -> float | None:
        t = self.per_type
        return cohen_kappa(
            sum(x.both for x in t),
            sum(x.a_only for x in t),
            sum(x.b_only for x in t),
            sum(x.neither for x in t),
        )


@strawberry.type(description="One region's research summary and freshness.")
class RegionOverview:
    region: str
    display_name: str
    last_event_at: datetime | None
    events_applied: int
    groups: int
    members_active: int
    meetings_held: int
    last_meeting_at: datetime | None
    attendees: int
    expected: int
    activities: int
    initiatives: int
    responses: int = strawberry.field(description="Responses in counted (k-anonymous) surveys.")

    @resolved("attendees / expected over all held meetings.")
    def attendance_rate(self) -> float | None:
        return ratio(self.attendees, self.expected)

    @resolved("Events NATIONAL has not copied yet (as of the registrar's last look); or null.")
    def events_behind(self, info: Info) -> int | None:
        link = info.context.links.get(self.region)
        return link.events_behind if link is not None else None

    @resolved("Whether the link to the region works now (see Region.linkActive).")
    def link_active(self, info: Info) -> bool:
        link = info.context.links.get(self.region)
        return link is not None and link.link_active

    @classmethod
    def from_row(cls, row: Row[Any]) -> RegionOverview:
        return cls(
            region=row.region,
            display_name=row.display_name or row.region,
            last_event_at=maybe_utc(row.last_event_at),
            events_applied=row.events_applied or 0,
            groups=row.groups,
            members_active=row.members_active,
            meetings_held=row.meetings_held,
            last_meeting_at=maybe_utc(row.last_meeting_at),
            attendees=row.attendees,
            expected=row.expected,
            activities=row.activities,
            initiatives=row.initiatives,
            responses=row.responses,
        )
