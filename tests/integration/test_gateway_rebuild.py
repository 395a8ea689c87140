"""``mgn hub rebuild``'s engine: NATIONAL (a real hub nats-server; NATIONAL sources a test
stream ``FEED``) replayed into a fresh read model gives the read model and facts that
projecting the same events directly gives, with the gateway's own tokens copied over, a
progress report that ends at the total, and no consumer left behind (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

from nats.js.api import StreamConfig, StreamSource
from sqlalchemy import select

from deploy.natsserver import NatsServer
from services.gateway.auth.tokens import create_token
from services.gateway.orm import FACT_TABLES, access_tokens, meetings, members
from services.gateway.rebuild import Progress, bar, prepare, rebuild_into
from shared.contracts import encode, subject_for
from shared.messaging.jetstream import NATIONAL_STREAM
from shared.storage import create_engine, session_factory
from tests.fixtures.db import DatabaseMaker
from tests.fixtures.nats import NatsConnect
from tests.unit.test_gateway_research_views import apply, facts, network, rounded


async def rows(sessions: Any, table: Any) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        found = (await session.execute(select(table))).all()
    return sorted(tuple(rounded(v) for v in r) for r in found)


async def test_rebuild_replays_national_into_a_fresh_read_model(
    nats_hub: NatsServer, nats_connect: NatsConnect, make_database_url: DatabaseMaker
) -> None:
    js = (await nats_connect(nats_hub)).jetstream()
    await js.add_stream(StreamConfig(name="FEED", subjects=["mgn.>"]))
    await js.add_stream(StreamConfig(name=NATIONAL_STREAM, sources=[StreamSource(name="FEED")]))
    events = network(seed=5).events
    for decoded in events:
        env = decoded.envelope
        msg_id = {"Nats-Msg-Id": str(env.event_id)}
        await js.publish(subject_for(env), encode(env), headers=msg_id)

    serving_url, direct_url, target_url = [
        await make_database_url(n) for n in ("serving", "direct", "rebuilt")
    ]
    serving = create_engine(serving_url)
    direct = create_engine(direct_url)
    target = create_engine(target_url)
    try:
        await prepare(serving, None)
        token = await create_token(session_factory(serving), "researcher", label="kept")
        await prepare(direct, None)
        await apply(session_factory(direct), [events])
        for _ in range(100):  # NATIONAL has sourced them all
            if (await js.stream_info(NATIONAL_STREAM)).state.messages == len(events):
                break
            await asyncio.sleep(0.05)

        seen: list[Progress] = []
        done = await rebuild_into(
            js, target_url, serving_url, batch_size=100, report=seen.append, every=0.05
        )

        assert done.events == len(events)
        assert done.stream_seq == len(events)
        assert done.kept_rows == 1
        assert seen
        assert seen[-1].done == seen[-1].total == len(events)
        assert "100%" in bar(seen[-1])
        rebuilt = session_factory(target)
        for table in (meetings, members, *FACT_TABLES):
            assert await rows(rebuilt, table) == await rows(session_factory(direct), table)
        assert (await facts(rebuilt))["fact_cop"], "the network has CoP facts"
        (copied,) = await rows(rebuilt, access_tokens)
        assert copied[0] == token.info.id
        assert [c.config.durable_name for c in await js.consumers_info(NATIONAL_STREAM)] == []
    finally:
        for engine in (serving, direct, target):
            await engine.dispose()
