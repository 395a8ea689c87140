"""GraphQL type ``Facilitator``: who facilitates a group, by pseudonymous id."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import Row


@strawberry.enum(description="A PBAS business-development agent or a university researcher.")
class FacilitatorRole(Enum):
    AGENCY_AGENT = "agency_agent"
    RESEARCHER = "researcher"


@strawberry.type(description="A facilitator of a core group (pseudonymous: no names).")
class Facilitator:
    id: strawberry.ID
    group_id: strawberry.ID
    role: FacilitatorRole

    @classmethod
    def from_row(cls, row: Row[Any]) -> Facilitator:
        return cls(
            id=strawberry.ID(row.facilitator_id),
            group_id=strawberry.ID(row.group_id),
            role=FacilitatorRole(row.role),  # current ones are assigned: they have a role
        )
