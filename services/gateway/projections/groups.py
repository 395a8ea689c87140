"""Groups, their facilitators and their members (``groups.*`` events).

Events of one batch are first folded per aggregate (by sequence), then merged into the
stored rows by one upsert per table whose SET clause keeps the newer facet of each.
A member's ``status`` (ACTIVE / PAUSED / LEFT) follows its newest event; every change is
also kept in ``membership_changes`` (one row per member and sequence: a re-sent event
adds nothing), the history retention analysis reads.

``PersonRegistered``, ``ConsentGiven``/``Withdrawn`` and ``PersonErased`` are handled by
no family: the nation holds no personal data and no table keyed by a person's id, so
they only count towards their region's freshness (and an erasure has nothing to delete).

``MemberDetailsChanged`` (a member's details edited in the region) is deliberately handled
by no family either: it carries no names (company name, business ID and address stay in
the region; only the names of the fields that changed travel), and the national read model
keeps a member's size and industry as announced when it joined, the profile the research
views compare members by. It counts towards its region's freshness.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, case
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.orm import facilitators, groups, members, membership_changes
from services.gateway.projections.sql import (
    Columns,
    Row,
    facet,
    greatest,
    is_newer,
    take_if,
    upsert,
)
from services.gateway.statuses import MemberStatus
from shared.contracts import (
    DecodedEvent,
    FacilitatorAssigned,
    FacilitatorRemoved,
    GroupCreated,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    MemberRejoined,
)

MEMBER_EVENTS = (MemberJoined, MemberLeft, MemberPaused, MemberRejoined)
HANDLES = (GroupCreated, FacilitatorAssigned, FacilitatorRemoved, *MEMBER_EVENTS)
ACTIVE, PAUSED, LEFT = MemberStatus.ACTIVE, MemberStatus.PAUSED, MemberStatus.LEFT
_GROUP = ("region", "name", "municipality", "founded_on")
_JOINED = (
    "group_id",
    "joined_on",
    "employees",
    "turnover_eur",
    "balance_sheet_eur",
    "industry_code",
)
_LEFT = ("left_on", "left_reason")
_PAUSED = ("paused_on", "pause_reason")
_REJOINED = ("rejoined_on",)


async def project(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
    group_rows: dict[str, Row] = {}
    member_rows: dict[str, Row] = {}
    facilitator_rows: dict[tuple[str, str], Row] = {}
    changes: dict[tuple[str, int], Row] = {}
    for decoded in sorted(events, key=lambda d: d.envelope.sequence):
        env, event = decoded.envelope, decoded.event
        if isinstance(event, GroupCreated):
            group_rows[str(event.group_id)] = {
                "id": str(event.group_id),
                "region": env.region,
                "name": event.name,
                "municipality": event.municipality,
                "founded_on": event.founded_on,
                "version": env.sequence,
            }
        elif isinstance(event, FacilitatorAssigned | FacilitatorRemoved):
            key = (str(event.group_id), str(event.facilitator_id))
            earlier = facilitator_rows.get(key)
            role = event.role if isinstance(event, FacilitatorAssigned) else None
            facilitator_rows[key] = {
                "group_id": key[0],
                "facilitator_id": key[1],
                "region": env.region,
                "role": role or (earlier["role"] if earlier else None),
                "active": isinstance(event, FacilitatorAssigned),
                "version": env.sequence,
            }
        elif isinstance(event, MEMBER_EVENTS):
            _fold_member(member_rows, decoded)
            change = _change(decoded)
            changes[(change["member_id"], change["version"])] = change
    await upsert(session, groups, list(group_rows.values()), key=["id"], merge=_merge_group)
    await upsert(
        session,
        facilitators,
        list(facilitator_rows.values()),
        key=["group_id", "facilitator_id"],
        merge=_merge_facilitator,
    )
    await upsert(session, members, list(member_rows.values()), key=["id"], merge=_merge_member)
    await upsert(
        session,
        membership_changes,
        list(changes.values()),
        key=["member_id", "version"],
        merge=None,
    )


def _fold_member(rows: dict[str, Row], decoded: DecodedEvent) -> None:
    env, event = decoded.envelope, decoded.event
    assert isinstance(event, MEMBER_EVENTS)
    member_id = str(event.member_id)
    row = rows.get(member_id)
    if row is None:
        row = rows[member_id] = dict.fromkeys(members.c.keys())
        row.update(id=member_id, region=env.region, group_id=str(event.group_id))
    if isinstance(event, MemberJoined):
        row.update(
            group_id=str(event.group_id),
            joined_on=event.joined_on,
            employees=event.employees,
            turnover_eur=event.turnover_eur,
            balance_sheet_eur=event.balance_sheet_eur,
            industry_code=event.industry_code,
            joined_version=env.sequence,
            status=ACTIVE,
        )
    elif isinstance(event, MemberLeft):
        row.update(
            left_on=event.left_on, left_reason=event.reason, left_version=env.sequence, status=LEFT
        )
    elif isinstance(event, MemberPaused):
        row.update(
            paused_on=event.paused_on,
            pause_reason=event.reason,
            paused_version=env.sequence,
            status=PAUSED,
        )
    else:
        row.update(rejoined_on=event.rejoined_on, rejoined_version=env.sequence, status=ACTIVE)
    # events come sorted by sequence: the last one decides the member's current state
    row.update(active=row["status"] == ACTIVE, version=env.sequence)


def _change(decoded: DecodedEvent) -> Row:
    env, event = decoded.envelope, decoded.event
    assert isinstance(event, MEMBER_EVENTS)
    if isinstance(event, MemberJoined):
        change, on, reason = "JOINED", event.joined_on, None
    elif isinstance(event, MemberLeft):
        change, on, reason = LEFT, event.left_on, event.reason or None
    elif isinstance(event, MemberPaused):
        change, on, reason = PAUSED, event.paused_on, event.reason or None
    else:
        change, on, reason = "REJOINED", event.rejoined_on, None
    return {
        "member_id": str(event.member_id),
        "version": env.sequence,
        "region": env.region,
        "group_id": str(event.group_id),
        "change": change,
        "changed_on": on,
        "reason": reason,
    }


def _merge_group(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    return facet(cur, ex, "version", _GROUP)


def _merge_facilitator(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    newer = is_newer(ex.version, cur.version)
    # a removal carries no role: the facilitator keeps the one it had (or a late one)
    role = case(
        (and_(newer, ex.role.is_not(None)), ex.role),
        (cur.role.is_(None), ex.role),
        else_=cur.role,
    )
    return {
        "role": role,
        "active": take_if(newer, ex.active, cur.active),
        "version": greatest(ex.version, cur.version),
    }


def _merge_member(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    newer = is_newer(ex.version, cur.version)
    return {
        **facet(cur, ex, "joined_version", _JOINED),
        **facet(cur, ex, "left_version", _LEFT),
        **facet(cur, ex, "paused_version", _PAUSED),
        **facet(cur, ex, "rejoined_version", _REJOINED),
        "active": take_if(newer, ex.active, cur.active),
        "status": take_if(newer, ex.status, cur.status),
        "version": greatest(ex.version, cur.version),
    }
