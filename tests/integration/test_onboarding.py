"""Onboarding: a regional node joins a running federation by itself.

Hub (with per-region users) + gateway + three regions run; a fourth region gets its user,
starts its leaf server and groups service and sends a join request: the gateway's registrar
adds its source to NATIONAL (no edit or restart at the hub) and its data shows up in national
GraphQL. The join is retried until the link comes up, and regions joining at once do not race.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.federation import join_hub
from services.gateway.app import build as build_gateway
from services.gateway.settings import GatewaySettings
from services.groups.app import build as build_groups
from services.groups.settings import GroupsSettings
from shared.messaging.jetstream import NATIONAL_STREAM, region_stream_name
from tests.fixtures.credentials import headers_for
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats

REGIONS = ("oulu", "kainuu", "lappi")
NEWCOMER = "pohjanmaa"
QUERY = "{ regions { id displayName eventsApplied linkActive eventsBehind lastEventAt } }"


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, query: str) -> dict[str, Any]:
        body = (await self.client.post("/graphql", json={"query": query})).json()
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data


async def serve(stack: AsyncExitStack, app: Any) -> Api:
    await stack.enter_async_context(app.router.lifespan_context(app))
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers_for(app)
    )
    await stack.enter_async_context(client)
    return Api(client)


async def start_groups(stack: AsyncExitStack, region: str, nats_url: str, tmp: Path) -> None:
    settings = GroupsSettings(
        region=region, database_url=f"sqlite:///{tmp / f'{region}-groups.db'}", nats_url=nats_url
    )
    await serve(stack, build_groups(settings).app)


async def sources(hub_js) -> list[str]:
    return sorted(s.name for s in (await hub_js.stream_info(NATIONAL_STREAM)).config.sources or [])


async def test_a_fourth_region_joins_a_running_federation(
    secure_hub, secure_leaf_factory, nats_connect, tmp_path, record_property
):
    hub_js = (await nats_connect(secure_hub.client_url)).jetstream()
    async with AsyncExitStack() as stack:
        gateway = build_gateway(
            GatewaySettings(
                database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
                nats_url=secure_hub.client_url,
                freshness_interval=0.5,
            )
        )
        nation = await serve(stack, gateway.app)

        # Three regions start and ask to join at the same moment: no source is lost.
        leaves = {region: await secure_leaf_factory(region) for region in REGIONS}
        for region in REGIONS:
            await start_groups(stack, region, leaves[region].client_url, tmp_path)
        answers = await asyncio.gather(
            *(join_hub(leaves[r].client_url, r, timeout=30) for r in REGIONS)
        )
        assert sorted(a["region"] for a in answers) == sorted(REGIONS)
        assert all(a["added"] for a in answers)
        assert await sources(hub_js) == sorted(region_stream_name(r) for r in REGIONS)
        again = await join_hub(leaves["oulu"].client_url, "oulu", timeout=10)
        assert again["added"] is False  # a node restarting joins again: nothing changes

        # The newcomer: its user exists but the running hub does not know it yet, so its
        # leaf server cannot link; the node keeps asking until the link comes up.
        creds = secure_hub.auth.add_region(
            NEWCOMER, (secure_hub.leafnode_url,), secure_hub.server.hub_ca
        )
        leaf = await secure_leaf_factory(NEWCOMER, credentials=creds, wait_connected=False)
        await start_groups(stack, NEWCOMER, leaf.client_url, tmp_path)
        started = asyncio.get_running_loop().time()
        join = asyncio.create_task(
            join_hub(leaf.client_url, NEWCOMER, timeout=60, backoff=(0.2, 2.0))
        )
        await asyncio.sleep(2)
        assert not join.done()
        assert await asyncio.to_thread(leaf.leafnode_count) == 0
        secure_hub.reload()  # as `mgn hub add-region` does: a config reload, no restart
        answer = await asyncio.wait_for(join, timeout=30)
        assert answer == {"region": NEWCOMER, "added": True, "resynced": False}
        assert await sources(hub_js) == sorted(region_stream_name(r) for r in (*REGIONS, NEWCOMER))

        async def newcomer_visible() -> dict[str, Any] | None:
            rows = {r["id"]: r for r in (await nation(QUERY))["regions"]}
            row = rows.get(NEWCOMER)
            ready = row and row["linkActive"] and row["eventsBehind"] == 0
            return rows if ready and len(rows) == 4 else None

        rows = await wait_for(newcomer_visible, timeout=30, message="the newcomer nationally")
        elapsed = asyncio.get_running_loop().time() - started
        record_property("onboarding_seconds", round(elapsed, 2))
        print(f"newcomer visible in national GraphQL {elapsed:.1f}s after it started joining")
        assert rows[NEWCOMER]["displayName"] == "Pohjanmaa"  # its RegionAnnounced event
        assert rows[NEWCOMER]["eventsApplied"] >= 1
        for region in REGIONS:
            assert rows[region]["eventsApplied"] >= 1
            assert rows[region]["linkActive"] is True
        assert gateway.registrar is not None
        assert gateway.registrar.joins == 5


async def test_the_registrar_serialises_concurrent_joins(nats_hub, nats_connect):
    """Many joins at once, in one process: every region's source is there exactly once."""
    from services.gateway.registrar import Registrar
    from shared.messaging.jetstream import ensure_national_stream

    nc = await nats_connect(nats_hub)
    js = nc.jetstream()
    await ensure_national_stream(js)
    registrar = Registrar(nc, js)
    regions = [f"region{i}" for i in range(6)]
    answers = await asyncio.gather(*(registrar.join(r) for r in regions + regions))
    assert sum(bool(a["added"]) for a in answers) == len(regions)
    assert await sources(js) == sorted(region_stream_name(r) for r in regions)


async def test_hub_add_region_reloads_a_running_hub_started_elsewhere(tmp_path):
    """`mgn hub add-region` runs in another process than `mgn hub up`: it finds the hub by
    hub.json, rewrites its config and signals its pid; the new region's leaf links up."""
    from deploy.credentials import RegionCredentials
    from deploy.federation import HubAuth, add_region, hub_tls, start_hub_nats
    from deploy.natsserver import NatsServer
    from deploy.supervisor import Supervisor

    hub_dir = tmp_path / "hub"
    sup = Supervisor(tmp_path / "logs")
    try:
        auth = HubAuth.load_or_create(hub_dir / "auth.json")
        tls, _ = hub_tls(hub_dir)
        hub = await asyncio.to_thread(start_hub_nats, sup, hub_dir, auth=auth, tls=tls)
        first, _ = add_region(hub_dir, "oulu")
        revoked = RegionCredentials.load(first)
        path, reloaded = add_region(hub_dir, "oulu")  # again: a new key, the old one revoked
        assert reloaded
        assert path == first
        assert path.stat().st_mode & 0o077 == 0  # only its owner may read it
        creds = RegionCredentials.load(path)
        assert (creds.region, creds.hubs) == ("oulu", (hub.leafnode_url,))
        assert creds.hub_ca == tls.ca_pem()
        assert creds.nkey_seed != revoked.nkey_seed
        stored = (hub_dir / "auth.json").read_text()
        assert creds.public_key in stored  # the public key only
        assert creds.nkey_seed not in stored

        leaf = NatsServer.region("oulu", tmp_path / "oulu", creds.hubs, credentials=creds)
        await asyncio.to_thread(sup.start_server, leaf)
        await wait_for(lambda: asyncio.to_thread(leaf.leafnode_count), timeout=15)
        old = NatsServer.region("oulu", tmp_path / "old", creds.hubs, credentials=revoked)
        await asyncio.to_thread(sup.start_server, old)
        await wait_for(lambda: "Authorization Violation" in old.log_path.read_text(), timeout=15)
        assert await asyncio.to_thread(old.leafnode_count) == 0
    finally:
        await asyncio.to_thread(sup.stop)
    assert sup.running_pids() == []
