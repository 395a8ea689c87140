"""What a meeting leads to: RSVPs, the memo, action items (``meetings.*`` events).

- RSVPs: one row per meeting and member, the newest answer wins (the meeting's sequence).
- Memo: the newest ``MemoPublished`` of each meeting; ``published_at`` is when it occurred.
- Action items: facets "agreed" and "closed", each from the newest event that set it, so a
  closing that arrives before its agreement leaves a closed item the agreement fills in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.orm import action_items, memos, rsvps
from services.gateway.projections.sql import (
    Columns,
    Row,
    facet,
    greatest,
    is_newer,
    take_if,
    upsert,
)
from shared.contracts import (
    ActionItemAgreed,
    ActionItemClosed,
    DecodedEvent,
    MemoPublished,
    RsvpRecorded,
)

HANDLES = (RsvpRecorded, MemoPublished, ActionItemAgreed, ActionItemClosed)
_MEMO = ("region", "group_id", "summary", "facilitator_id", "published_at")
_AGREED = ("meeting_id", "owner_member_id", "description", "due_on")
_CLOSED = ("closed_on", "outcome")


async def project(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
    answers: dict[tuple[str, str], Row] = {}
    memo_rows: dict[str, Row] = {}
    items: dict[str, Row] = {}
    for decoded in sorted(events, key=lambda d: d.envelope.sequence):
        env, event = decoded.envelope, decoded.event
        if isinstance(event, RsvpRecorded):
            key = (str(event.meeting_id), str(event.member_id))
            answers[key] = {
                "meeting_id": key[0],
                "member_id": key[1],
                "coming": event.coming,
                "version": env.sequence,
            }
        elif isinstance(event, MemoPublished):
            memo_rows[str(event.meeting_id)] = {
                "meeting_id": str(event.meeting_id),
                "region": env.region,
                "group_id": str(event.group_id),
                "summary": event.summary,
                "facilitator_id": None
                if event.facilitator_id is None
                else str(event.facilitator_id),
                "published_at": env.occurred_at,
                "version": env.sequence,
            }
        elif isinstance(event, ActionItemAgreed | ActionItemClosed):
            _fold_item(items, decoded)
    await upsert(
        session, rsvps, list(answers.values()), key=["meeting_id", "member_id"], merge=_merge_rsvp
    )
    await upsert(session, memos, list(memo_rows.values()), key=["meeting_id"], merge=_merge_memo)
    await upsert(session, action_items, list(items.values()), key=["id"], merge=_merge_item)


def _fold_item(rows: dict[str, Row], decoded: DecodedEvent) -> None:
    env, event = decoded.envelope, decoded.event
    assert isinstance(event, ActionItemAgreed | ActionItemClosed)
    item_id = str(event.action_id)
    row = rows.get(item_id)
    if row is None:
        row = rows[item_id] = dict.fromkeys(action_items.c.keys())
        row.update(id=item_id, region=env.region, group_id=str(event.group_id))
    if isinstance(event, ActionItemAgreed):
        row.update(
            meeting_id=str(event.meeting_id),
            owner_member_id=str(event.owner_member_id),
            description=event.description,
            due_on=event.due_on,
            agreed_version=env.sequence,
        )
    else:
        row.update(closed_on=event.closed_on, outcome=event.outcome, closed_version=env.sequence)


def _merge_rsvp(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    newer = is_newer(ex.version, cur.version)
    return {
        "coming": take_if(newer, ex.coming, cur.coming),
        "version": greatest(ex.version, cur.version),
    }


def _merge_memo(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    return facet(cur, ex, "version", _MEMO)


def _merge_item(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    return {
        **facet(cur, ex, "agreed_version", _AGREED),
        **facet(cur, ex, "closed_version", _CLOSED),
    }
