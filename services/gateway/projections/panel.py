"""The panel's person keys (``panel_persons``): an interview that names its person gets the
person's key (services/gateway/research/panel_keys.py); a person's erasure in the region
(``PersonErased``) deletes every key of that person, so the interviews stay, unlinked."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.projections.sql import upsert
from services.gateway.research.panel_keys import person_key, region_secrets
from services.gateway.research.tables import panel_persons
from shared.contracts import DecodedEvent, InterviewRecorded, PersonErased

HANDLES = (InterviewRecorded, PersonErased)


async def project(session: AsyncSession, events: Sequence[DecodedEvent]) -> None:
    named = [
        d
        for d in events
        if isinstance(d.event, PersonErased)
        or (isinstance(d.event, InterviewRecorded) and d.event.person_id is not None)
    ]
    if not named:
        return
    keys = await region_secrets(session, {d.envelope.region for d in named})
    rows = {}
    erased: set[tuple[str, str]] = set()
    for d in events:  # in order: an erasure removes the keys of interviews before it
        event, region = d.event, d.envelope.region
        if isinstance(event, InterviewRecorded) and event.person_id is not None:
            key = person_key(keys[region], event.person_id)
            rows[str(event.interview_id)] = {
                "interview_id": str(event.interview_id),
                "region": region,
                "person_key": key,
            }
        elif isinstance(event, PersonErased):
            key = person_key(keys[region], event.person_id)
            erased.add((region, key))
            rows = {
                i: r for i, r in rows.items() if (r["region"], r["person_key"]) != (region, key)
            }
    await upsert(session, panel_persons, list(rows.values()), key=["interview_id"], merge=None)
    if erased:
        p = panel_persons.c
        await session.execute(
            delete(panel_persons).where(
                or_(*(and_(p.region == r, p.person_key == k) for r, k in sorted(erased)))
            )
        )
