"""A regional service killed between commit and publish (issue "Federation for real",
part 6): the groups service runs as a real process against its region's leaf server; the
leaf server stops, so the outbox relay cannot publish; writes still succeed; the service
is SIGKILLed; leaf and service start again, and the region's stream ends up holding every
event exactly once (outbox rows survive the kill; ``Nats-Msg-Id`` drops what is sent twice).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable

import httpx
import pytest
from sqlalchemy import update

from services.groups.orm import TABLES
from shared.messaging.jetstream import region_stream_name
from tests.e2e.support import Api, Database, create_group, service_process, sigkill, stream_msg_ids
from tests.fixtures.credentials import CONSOLE_HEADERS
from tests.fixtures.nats import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

outbox = TABLES.outbox
unpublished = outbox.c.published_at.is_(None)


async def test_outbox_survives_a_kill_while_the_leaf_is_down(
    leaf_factory, nats_connect, make_database_url, tmp_path
):
    leaf = await leaf_factory("oulu")
    database_url = await make_database_url("groups")
    groups = service_process(tmp_path, "groups", database_url, leaf.client_url, region="oulu")
    db = Database(database_url)
    base_url = groups.health_url.removesuffix("/healthz")
    try:
        groups.spawn()
        await asyncio.to_thread(groups.wait_healthy, 60)
        async with httpx.AsyncClient(
            base_url=base_url, timeout=30, headers=CONSOLE_HEADERS
        ) as client:
            api = Api(client)
            for n in range(3):
                await create_group(api, f"online group {n}")
            await wait_for(
                lambda: _is(db.count(outbox, unpublished), 0), timeout=30, message="relayed"
            )
            sent_before = await db.column(outbox, "event_id")

            # The leaf server goes away: the relay cannot publish, writes still succeed.
            await leaf.astop()
            for n in range(10):
                await create_group(api, f"offline group {n}")
            assert await db.count(outbox, unpublished) == 10
            health = (await client.get("/healthz")).json()
            assert health["outbox_pending"] == 10

        # Killed with its events committed but not published.
        await sigkill(groups)
        assert await db.count(outbox, unpublished) == 10
        # Stage the other crash window too: three events published before the kill whose
        # "sent" mark never committed. The relay sends them again; the stream drops them.
        again = sent_before[:3]
        await db.execute(
            update(outbox).where(outbox.c.event_id.in_(again)).values(published_at=None)
        )

        await leaf.astart()
        groups.spawn()
        await asyncio.to_thread(groups.wait_healthy, 60)
        await wait_for(
            lambda: _is(db.count(outbox, unpublished), 0),
            timeout=45,
            message="the restarted relay published the outbox",
        )

        js = (await nats_connect(leaf)).jetstream()
        in_stream = await stream_msg_ids(js, region_stream_name("oulu"))
        written = await db.column(outbox, "event_id")
        # the region's announcement + 3 online + 10 offline (an unchanged profile is not
        # announced again on the second start)
        assert len(written) == 14
        assert not [i for i, n in Counter(in_stream).items() if n > 1]
        assert sorted(in_stream) == sorted(written)
    finally:
        groups.stop()
        await db.close()


async def _is(value: Awaitable[int], expected: int) -> bool:
    return await value == expected
