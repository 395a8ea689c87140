"""The read model's status strings, defined once: the projections write them, the GraphQL
enums (``services.gateway.graphql``), the exports, dashboards and research code read them.
Each is a ``StrEnum``: a member compares and binds as its string."""

from __future__ import annotations

from enum import StrEnum


class MeetingStatus(StrEnum):
    PLANNED = "PLANNED"
    HELD = "HELD"
    CANCELLED = "CANCELLED"


class MemberStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    LEFT = "LEFT"


class InitiativeStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    ABANDONED = "ABANDONED"
