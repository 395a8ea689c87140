"""Projections of NATIONAL's events into the read model, one module per aggregate family.

:func:`project` is the ``Projector`` the :class:`~shared.messaging.consumer.EventConsumer`
calls with one batch inside the transaction that also records the batch's event ids.
After the families, the research facts of the units the batch touched (meetings, groups'
memberships, surveys, coded meetings) are recomputed in the same transaction
(:mod:`services.gateway.views.facts`).
Every event counts towards its region's freshness; each family applies the event types
it ``HANDLES`` and ignores the rest (a type no family handles, e.g. the person and
consent events that carry nothing the nation keeps, still counts as its region's activity).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import snapshot
from services.gateway.projections import (
    feedback,
    followups,
    groups,
    meetings,
    panel,
    regions,
    research,
)
from services.gateway.views import facts
from shared.contracts import (
    ActivityRecorded,
    ConsentGiven,
    ConsentWithdrawn,
    DecodedEvent,
    MemberDetailsChanged,
    PersonRegistered,
)

FAMILIES = (groups, meetings, followups, research, feedback, panel)
# Registered event types no family applies, deliberately: they carry nothing the nation
# keeps (they still count towards their region's freshness). A test fails when a registered
# type is neither applied nor listed here.
IGNORED = (PersonRegistered, ConsentGiven, ConsentWithdrawn, MemberDetailsChanged)


async def project(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
    await project_rows(session, events)
    await facts.apply(session, facts.touched(events))
    await snapshot.record(session, events)


async def project_rows(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
    """The read model's own rows of a batch (every family, the activities' meeting starts),
    without the research facts and the snapshot: :func:`project` adds both; a rebuild
    (:mod:`services.gateway.replay`) computes the facts once at its end instead."""
    await regions.project(session, events)
    for family in FAMILIES:
        mine = [e for e in events if isinstance(e.event, family.HANDLES)]
        if mine:
            await family.project(session, mine)
    moved = {
        str(e.event.meeting_id)  # type: ignore[attr-defined]
        for e in events
        if isinstance(e.event, (*meetings.MOVES_START, ActivityRecorded))
    }
    if moved:
        await research.sync_meeting_starts(session, moved)


__all__ = ["FAMILIES", "IGNORED", "project", "project_rows"]
