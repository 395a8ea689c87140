"""Pseudonymous person keys for the panel: HMAC-SHA256(region secret, person id).

Each region gets its own random secret the first time one of its interviews is projected
(kept in ``panel_secrets``; keep that table when the read model is rebuilt, or every key
changes). The same person id gives the same key within a region; the keys of two regions
cannot be linked, and a key cannot be turned back into the person id without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.research.tables import panel_secrets

KEY_LENGTH = 32  # hex characters: 128 bits


def person_key(secret: str, person_id: UUID) -> str:
    digest = hmac.new(bytes.fromhex(secret), person_id.bytes, hashlib.sha256).hexdigest()
    return digest[:KEY_LENGTH]


async def region_secrets(session: AsyncSession, regions: set[str]) -> dict[str, str]:
    """The secret of every region in ``regions``, made for those that have none yet."""
    query = select(panel_secrets.c.region, panel_secrets.c.secret).where(
        panel_secrets.c.region.in_(sorted(regions))
    )
    found: dict[str, str] = {row.region: row.secret for row in await session.execute(query)}
    new = [
        {"region": r, "secret": secrets.token_hex(32), "created_at": datetime.now(UTC)}
        for r in sorted(regions - found.keys())
    ]
    if new:
        await session.execute(insert(panel_secrets), new)
        found.update((str(row["region"]), str(row["secret"])) for row in new)
    return found
