"""The guard as SQL: ``WHERE`` terms that keep only the rows a caller sees in full."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false

from services.gateway.auth.guard import Guard, Level


def visible(
    guard: Guard, region: ColumnElement[Any], needed: Level = Level.FULL
) -> list[ColumnElement[bool]]:
    """Terms keeping the rows of regions the caller sees at ``needed`` (default: rows in
    full): none for a researcher, ``region = <own>`` for an agency's full view, always-false
    where the caller sees no region at that level (the public, beyond national totals)."""
    regions = guard.regions_at(needed)
    if regions is None:
        return []
    if not regions:
        return [false()]
    return [region.in_(sorted(regions))]
