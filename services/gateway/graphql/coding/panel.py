"""The longitudinal panel in GraphQL (services/gateway/research/panel.py): the interviews
are rows (researchers every region, an agency its own, the public none); the aggregates are
national totals for every role and one region's or group's for agencies and researchers,
cells of fewer than K_ANONYMITY member companies left out unless the caller sees them all."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from services.gateway.auth.guard import Level
from services.gateway.graphql import cursor
from services.gateway.graphql.access import require, require_rows
from services.gateway.graphql.context import Info
from services.gateway.graphql.cursor import DAY, TEXT
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.pagination import check_first
from services.gateway.research import panel
from services.gateway.research.scope import Scope
from shared.contracts.feedback import K_ANONYMITY
from shared.i18n.formats import HELSINKI

From = Annotated[date | None, strawberry.argument(name="from", description="First day.")]
To = Annotated[date | None, strawberry.argument(description="Last day (inclusive).")]


def _today() -> date:
    return datetime.now(UTC).astimezone(HELSINKI).date()


@strawberry.enum(description="What growth intentions are grouped by.")
class PanelPeriod(Enum):
    YEAR = "year"
    JOIN_COHORT = "cohort"


@strawberry.type(description="A growth-intention interview in the panel.")
class PanelInterview:
    id: strawberry.ID
    person_key: str | None = strawberry.field(
        description="The person's pseudonymous key (HMAC with the region's secret): the same "
        "within a region, unlinkable outside it; null if no person is named or it was erased."
    )
    wave: int | None = strawberry.field(description="1 for the person's first interview, ...")
    region: str
    member_id: strawberry.ID
    group_id: strawberry.ID | None
    join_cohort: int | None = strawberry.field(description="The year the member joined.")
    interviewed_on: date
    intends_to_grow: str = strawberry.field(description="yes | no | unsure")
    planned_hires: int
    barriers: list[str]

    @classmethod
    def of(cls, r: panel.PanelInterview) -> PanelInterview:
        return cls(
            id=strawberry.ID(r.id),
            person_key=r.person_key,
            wave=r.wave,
            region=r.region,
            member_id=strawberry.ID(r.member_id),
            group_id=None if r.group_id is None else strawberry.ID(r.group_id),
            join_cohort=r.join_cohort,
            interviewed_on=r.interviewed_on,
            intends_to_grow=r.intends_to_grow,
            planned_hires=r.planned_hires,
            barriers=list(r.barriers),
        )


@strawberry.type(description="A page of panel interviews.")
class PanelPage:
    items: list[PanelInterview]
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")
    has_next_page: bool


@strawberry.type(description="How often a barrier to growth was named.")
class BarrierCount:
    barrier: str
    count: int


@strawberry.type(description="Growth intentions of one year or join cohort.")
class GrowthIntentions:
    period: int = strawberry.field(description="The interview year, or the join cohort.")
    interviews: int
    persons: int = strawberry.field(description="Distinct person keys.")
    members: int = strawberry.field(description="Distinct member companies.")
    yes: int
    no: int
    unsure: int
    planned_hires_mean: float | None
    barriers: list[BarrierCount]


@strawberry.type(description="Of a cohort's members whose n-th year in the network is over.")
class Survival:
    years: int
    at_risk: int = strawberry.field(description="Members whose n-th anniversary has come.")
    retained: int = strawberry.field(description="Of them, still members on that day.")
    rate: float | None


@strawberry.type(description="Retention of one join cohort, year by year.")
class CohortRetention:
    cohort: int
    joined: int
    survival: list[Survival]


@strawberry.type(description="Member companies in the network at a year's end and their size.")
class FirmSizeYear:
    year: int
    firms: int
    employees_mean: float | None = strawberry.field(
        description="Employees as reported when the firms joined (no later size reaches "
        "the national data yet)."
    )
    employees_median: float | None
    turnover_mean_eur: float | None


def _aggregates(
    info: Info, region: str | None, group_id: strawberry.ID | None, what: str
) -> dict[str, Any]:
    """How a panel aggregate is answered for this caller: national totals for every role,
    one region's or group's figures for agencies and researchers; cells of fewer than
    K_ANONYMITY members are left out unless the caller sees every row counted in full."""
    guard = info.context.guard
    needed = Level.REGIONAL if region is not None or group_id is not None else Level.NATIONAL
    require(info, needed, region, what)
    full = guard.full_regions() is None or (region is not None and guard.allows(Level.FULL, region))
    if full:
        return {"level": Level.FULL}
    return {"level": needed, "min_members": K_ANONYMITY}


def _scope(
    region: str | None, group_id: strawberry.ID | None, f: date | None, t: date | None
) -> Scope:
    return Scope(f, t, region, None if group_id is None else str(group_id))


@strawberry.type
class PanelQuery:
    @resolved(
        "Growth-intention interviews with each person's pseudonymous key and wave, by day and "
        "id (interview days from/to); `first` at most 500, `after` an endCursor of this list."
    )
    async def panel_interviews(
        self,
        info: Info,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
        first: int = 100,
        after: str | None = None,
    ) -> PanelPage:
        require_rows(info.context.guard, "panelInterviews", region)
        check_first(first)
        key = None if after is None else cursor.decode("panelInterviews", after, (DAY, TEXT))
        async with info.context.sessions() as session:
            rows = await panel.panel_interviews(
                session,
                _scope(region, group_id, from_, to),
                info.context.guard,
                first=first + 1,
                after=None if key is None else (key[0], key[1]),
            )
        more, rows = len(rows) > first, rows[:first]
        end = (
            None
            if not rows
            else cursor.encode("panelInterviews", [rows[-1].interviewed_on, rows[-1].id])
        )
        return PanelPage(
            items=[PanelInterview.of(r) for r in rows], end_cursor=end, has_next_page=more
        )

    @resolved(
        "Growth intentions and barriers by interview year or by join cohort (interview days "
        "from/to)."
    )
    async def growth_intentions(
        self,
        info: Info,
        by: PanelPeriod = PanelPeriod.YEAR,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
    ) -> list[GrowthIntentions]:
        rules = _aggregates(info, region, group_id, "growthIntentions")
        async with info.context.sessions() as session:
            cells = await panel.growth_intentions(
                session,
                _scope(region, group_id, from_, to),
                info.context.guard,
                by=by.value,
                **rules,
            )
        return [
            GrowthIntentions(
                period=c.period,
                interviews=c.interviews,
                persons=c.persons,
                members=c.members,
                yes=c.yes,
                no=c.no,
                unsure=c.unsure,
                planned_hires_mean=c.planned_hires_mean,
                barriers=[BarrierCount(barrier=b, count=n) for b, n in c.barriers],
            )
            for c in cells
        ]

    @resolved(
        "Retention by join cohort: per cohort (members who joined from/to), the share still in "
        "the network after 1, 2, ... years (paused members are in)."
    )
    async def retention_by_cohort(
        self,
        info: Info,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
    ) -> list[CohortRetention]:
        rules = _aggregates(info, region, group_id, "retentionByCohort")
        async with info.context.sessions() as session:
            found = await panel.retention_by_cohort(
                session, _scope(region, group_id, from_, to), info.context.guard, _today(), **rules
            )
        return [
            CohortRetention(
                cohort=c.cohort,
                joined=c.joined,
                survival=[
                    Survival(years=s.years, at_risk=s.at_risk, retained=s.retained, rate=s.rate)
                    for s in c.survival
                ],
            )
            for c in found
        ]

    @resolved("Member companies in the network at each year's end and their size.")
    async def firm_size_by_year(
        self,
        info: Info,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
    ) -> list[FirmSizeYear]:
        rules = _aggregates(info, region, group_id, "firmSizeByYear")
        async with info.context.sessions() as session:
            found = await panel.firm_size_by_year(
                session, _scope(region, group_id, from_, to), info.context.guard, _today(), **rules
            )
        return [
            FirmSizeYear(
                year=f.year,
                firms=f.firms,
                employees_mean=f.employees_mean,
                employees_median=f.employees_median,
                turnover_mean_eur=f.turnover_mean_eur,
            )
            for f in found
        ]
