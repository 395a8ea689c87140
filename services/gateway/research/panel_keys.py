"""The gateway's own person keys, for version-1 interview events only.

Interviews recorded since the region makes the key itself (``InterviewRecorded`` v2) carry
their ``person_key`` and the gateway never sees the person id. Events written before then
(v1) carry the region's ``person_id``: the gateway keys those with a random secret of its
own per region, made the first time one of that region's v1 interviews is projected (kept
in ``panel_secrets``; keep that table when the read model is rebuilt, or these keys change)
and stores only the key. The construction is the region's (:func:`person_key` in the
contracts), with another secret: a person interviewed before and after the change has two
keys, one from each secret.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.research.tables import panel_secrets


async def region_secrets(
    session: AsyncSession, regions: set[str], make: set[str] | frozenset[str] = frozenset()
) -> dict[str, bytes]:
    """The secrets of ``regions`` that have one, and of ``make``, made for those that have
    none yet (a region without one has no gateway-made key to look up)."""
    query = select(panel_secrets.c.region, panel_secrets.c.secret).where(
        panel_secrets.c.region.in_(sorted(regions | make))
    )
    found: dict[str, str] = {row.region: row.secret for row in await session.execute(query)}
    new = [
        {"region": r, "secret": secrets.token_hex(32), "created_at": datetime.now(UTC)}
        for r in sorted(make - found.keys())
    ]
    if new:
        await session.execute(insert(panel_secrets), new)
        found.update((str(row["region"]), str(row["secret"])) for row in new)
    return {region: bytes.fromhex(secret) for region, secret in found.items()}
