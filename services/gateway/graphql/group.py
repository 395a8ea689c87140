"""GraphQL type ``Group``: a regional core group."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy import Row

from services.gateway.graphql.context import Info
from services.gateway.graphql.facilitator import Facilitator
from services.gateway.graphql.fields import resolved


@strawberry.type(description="A core group of micro-entrepreneurs that meets monthly.")
class Group:
    id: strawberry.ID
    region: str
    name: str
    municipality: str
    founded_on: date

    @classmethod
    def from_row(cls, row: Row[Any]) -> Group:
        return cls(
            id=strawberry.ID(row.id),
            region=row.region,
            name=row.name,
            municipality=row.municipality,
            founded_on=row.founded_on,
        )

    @resolved("Its current facilitators (pseudonymous), by id.")
    async def facilitators(self, info: Info) -> list[Facilitator]:
        rows = await info.context.loaders.facilitators.load(str(self.id))
        return [Facilitator.from_row(row) for row in rows]
