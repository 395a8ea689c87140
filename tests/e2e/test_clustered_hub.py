"""A hub that survives losing a machine: three hub servers clustered on loopback (NATIONAL and
DEADLETTER at R3), two gateways on one PostgreSQL read model (one projects, the other stands
by), a region writing steadily. Killed in turn: the hub server that leads NATIONAL, then the
projecting gateway. The standby takes the projection lease within 10 s, reads keep
answering, and every group written reaches the read model once: nothing lost, nothing
doubled, in NATIONAL or in the read model."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from sqlalchemy.engine import make_url

from deploy.federation import (
    HubAuth,
    hub_servers,
    hub_tls,
    join_hub,
    start_gateway,
    start_hub_nats,
    start_region,
)
from deploy.natsconfig import HubConfig
from deploy.natsserver import free_port
from deploy.supervisor import Supervisor
from shared.messaging.jetstream import DEADLETTER_STREAM, NATIONAL_STREAM
from tests.e2e.support import stream_msg_ids
from tests.fixtures.db import _admin
from tests.fixtures.nats import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.nats, pytest.mark.postgres]

CREATE_GROUP = "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }"
NAMES = "{ groups(first: 500) { edges { node { name } } } }"


def free_run(n: int = 3) -> int:
    """A port P with P .. P+n-1 all free a moment ago."""
    while True:
        base = free_port()
        try:
            with contextlib.ExitStack() as stack:
                for i in range(n):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", base + i))
            return base
        except OSError:
            continue


async def post(
    client: httpx.AsyncClient,
    url: str,
    query: str,
    headers: dict[str, str] | None = None,
    **variables: Any,
) -> Any:
    body = (
        await client.post(url, json={"query": query, "variables": variables}, headers=headers)
    ).json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def health(client: httpx.AsyncClient, port: int) -> dict[str, Any]:
    data: dict[str, Any] = (await client.get(f"http://127.0.0.1:{port}/healthz")).json()
    return data


async def test_losing_a_hub_server_then_the_projecting_gateway_loses_nothing(
    tmp_path: Path, postgres_admin_url: str, record_property: Any
) -> None:
    database = f"cluster_e2e_{uuid.uuid4().hex[:8]}"
    await _admin(postgres_admin_url, f'CREATE DATABASE "{database}"')
    read_model = (
        make_url(postgres_admin_url)
        .set(drivername="postgresql", database=database)
        .render_as_string(hide_password=False)
    )
    hub_dir = tmp_path / "hub"
    sup = Supervisor(tmp_path / "logs")  # not watching: a killed process stays dead
    try:
        auth = HubAuth.load_or_create(hub_dir / "auth.json")
        tls, _ = hub_tls(hub_dir)
        hub = await asyncio.to_thread(
            start_hub_nats, sup, hub_dir, auth=auth, tls=tls, port=free_run(),
            leaf_port=free_run(), http_port=free_run(), cluster_port=free_run(),
        )  # fmt: skip
        servers = hub_servers(hub)
        assert len(servers) == 3
        ports = [free_port(), free_port()]
        gateways = []
        for i, port in enumerate(ports):  # one after the other: the first migrates
            gateways.append(
                await asyncio.to_thread(
                    start_gateway,
                    sup,
                    hub_dir,
                    hub,
                    port=port,
                    auth=auth,
                    database_url=read_model,
                    label=f"hub-{i + 1}",
                )
            )
        creds = auth.add_region("oulu", tuple(s.leafnode_url for s in servers), tls.ca_pem())
        for server in servers:  # as `mgn hub add-region` does: every server re-reads users
            cfg = server.config
            assert isinstance(cfg, HubConfig)
            server.reload(replace(cfg, accounts=auth.accounts()))
        node = await asyncio.to_thread(
            start_region, sup, "oulu", tmp_path / "oulu", creds.hubs, credentials=creds
        )
        await join_hub(node.leaf.client_url, "oulu", timeout=60)
        groups_url = node.graphql_url("groups")
        node_headers = node.api_headers()  # the services' APIs answer the node's callers

        hub_nc = await nats.connect(
            servers=[auth.gateway_url(s.client_url) for s in servers], error_cb=_quiet
        )
        js = hub_nc.jetstream(domain="hub")
        for stream in (NATIONAL_STREAM, DEADLETTER_STREAM):
            assert (await js.stream_info(stream)).config.num_replicas == 3

        written: list[str] = []
        reads: dict[int, Counter[str]] = {port: Counter() for port in ports}
        stop = asyncio.Event()

        async def write() -> None:
            async with httpx.AsyncClient(timeout=10) as client:
                while not stop.is_set():
                    name = f"Ryhmä {len(written):04d} {uuid.uuid4().hex[:6]}"
                    group = {"name": name, "municipality": "Oulu", "foundedOn": "2015-02-01"}
                    await post(client, groups_url, CREATE_GROUP, i=group, headers=node_headers)
                    written.append(name)
                    await asyncio.sleep(0.05)

        async def read() -> None:
            async with httpx.AsyncClient(timeout=5) as client:
                while not stop.is_set():
                    for port in ports:
                        try:
                            await post(client, f"http://127.0.0.1:{port}/graphql", NAMES)
                            reads[port]["ok"] += 1
                        except (httpx.HTTPError, AssertionError, ValueError):
                            reads[port]["failed"] += 1
                    await asyncio.sleep(0.2)

        tasks = [asyncio.create_task(write()), asyncio.create_task(read())]
        async with httpx.AsyncClient(timeout=5) as client:
            states = {port: await health(client, port) for port in ports}
            [projector] = [port for port, h in states.items() if h["projecting"]]
            [standby] = [port for port in ports if port != projector]
            await wait_for(lambda: len(written) >= 20, timeout=30, message="writes flowing")

            # 1. Lose the hub server that leads NATIONAL (a machine gone: nobody restarts it).
            leader = (await js.stream_info(NATIONAL_STREAM)).cluster.leader  # type: ignore[union-attr]
            [lost] = [s for s in servers if s.config.server_name == leader]
            assert lost.pid is not None
            os.kill(lost.pid, signal.SIGKILL)
            before = len(written)
            await wait_for(lambda: len(written) >= before + 40, timeout=30, message="writes go on")

            # 2. Lose the projecting gateway: the standby takes the lease and projects.
            dead = gateways[ports.index(projector)]
            assert dead.pid is not None
            os.kill(dead.pid, signal.SIGKILL)
            killed = time.monotonic()

            async def took_over() -> bool:
                return bool((await health(client, standby))["projecting"])

            await wait_for(took_over, timeout=15, interval=0.2, message="the standby projects")
            takeover = time.monotonic() - killed
            before = len(written)
            await wait_for(lambda: len(written) >= before + 40, timeout=30, message="writes go on")
        stop.set()
        await asyncio.gather(*tasks)

        async def all_there() -> Counter[str] | None:
            async with httpx.AsyncClient(timeout=10) as client:
                data = await post(client, f"http://127.0.0.1:{standby}/graphql", NAMES)
            names = Counter(e["node"]["name"] for e in data["groups"]["edges"])
            return names if set(written) <= set(names) else None

        names = await wait_for(all_there, timeout=60, interval=0.5, message="every group")
        record_property("cluster_takeover_seconds", round(takeover, 1))
        record_property("cluster_groups_written", len(written))
        assert takeover < 10, takeover
        assert len(written) < 500  # one page holds them all
        assert names == Counter(written)  # nothing lost, nothing twice in the read model
        ids = await stream_msg_ids(js, NATIONAL_STREAM)
        assert len(ids) == len(set(ids))  # nor in NATIONAL
        assert reads[standby]["failed"] == 0, reads  # the standby answered throughout
        assert reads[standby]["ok"] > 10, reads
        await hub_nc.close()
    finally:
        await asyncio.to_thread(sup.stop)
        await _admin(postgres_admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _quiet(exc: Exception) -> None:
    """The test kills a hub server: its client's reconnect errors are expected."""
