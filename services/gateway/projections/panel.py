"""The panel's person keys (``panel_persons``: interview -> its person's key).

- ``InterviewRecorded`` (v2) carries the key the region made; it is stored as it came.
- ``InterviewRecordedV1`` carries the region's person id instead (events written before the
  region made the keys): the gateway keys it with its own secret for that region
  (:mod:`services.gateway.research.panel_keys`) and stores only the key.
- ``InterviewRekeyed`` replaces an interview's key; without a key (the person was erased in
  the region) the interview's row goes: the interview stays, unlinked.
- ``PersonErased`` (groups) deletes the keys the gateway made from that person's id (v1
  interviews); the keys the region made are dropped by the region's InterviewRekeyed.

Only an interview recorded in the event's own region is rekeyed: a region cannot touch
another's, nor key an interview the nation has not seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.orm import interviews
from services.gateway.projections.sql import Columns, upsert
from services.gateway.research.panel_keys import region_secrets
from services.gateway.research.tables import panel_persons
from shared.contracts import (
    DecodedEvent,
    InterviewRecorded,
    InterviewRecordedV1,
    InterviewRekeyed,
    PersonErased,
)
from shared.contracts.feedback import person_key
from shared.storage.chunks import chunks

HANDLES = (InterviewRecorded, InterviewRecordedV1, InterviewRekeyed, PersonErased)

Row = dict[str, str]


async def project(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
    keyed = {  # regions whose v1 interviews the gateway keys
        d.envelope.region
        for d in events
        if isinstance(d.event, InterviewRecordedV1) and d.event.person_id is not None
    }
    erasing = {d.envelope.region for d in events if isinstance(d.event, PersonErased)}
    secrets = await region_secrets(session, erasing, make=keyed) if keyed | erasing else {}
    owners = await _regions_of(session, events)
    rows: dict[str, Row] = {}  # interview id -> its row, as the batch leaves it
    dropped: set[str] = set()  # interview ids whose row goes
    erased: set[tuple[str, str]] = set()  # (region, gateway key)
    for d in events:  # in order: a later event wins over an earlier one of the batch
        event, region = d.event, d.envelope.region
        if isinstance(event, InterviewRecorded | InterviewRecordedV1):
            interview = str(event.interview_id)
            owners[interview] = region
            key = (
                event.person_key
                if isinstance(event, InterviewRecorded)
                else None
                if event.person_id is None
                else person_key(secrets[region], event.person_id)
            )
            _keep(rows, dropped, interview, region, key)
        elif isinstance(event, InterviewRekeyed):
            interview = str(event.interview_id)
            if owners.get(interview) == region:  # known, and of this region
                _keep(rows, dropped, interview, region, event.person_key)
        elif isinstance(event, PersonErased) and region in secrets:
            key = person_key(secrets[region], event.person_id)
            erased.add((region, key))
            for interview in [
                i for i, r in rows.items() if (r["region"], r["person_key"]) == (region, key)
            ]:
                _keep(rows, dropped, interview, region, None)
    p = panel_persons.c
    for piece in chunks(sorted(dropped)):
        await session.execute(delete(panel_persons).where(p.interview_id.in_(piece)))
    await upsert(session, panel_persons, list(rows.values()), key=["interview_id"], merge=_rekey)
    if erased:
        await session.execute(
            delete(panel_persons).where(
                or_(*(and_(p.region == r, p.person_key == k) for r, k in sorted(erased)))
            )
        )


def _rekey(_current: Columns, excluded: Columns) -> Mapping[str, Any]:
    return {"region": excluded.region, "person_key": excluded.person_key}


def _keep(
    rows: dict[str, Row], dropped: set[str], interview: str, region: str, key: str | None
) -> None:
    if key is None:
        rows.pop(interview, None)
        dropped.add(interview)
    else:
        dropped.discard(interview)
        rows[interview] = {"interview_id": interview, "region": region, "person_key": key}


async def _regions_of(session: AsyncSession, events: Sequence[DecodedEvent]) -> dict[str, str]:
    """The region of every interview the batch rekeys, as the read model knows it."""
    ids = sorted(
        {str(d.event.interview_id) for d in events if isinstance(d.event, InterviewRekeyed)}
    )
    i, regions = interviews.c, dict[str, str]()
    for piece in chunks(ids):
        found = await session.execute(select(i.id, i.region).where(i.id.in_(piece)))
        regions.update((str(interview), str(region)) for interview, region in found)
    return regions
