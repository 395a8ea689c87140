"""Figures derived from the views' counts, one definition each (GraphQL and exports)."""

from __future__ import annotations

from services.gateway.views.compute import cohen_kappa


def ratio(part: float | None, whole: float | None) -> float | None:
    return None if not whole or part is None else part / whole


def recommend_score(promoters: int, detractors: int, responses: int) -> float | None:
    """% promoters (9-10) minus % detractors (0-6), -100..100."""
    share = ratio(promoters - detractors, responses)
    return None if share is None else 100 * share


def trend(recent: float | None, previous: float | None) -> float | None:
    return None if recent is None or previous is None else recent - previous


__all__ = ["cohen_kappa", "ratio", "recommend_score", "trend"]
