"""GraphQL types of a member's status and its history (for retention analysis)."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import Row

from services.gateway.statuses import MemberStatus as MemberStatus  # re-exported

strawberry.enum(
    MemberStatus, description="Where a member is now: in its group, on a break, or gone."
)


@strawberry.enum(description="What changed in a membership.")
class MembershipChangeKind(Enum):
    JOINED = "JOINED"
    PAUSED = "PAUSED"
    REJOINED = "REJOINED"
    LEFT = "LEFT"


@strawberry.type(description="One change of a membership, in the member's own order.")
class MembershipChange:
    change: MembershipChangeKind
    on: date
    group_id: strawberry.ID
    reason: str | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> MembershipChange:
        return cls(
            change=MembershipChangeKind(row.change),
            on=row.changed_on,
            group_id=strawberry.ID(row.group_id),
            reason=row.reason or None,
        )
