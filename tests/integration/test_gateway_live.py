"""Live national events: a real uvicorn gateway fed by a real nats-server, subscribed to
over graphql-transport-ws by a real websocket client (the ``websockets`` package)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from nats.js import JetStreamContext
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

import services.gateway
from deploy.natsserver import NatsServer
from services.gateway.app import Gateway, build
from services.gateway.auth import create_token
from services.gateway.settings import GatewaySettings
from shared.storage.migrations import migrate, version_table
from tests.fixtures.db import DatabaseMaker
from tests.fixtures.nats import wait_for
from tests.integration.test_gateway_pipeline import Region, hub_js, publish  # noqa: F401

pytestmark = pytest.mark.nats

SUBSCRIBE = """subscription($region: String, $types: [String!]) {
    events(region: $region, types: $types) { eventId type region aggregateId sequence } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(gateway: Gateway) -> AsyncIterator[str]:
    """The gateway under a real uvicorn server; yields its ws:// URL of /graphql."""
    port = _free_port()
    config = uvicorn.Config(
        gateway.app, host="127.0.0.1", port=port, ws="websockets-sansio", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: _started(server), timeout=20, message="uvicorn started")
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def _started(server: uvicorn.Server) -> bool | None:
    return True if server.started else None


async def migrate_gateway(gateway: Gateway) -> None:
    migrations = Path(services.gateway.__file__).parent / "migrations"
    await migrate(gateway.engine, migrations, version_table=version_table("gateway"))


async def make_gateway(
    nats_hub: NatsServer, make_database_url: DatabaseMaker, **settings: Any
) -> Gateway:
    return build(
        GatewaySettings(
            database_url=await make_database_url("gateway"),
            nats_url=nats_hub.client_url,
            ack_wait=3.0,
            registrar=False,
            **settings,
        )
    )


@asynccontextmanager
async def session(
    url: str, payload: dict[str, Any] | None = None
) -> AsyncIterator[ClientConnection]:
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        yield ws


async def subscribe(ws: ClientConnection, op: str, **variables: Any) -> None:
    await ws.send(
        json.dumps(
            {"id": op, "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": variables}}
        )
    )


async def receive(ws: ClientConnection, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(got) < count:
            message = json.loads(await ws.recv())
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            got.append(message)
    return got


def error_of(message: dict[str, Any]) -> dict[str, Any]:
    """The error of a subscription that ended with one (strawberry sends it as ``next``)."""
    assert message["type"] == "next", message
    errors: list[dict[str, Any]] = message["payload"]["errors"]
    return errors[0]


async def test_subscribers_get_new_events_filtered_and_guarded(
    nats_hub: NatsServer,
    hub_js: JetStreamContext,  # noqa: F811
    make_database_url: DatabaseMaker,
) -> None:
    gateway = await make_gateway(nats_hub, make_database_url, require_token=True)
    await migrate_gateway(gateway)  # so tokens can be issued before it serves
    oulu_token = (await create_token(gateway.sessions, "agency", "oulu")).token
    researcher = (await create_token(gateway.sessions, "researcher")).token
    public = (await create_token(gateway.sessions, "public")).token
    oulu, kainuu = Region("oulu"), Region("kainuu")
    oulu.network(groups=1, members=2, meetings=1)  # 1 + 1 + 2 + 2 = 6 events
    kainuu.network(groups=1, members=3, meetings=0)  # 1 + 1 + 3 = 5 events
    async with serving(gateway) as url:
        # a bad token in connection_init: the socket is closed, 4403
        async with connect(url, subprotocols=["graphql-transport-ws"]) as bad:  # type: ignore[list-item]
            await bad.send(
                json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer x"}})
            )
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(bad.recv(), 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403
        # no token at all, with tokens required: the handshake itself is refused
        async with connect(url, subprotocols=["graphql-transport-ws"]) as anonymous:  # type: ignore[list-item]
            await anonymous.send(json.dumps({"type": "connection_init", "payload": {}}))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(anonymous.recv(), 10)

        # a token in the handshake's Authorization header works as well as in connection_init
        async with connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers={"Authorization": f"Bearer {oulu_token}"},
        ) as header_ws:
            await header_ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await asyncio.wait_for(header_ws.recv(), 10))["type"] == (
                "connection_ack"
            )
        async with (
            session(url, {"authorization": f"Bearer {researcher}"}) as all_ws,
            session(url, {"token": oulu_token}) as agency_ws,
            session(url, {"authorization": f"Bearer {public}"}) as public_ws,
        ):
            await subscribe(all_ws, "all")
            await subscribe(all_ws, "joins", region="kainuu", types=["groups.member.joined"])
            await subscribe(agency_ws, "own")
            await subscribe(agency_ws, "other", region="kainuu")
            await subscribe(public_ws, "public")
            refusals = await receive(agency_ws, 2) + await receive(public_ws, 2)
            assert [(m["id"], m["type"]) for m in refusals] == [
                ("other", "next"),
                ("other", "complete"),
                ("public", "next"),
                ("public", "complete"),
            ]
            assert error_of(refusals[0])["extensions"]["code"] == "FORBIDDEN"
            assert "region kainuu" in error_of(refusals[0])["message"]
            assert "national aggregates only" in error_of(refusals[2])["message"]
            await asyncio.sleep(0.5)  # the subscriptions are registered before events flow
            assert gateway.live.subscribers == 3

            await publish(hub_js, oulu.envelopes + kainuu.envelopes)
            got = await receive(all_ws, 11 + 3)
            everything = [m["payload"]["data"]["events"] for m in got if m["id"] == "all"]
            joins = [m["payload"]["data"]["events"] for m in got if m["id"] == "joins"]
            sent = {str(e.event_id) for e in oulu.envelopes + kainuu.envelopes}
            assert {e["eventId"] for e in everything} == sent
            assert len(everything) == 11  # each once
            assert {(e["region"], e["type"]) for e in joins} == {("kainuu", "groups.member.joined")}
            assert len(joins) == 3
            own = [m["payload"]["data"]["events"] for m in await receive(agency_ws, 6)]
            assert {e["eventId"] for e in own} == {str(e.event_id) for e in oulu.envelopes}
            assert {e["region"] for e in own} == {"oulu"}
        await wait_for(lambda: _none_left(gateway), timeout=10, message="subscriptions cleaned up")


async def _none_left(gateway: Gateway) -> bool | None:
    return True if gateway.live.subscribers == 0 else None


async def test_a_slow_subscriber_is_dropped_and_the_projection_goes_on(
    nats_hub: NatsServer,
    hub_js: JetStreamContext,  # noqa: F811
    make_database_url: DatabaseMaker,
) -> None:
    """A burst larger than a subscriber's queue (5) drops it with SUBSCRIBER_TOO_SLOW; a
    subscriber whose filter lets fewer through stays; every event is projected.

    Whether one projected batch holds more than 5 events depends on how NATIONAL's copies
    arrive, so bursts of 49 events are sent until one overflows (the first nearly always)."""
    gateway = await make_gateway(nats_hub, make_database_url, live_queue_size=5)
    sent, rounds = 0, 0
    messages: list[dict[str, Any]] = []
    async with serving(gateway) as url, session(url) as ws:
        await subscribe(ws, "firehose")
        await subscribe(ws, "groups", types=["groups.group.created"])
        await asyncio.sleep(0.5)
        while gateway.live.dropped == 0:
            rounds += 1
            assert rounds <= 5, "five bursts of 49 events and no batch overflowed 5"
            burst = Region("oulu")
            burst.network(groups=4, members=5, meetings=3)  # 1 + 4 * (1 + 5 + 6) = 49 events
            await publish(hub_js, burst.envelopes)
            sent += len(burst.envelopes)
            while sum(m["id"] == "groups" for m in messages) < 4 * rounds:
                messages += await receive(ws, 1)
        while not any(m["id"] == "firehose" and m["type"] == "complete" for m in messages):
            messages += await receive(ws, 1)
        firehose = [m for m in messages if m["id"] == "firehose"]
        assert [m["type"] for m in firehose][-2:] == ["next", "complete"]
        delivered = firehose[:-2]  # what it read before a burst overflowed its queue
        assert all("errors" not in m["payload"] for m in delivered)
        assert len(delivered) < sent
        error = error_of(firehose[-2])
        assert error["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
        assert "subscriber too slow: 5 events" in error["message"]
        groups = [m["payload"]["data"]["events"] for m in messages if m["id"] == "groups"]
        assert all(g["type"] == "groups.group.created" for g in groups)
        assert len(groups) == 4 * rounds  # the filtered subscriber got every one, and stays
        assert gateway.live.dropped == 1
        assert gateway.live.subscribers == 1

        async def projected() -> bool | None:
            stats = gateway.consumer.stats if gateway.consumer else None
            return True if stats is not None and stats.applied == sent else None

        await wait_for(projected, timeout=20, message=f"all {sent} events projected")
