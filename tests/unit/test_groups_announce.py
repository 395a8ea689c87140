"""The region announces itself once, and again only when its profile changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.groups.announce import announce_region, region_aggregate_id
from services.groups.commands import AnnounceRegion
from services.groups.orm import TABLES, Base
from shared.contracts import RegionAnnounced, decode
from shared.runtime import UnitOfWork
from shared.storage import create_engine, create_schema, session_factory


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    await create_schema(engine, Base.metadata)
    yield session_factory(engine)
    await engine.dispose()


async def _announcements(sessions):
    async with sessions() as session:
        bodies = await session.execute(select(TABLES.outbox.c.body).order_by(TABLES.outbox.c.id))
        return [decode(body) for body in bodies.scalars()]


async def test_announces_on_first_start_and_on_change_only(sessions):
    def uow():
        return UnitOfWork(sessions, TABLES.outbox)

    first = AnnounceRegion("Oulu region", "BusinessOulu", "0.1.0")
    assert await announce_region(first, uow(), region="oulu")
    assert not await announce_region(first, uow(), region="oulu")  # a restart: nothing new
    assert await announce_region(
        AnnounceRegion("Oulu region", "BusinessOulu", "0.2.0"), uow(), region="oulu"
    )

    one, two = await _announcements(sessions)
    assert isinstance(one.event, RegionAnnounced)
    assert one.event.display_name == "Oulu region"
    assert one.envelope.aggregate_id == two.envelope.aggregate_id == region_aggregate_id("oulu")
    assert (one.envelope.sequence, two.envelope.sequence) == (1, 2)
    assert two.event.software_version == "0.2.0"
