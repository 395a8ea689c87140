"""The research core: CoP activities and initiatives (``meetings.activity.*``,
``meetings.initiative.*``).

- Activities: one row per activity (a correction with a higher sequence replaces it and
  its member list). ``meeting_starts_at`` is kept in step with the meeting's start by
  :func:`sync_meeting_starts` (called for every batch that moves a meeting or records an
  activity), so activities filter and sort by the meeting's date.
- Initiatives: facets "started" and "updated"; status and members follow the newest
  event; every event is kept in ``initiative_updates`` (one row per initiative and
  sequence) for the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.orm import (
    activities,
    activity_members,
    initiative_members,
    initiative_updates,
    initiatives,
    meetings,
)
from services.gateway.projections.sql import (
    Columns,
    Merge,
    Row,
    facet,
    greatest,
    is_newer,
    least,
    take_if,
    upsert,
)
from services.gateway.statuses import InitiativeStatus
from shared.contracts import ActivityRecorded, DecodedEvent, InitiativeStarted, InitiativeUpdated
from shared.storage.keys import among

HANDLES = (ActivityRecorded, InitiativeStarted, InitiativeUpdated)
_ACTIVITY = ("region", "group_id", "meeting_id", "activity_type", "example", "coder_id")
_STARTED = ("title", "origin_meeting_id", "started_on")
_UPDATED = ("outcome", "updated_on")
Children = dict[str, tuple[int, tuple[str, ...]]]  # parent id -> (version, member ids)


async def project(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
    activity_rows: dict[str, Row] = {}
    activity_people: Children = {}
    initiative_rows: dict[str, Row] = {}
    initiative_people: Children = {}
    history: dict[tuple[str, int], Row] = {}
    for decoded in sorted(events, key=lambda d: d.envelope.sequence):
        env, event = decoded.envelope, decoded.event
        ids = tuple(dict.fromkeys(str(m) for m in getattr(event, "member_ids", ())))
        if isinstance(event, ActivityRecorded):
            earlier = activity_rows.get(str(event.activity_id), {}).get("recorded_at")
            activity_rows[str(event.activity_id)] = {
                "id": str(event.activity_id),
                "region": env.region,
                "group_id": str(event.group_id),
                "meeting_id": str(event.meeting_id),
                "activity_type": event.activity_type,
                "example": event.example,
                "coder_id": None if event.coder_id is None else str(event.coder_id),
                "meeting_starts_at": env.occurred_at,  # until the meeting's start is known
                "recorded_at": min(earlier or env.occurred_at, env.occurred_at),
                "version": env.sequence,
            }
            activity_people[str(event.activity_id)] = (env.sequence, ids)
        elif isinstance(event, InitiativeStarted | InitiativeUpdated):
            _fold_initiative(initiative_rows, decoded)
            initiative_people[str(event.initiative_id)] = (env.sequence, ids)
            entry = _history(decoded, len(ids))
            history[(entry["initiative_id"], entry["version"])] = entry
    await _with_children(
        session, (activities, _merge_activity), activity_rows, activity_members, activity_people
    )
    await _with_children(
        session,
        (initiatives, _merge_initiative),
        initiative_rows,
        initiative_members,
        initiative_people,
    )
    await upsert(
        session,
        initiative_updates,
        list(history.values()),
        key=["initiative_id", "version"],
        merge=None,
    )


async def _with_children(
    session: AsyncSession,
    parent: tuple[Table, Merge],
    rows: dict[str, Row],
    children: Table,
    members: Children,
) -> None:
    """Upsert ``rows`` and replace a parent's members when its newest event is newer than
    the stored one (a stale event adds none). ``children``: (<parent>_id, member_id)."""
    if not rows:
        return
    parents, merge = parent
    fk = next(column.name for column in children.c if column.name != "member_id")
    query = select(parents.c.id, parents.c.version).where(among(session, parents.c.id, list(rows)))
    stored: dict[str, int] = {row.id: row.version for row in await session.execute(query)}
    await upsert(session, parents, list(rows.values()), key=["id"], merge=merge)
    winners = {i: ids for i, (v, ids) in members.items() if v > stored.get(i, 0)}
    replaced = [i for i in winners if i in stored]
    if replaced:
        await session.execute(delete(children).where(among(session, children.c[fk], replaced)))
    child_rows = [{fk: i, "member_id": m} for i, ids in winners.items() for m in ids]
    await upsert(session, children, child_rows, key=[fk, "member_id"], merge=None)


async def sync_meeting_starts(session: AsyncSession, meeting_ids: Iterable[str]) -> None:
    """Set the activities of these meetings to their meeting's (current) start."""
    start = (
        select(meetings.c.starts_at)
        .where(meetings.c.id == activities.c.meeting_id)
        .scalar_subquery()
    )
    ids = sorted(set(meeting_ids))
    if ids:
        await session.execute(
            update(activities)
            .where(among(session, activities.c.meeting_id, ids))
            .values(meeting_starts_at=func.coalesce(start, activities.c.meeting_starts_at))
        )


def _fold_initiative(rows: dict[str, Row], decoded: DecodedEvent) -> None:
    env, event = decoded.envelope, decoded.event
    assert isinstance(event, InitiativeStarted | InitiativeUpdated)
    initiative_id = str(event.initiative_id)
    row = rows.get(initiative_id)
    if row is None:
        row = rows[initiative_id] = dict.fromkeys(initiatives.c.keys())
        row.update(id=initiative_id, region=env.region, group_id=str(event.group_id))
    if isinstance(event, InitiativeStarted):
        origin = event.origin_meeting_id
        row.update(
            title=event.title,
            origin_meeting_id=None if origin is None else str(origin),
            started_on=event.started_on,
            started_version=env.sequence,
            status=InitiativeStatus.ACTIVE,
        )
    else:
        row.update(
            outcome=event.outcome,
            updated_on=event.updated_on,
            updated_version=env.sequence,
            status=event.status.upper(),
        )
    row["version"] = env.sequence


def _history(decoded: DecodedEvent, member_count: int) -> Row:
    env, event = decoded.envelope, decoded.event
    row: Row = {"version": env.sequence, "member_count": member_count}
    if isinstance(event, InitiativeStarted):
        row.update(status=InitiativeStatus.ACTIVE, outcome="", changed_on=event.started_on)
    else:
        assert isinstance(event, InitiativeUpdated)
        row.update(status=event.status.upper(), outcome=event.outcome, changed_on=event.updated_on)
    row["initiative_id"] = str(event.initiative_id)
    return row


def _merge_activity(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    return {
        **facet(cur, ex, "version", _ACTIVITY),
        "recorded_at": least(ex.recorded_at, cur.recorded_at),
    }


def _merge_initiative(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    return {
        **facet(cur, ex, "started_version", _STARTED),
        **facet(cur, ex, "updated_version", _UPDATED),
        "status": take_if(is_newer(ex.version, cur.version), ex.status, cur.status),
        "version": greatest(ex.version, cur.version),
    }
