"""The consensus codings the research views count (docs/research-views.md, "CoP activities").

A meeting reconciled in the researchers' workspace (services/gateway/research/) with the
Wenger codebook has its counted CoP records from that consensus: ``fact_cop`` gets one more
coder, :data:`CONSENSUS`, that is the meeting's counted one (a consensus of "nothing found"
counts no activity for the meeting). When several versions of the codebook have a consensus
of the meeting, the latest version's counts. Codes of a later version that are not one of
the 11 activity types are not CoP types: Table 1 (which reads the workspace) counts them,
the views keyed by activity type cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.orm import meetings
from services.gateway.research.tables import CONSENSUS, codebooks, coding_marks, codings
from services.gateway.research.wenger import KEY
from shared.storage.chunks import chunks
from shared.storage.keys import among

__all__ = ["CONSENSUS", "Consensus", "consensus_meetings", "consensus_of"]


@dataclass(frozen=True)
class Consensus:
    """A meeting's consensus coding with the Wenger codebook: where and when the meeting
    is, and its marks (``code, example, featured, id``; none: nothing found)."""

    region: str
    group_id: str
    starts_at: datetime
    marks: tuple[Any, ...]


def _wenger_consensus() -> Any:
    c, b = codings.c, codebooks.c
    return (
        select(c.id, c.meeting_id, c.region, c.group_id, b.version, meetings.c.starts_at)
        .select_from(
            codings.join(codebooks, b.id == c.codebook_id).join(
                meetings, meetings.c.id == c.meeting_id
            )
        )
        .where(b.key == KEY, c.coder_id == CONSENSUS)
    )


async def consensus_of(session: AsyncSession, meeting_ids: Sequence[str]) -> dict[str, Consensus]:
    """The counted consensus of each of ``meeting_ids`` that has one."""
    latest: dict[str, Any] = {}
    for chunk in chunks(meeting_ids):
        query = _wenger_consensus().where(among(session, codings.c.meeting_id, chunk))
        for row in await session.execute(query):
            known = latest.get(row.meeting_id)
            if known is None or row.version > known.version:
                latest[row.meeting_id] = row
    marks: dict[str, list[Any]] = {row.id: [] for row in latest.values()}
    m = coding_marks.c
    for chunk in chunks(sorted(marks)):
        query = select(m.coding_id, m.code, m.example, m.featured, m.id).where(
            among(session, m.coding_id, chunk)
        )
        for mark in await session.execute(query):
            marks[mark.coding_id].append(mark)
    return {
        meeting: Consensus(row.region, row.group_id, row.starts_at, tuple(marks[row.id]))
        for meeting, row in latest.items()
    }


async def consensus_meetings(session: AsyncSession) -> set[str]:
    """Every meeting with a consensus coding of the Wenger codebook (for a rebuild)."""
    query = _wenger_consensus().with_only_columns(codings.c.meeting_id).distinct()
    return set(await session.scalars(query))
