"""GraphQL type ``Interview``: a growth-intention interview, by pseudonymous member id."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import Row


@strawberry.enum(description="Does the entrepreneur intend to grow the company?")
class GrowthIntention(Enum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


@strawberry.type(description="A growth-intention interview of a member's entrepreneur.")
class Interview:
    id: strawberry.ID
    region: str
    member_id: strawberry.ID
    interviewed_on: date
    intends_to_grow: GrowthIntention
    planned_hires: int
    barriers: list[str] = strawberry.field(
        description="Growth barriers named, e.g. financing, finding_employees, time."
    )

    @classmethod
    def from_row(cls, row: Row[Any]) -> Interview:
        return cls(
            id=strawberry.ID(row.id),
            region=row.region,
            member_id=strawberry.ID(row.member_id),
            interviewed_on=row.interviewed_on,
            intends_to_grow=GrowthIntention(row.intends_to_grow),
            planned_hires=row.planned_hires,
            barriers=[b for b in row.barriers.split(",") if b],
        )
