"""GraphQL type ``Member``: a member enterprise, by pseudonymous id only."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy import Row

from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.group import Group
from services.gateway.graphql.membership import MembershipChange, MemberStatus


@strawberry.type(
    description="A member micro-enterprise. Only its pseudonymous id reaches the nation; "
    "fields of its joining are null while only a later event has arrived."
)
class Member:
    id: strawberry.ID
    region: str
    group_id: strawberry.ID
    active: bool = strawberry.field(description="In its group now: status is ACTIVE.")
    status: MemberStatus = strawberry.field(
        description="From its newest event: joined/rejoined, paused or left."
    )
    joined_on: date | None
    left_on: date | None
    employees: int | None
    turnover_eur: float | None = strawberry.field(description="Annual turnover, whole euros.")
    balance_sheet_eur: float | None = strawberry.field(
        description="Balance sheet total, whole euros."
    )
    industry_code: str | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Member:
        return cls(
            id=strawberry.ID(row.id),
            region=row.region,
            group_id=strawberry.ID(row.group_id),
            active=bool(row.active),
            status=MemberStatus(row.status),
            joined_on=row.joined_on,
            left_on=row.left_on,
            employees=row.employees,
            turnover_eur=row.turnover_eur,
            balance_sheet_eur=row.balance_sheet_eur,
            industry_code=row.industry_code or None,
        )

    @resolved("Its core group (null until the group's event arrives).")
    async def group(self, info: Info) -> Group | None:
        row = await info.context.loaders.group.load(str(self.group_id))
        return None if row is None else Group.from_row(row)

    @resolved("Every change of its membership (joined, paused, rejoined, left), oldest first.")
    async def history(self, info: Info) -> list[MembershipChange]:
        rows = await info.context.loaders.member_history.load(str(self.id))
        return [MembershipChange.from_row(row) for row in rows]
