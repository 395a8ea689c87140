"""The guard as SQL: ``WHERE`` terms that keep only the rows a caller sees in full."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false

from services.gateway.auth.guard import Guard


def visible(guard: Guard, region: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """Terms for a query over a table with a ``region`` column: none for a researcher,
    ``region = <own>`` for an agency, always-false for the public."""
    regions = guard.full_regions()
    if regions is None:
        return []
    if not regions:
        return [false()]
    return [region.in_(sorted(regions))]
