"""Rebuilding the research facts: by hand, or once after a migration marked them.

The facts are kept batch by batch (:mod:`services.gateway.views.facts`); :func:`rebuild`
recomputes them all from the read model (after a migration that changes a fact, or by
hand); :func:`rebuild_if_marked` runs it once when a migration has set
``view_state('research').needs_rebuild``, at the gateway's start.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.orm import view_state
from services.gateway.views import facts

log = logging.getLogger(__name__)
STATE = facts.STATE


async def rebuild(session: AsyncSession) -> int:
    """Recompute every fact in ``session``'s transaction; returns the meetings there were."""
    return await facts.rebuild(session)


async def rebuild_if_marked(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Rebuild once if a migration marked the facts (``view_state.needs_rebuild``)."""
    async with sessions() as session, session.begin():
        marked = await session.scalar(
            select(view_state.c.needs_rebuild).where(view_state.c.name == STATE)
        )
        if not marked:
            return False
        started = time.monotonic()
        count = await rebuild(session)
    log.info("research facts rebuilt for %d meetings in %.1fs", count, time.monotonic() - started)
    return True
