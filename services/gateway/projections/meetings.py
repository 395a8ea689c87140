"""Meetings and their attendance (``meetings.meeting.*`` events that shape the meeting row).

A meeting row has facets, each kept from the newest event that set it: schedule (host),
timing (theme and start: ``MeetingScheduled`` or a later ``MeetingRescheduled``), held,
cancelled. ``status`` follows the newest of scheduled / held / cancelled (its own
``status_version``: a reschedule, an RSVP or a memo shares the meeting's sequence but
leaves the status alone). So ``MeetingHeld`` (seq 2) followed by a late
``MeetingScheduled`` (seq 1) leaves the meeting HELD with the schedule's theme, host and
start filled in. Attendance rows are those of the newest ``MeetingHeld`` or
``AttendanceCorrected`` (a correction carries the whole list and the holding's time, so it
is folded as a newer holding); ``recorded`` once set stays set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import and_, case, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.orm import attendance, meetings
from services.gateway.projections.sql import (
    Columns,
    Row,
    facet,
    greatest,
    is_newer,
    take_if,
    upsert,
)
from services.gateway.statuses import MeetingStatus
from shared.contracts import (
    AttendanceCorrected,
    DecodedEvent,
    MeetingCancelled,
    MeetingHeld,
    MeetingRecorded,
    MeetingRescheduled,
    MeetingScheduled,
)
from shared.storage.keys import among

HANDLES = (
    MeetingScheduled,
    MeetingHeld,
    AttendanceCorrected,
    MeetingCancelled,
    MeetingRescheduled,
    MeetingRecorded,
)
PLANNED, HELD, CANCELLED = MeetingStatus.PLANNED, MeetingStatus.HELD, MeetingStatus.CANCELLED
_SCHEDULE = ("group_id", "host_member_id")
_TIMING = ("theme",)  # starts_at: see _merge
_HELD = ("held_at", "attendance_count")
_CANCELLED = ("cancelled_at", "cancel_reason")
# events that move the meeting's start (activities keep the meeting's start in step)
MOVES_START = (MeetingScheduled, MeetingRescheduled, MeetingHeld, MeetingCancelled)


async def project(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
    rows: dict[str, Row] = {}
    attendees: dict[str, tuple[int, tuple[str, ...]]] = {}  # meeting -> (held version, ids)
    for decoded in sorted(events, key=lambda d: d.envelope.sequence):
        if isinstance(decoded.event, HANDLES):
            _fold(rows, attendees, decoded)
    stored = await _held_versions(session, list(attendees))
    await upsert(session, meetings, list(rows.values()), key=["id"], merge=_merge)
    # Attendance follows the newest MeetingHeld / AttendanceCorrected only: a stale one adds
    # nothing, a newer one replaces the list an older one left.
    winners = {
        meeting_id: ids
        for meeting_id, (version, ids) in attendees.items()
        if version > (stored.get(meeting_id) or 0)
    }
    replaced = [meeting_id for meeting_id in winners if stored.get(meeting_id) is not None]
    if replaced:
        await session.execute(
            delete(attendance).where(among(session, attendance.c.meeting_id, replaced))
        )
    attendance_rows = [
        {"meeting_id": meeting_id, "member_id": member_id}
        for meeting_id, ids in winners.items()
        for member_id in ids
    ]
    await upsert(session, attendance, attendance_rows, key=["meeting_id", "member_id"], merge=None)


async def _held_versions(session: AsyncSession, meeting_ids: list[str]) -> dict[str, int | None]:
    if not meeting_ids:
        return {}
    query = select(meetings.c.id, meetings.c.held_version).where(
        among(session, meetings.c.id, meeting_ids)
    )
    return {row.id: row.held_version for row in await session.execute(query)}


def _fold(
    rows: dict[str, Row], attendees: dict[str, tuple[int, tuple[str, ...]]], d: DecodedEvent
) -> None:
    env, event = d.envelope, d.event
    assert isinstance(event, HANDLES)
    meeting_id = str(event.meeting_id)
    row = rows.get(meeting_id)
    if row is None:
        row = rows[meeting_id] = dict.fromkeys(meetings.c.keys())
        row.update(
            id=meeting_id,
            region=env.region,
            group_id=str(event.group_id),
            status=PLANNED,
            recorded=False,
        )
    if isinstance(event, MeetingScheduled):
        row.update(
            group_id=str(event.group_id),
            host_member_id=str(event.host_member_id),
            schedule_version=env.sequence,
        )
    if isinstance(event, MeetingScheduled | MeetingRescheduled):
        row.update(
            theme=event.theme,
            starts_at=event.starts_at.astimezone(UTC),
            timing_version=env.sequence,
        )
    if isinstance(event, MeetingScheduled):
        row.update(status=PLANNED, status_version=env.sequence)
    elif isinstance(event, MeetingHeld | AttendanceCorrected):  # a correction: a newer list
        ids = tuple(dict.fromkeys(str(m) for m in event.attendee_member_ids))
        row.update(
            held_at=event.held_at.astimezone(UTC),
            attendance_count=len(ids),
            held_version=env.sequence,
            status=HELD,
            status_version=env.sequence,
        )
        attendees[meeting_id] = (env.sequence, ids)
    elif isinstance(event, MeetingCancelled):
        row.update(
            cancelled_at=env.occurred_at,
            cancel_reason=event.reason,
            cancel_version=env.sequence,
            status=CANCELLED,
            status_version=env.sequence,
        )
    elif isinstance(event, MeetingRecorded):
        row["recorded"] = True
    row["version"] = max(row["version"] or 0, env.sequence)
    if row["timing_version"] is None:  # placeholder start until the schedule arrives
        row["starts_at"] = (
            row["held_at"] or row["cancelled_at"] or row["starts_at"] or env.occurred_at
        )


def _merge(cur: Columns, ex: Columns) -> Mapping[str, Any]:
    starts_at = case(
        (is_newer(ex.timing_version, cur.timing_version), ex.starts_at),
        # a placeholder start gives way to the holding's time
        (and_(cur.timing_version.is_(None), ex.held_at.is_not(None)), ex.held_at),
        else_=cur.starts_at,
    )
    return {
        **facet(cur, ex, "schedule_version", _SCHEDULE),
        **facet(cur, ex, "timing_version", _TIMING),
        "starts_at": starts_at,
        **facet(cur, ex, "held_version", _HELD),
        **facet(cur, ex, "cancel_version", _CANCELLED),
        "status": take_if(is_newer(ex.status_version, cur.status_version), ex.status, cur.status),
        "status_version": greatest(ex.status_version, cur.status_version),
        "recorded": or_(cur.recorded, ex.recorded),
        "version": greatest(ex.version, cur.version),
    }
