"""Creating tables straight from metadata (idempotent), for tests and throwaway databases.

A service's real database is migrated instead: :func:`shared.storage.migrations.migrate`.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine


async def create_schema(engine: AsyncEngine, metadata: MetaData) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
