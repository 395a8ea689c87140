"""GraphQL type ``Initiative``: joint business work that started in a meeting."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy import Row

from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.member import Member
from services.gateway.statuses import InitiativeStatus as InitiativeStatus  # re-exported

strawberry.enum(InitiativeStatus, description="Where a joint initiative stands.")


@strawberry.type(description="One step of an initiative's history: its start or an update.")
class InitiativeChange:
    status: InitiativeStatus
    outcome: str | None
    member_count: int
    on: date

    @classmethod
    def from_row(cls, row: Row[Any]) -> InitiativeChange:
        return cls(
            status=InitiativeStatus(row.status),
            outcome=row.outcome or None,
            member_count=row.member_count,
            on=row.changed_on,
        )


@strawberry.type(
    description="Joint work of member companies; fields of its start are null while only "
    "updates have arrived."
)
class Initiative:
    id: strawberry.ID
    region: str
    group_id: strawberry.ID
    title: str | None
    origin_meeting_id: strawberry.ID | None
    started_on: date | None
    status: InitiativeStatus
    outcome: str | None = strawberry.field(description="As of its newest update.")
    updated_on: date | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Initiative:
        origin = row.origin_meeting_id
        return cls(
            id=strawberry.ID(row.id),
            region=row.region,
            group_id=strawberry.ID(row.group_id),
            title=row.title,
            origin_meeting_id=None if origin is None else strawberry.ID(origin),
            started_on=row.started_on,
            status=InitiativeStatus(row.status),
            outcome=row.outcome or None,
            updated_on=row.updated_on,
        )

    @resolved("Pseudonymous ids of the member companies in it now.")
    async def member_ids(self, info: Info) -> list[strawberry.ID]:
        ids = await info.context.loaders.initiative_members.load(str(self.id))
        return [strawberry.ID(i) for i in ids]

    @resolved("The member companies in it now (those whose joining has arrived).")
    async def members(self, info: Info) -> list[Member]:
        ids = await info.context.loaders.initiative_members.load(str(self.id))
        rows = await info.context.loaders.member.load_many(ids)
        return [Member.from_row(row) for row in rows if row is not None]

    @resolved("Its start and every update, oldest first.")
    async def history(self, info: Info) -> list[InitiativeChange]:
        rows = await info.context.loaders.initiative_history.load(str(self.id))
        return [InitiativeChange.from_row(row) for row in rows]
