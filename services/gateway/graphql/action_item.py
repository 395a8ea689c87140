"""GraphQL type ``ActionItem``: a follow-up agreed in a meeting."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import Row


@strawberry.enum(description="Whether an action item is still to do.")
class ActionStatus(Enum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


@strawberry.type(
    description="A follow-up action agreed in a meeting; fields of its agreement are null "
    "while only its closing has arrived."
)
class ActionItem:
    id: strawberry.ID
    meeting_id: strawberry.ID | None
    owner_member_id: strawberry.ID | None
    description: str | None
    due_on: date | None
    status: ActionStatus
    closed_on: date | None
    outcome: str | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> ActionItem:
        closed = row.closed_version is not None
        return cls(
            id=strawberry.ID(row.id),
            meeting_id=None if row.meeting_id is None else strawberry.ID(row.meeting_id),
            owner_member_id=(
                None if row.owner_member_id is None else strawberry.ID(row.owner_member_id)
            ),
            description=row.description,
            due_on=row.due_on,
            status=ActionStatus.CLOSED if closed else ActionStatus.OPEN,
            closed_on=row.closed_on,
            outcome=row.outcome or None,
        )
