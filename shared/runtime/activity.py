"""The GraphQL enum of the activity types, for every API that shows them (the meetings
service's and the national gateway's). The types themselves are the event contract's
(``shared.contracts.ACTIVITY_TYPES``); this module refuses to load if the two differ."""

from __future__ import annotations

from enum import Enum

import strawberry

from shared.contracts import ACTIVITY_TYPES


@strawberry.enum(description="Wenger's 11 typical community-of-practice activities.")
class ActivityType(Enum):
    PROBLEM_SOLVING = "problem_solving"
    REQUESTS_FOR_INFORMATION = "requests_for_information"
    SEEKING_EXPERIENCE = "seeking_experience"
    REUSING_ASSETS = "reusing_assets"
    COORDINATION_AND_STRATEGY = "coordination_and_strategy"
    BUILDING_AN_ARGUMENT = "building_an_argument"
    GROWING_CONFIDENCE = "growing_confidence"
    DISCUSSING_DEVELOPMENTS = "discussing_developments"
    DOCUMENTATION_PROJECTS = "documentation_projects"
    VISITS = "visits"
    MAPPING_KNOWLEDGE_AND_IDENTIFYING_GAPS = "mapping_knowledge_and_identifying_gaps"


if tuple(t.value for t in ActivityType) != ACTIVITY_TYPES:  # pragma: no cover - a build error
    raise ImportError(
        "shared.runtime.activity.ActivityType differs from shared.contracts.ACTIVITY_TYPES: "
        "change both in the same commit"
    )
