"""Regions: every event refreshes its region; ``RegionAnnounced`` names it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.orm import regions
from services.gateway.projections.sql import (
    Columns,
    Row,
    greatest,
    is_newer,
    least,
    take_if,
    upsert,
)
from shared.contracts import DecodedEvent, RegionAnnounced

HANDLES = (RegionAnnounced,)
_ANNOUNCED = ("display_name", "agency", "software_version", "announced_at")


async def project(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
    """Count every event of the batch towards its region (not only ``HANDLES``)."""
    rows: dict[str, Row] = {}
    for decoded in events:
        env = decoded.envelope
        row = rows.get(env.region)
        if row is None:
            row = rows[env.region] = {
                "id": env.region,
                "display_name": None,
                "agency": None,
                "software_version": None,
                "announced_at": None,
                "first_seen": env.occurred_at,
                "last_event_at": env.occurred_at,
                "events_applied": 0,
            }
        row["events_applied"] += 1
        row["first_seen"] = min(row["first_seen"], env.occurred_at)
        row["last_event_at"] = max(row["last_event_at"], env.occurred_at)
        event = decoded.event
        if isinstance(event, RegionAnnounced) and (
            row["announced_at"] is None or env.occurred_at > row["announced_at"]
        ):
            row.update(
                display_name=event.display_name,
                agency=event.agency,
                software_version=event.software_version,
                announced_at=env.occurred_at,
            )
    await upsert(session, regions, list(rows.values()), key=["id"], merge=_merge)


def _merge(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    newer = is_newer(ex.announced_at, cur.announced_at)
    announced = {name: take_if(newer, ex[name], cur[name]) for name in _ANNOUNCED}
    return {
        **announced,
        "first_seen": least(ex.first_seen, cur.first_seen),
        "last_event_at": greatest(ex.last_event_at, cur.last_event_at),
        "events_applied": cur.events_applied + ex.events_applied,
    }
