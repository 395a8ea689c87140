"""The console's view of the node's link to the hub: a real hub and leaf server, their
monitoring endpoints, a service health endpoint that answers and one that does not."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from deploy.natsserver import NatsServer
from services.console.node_link import Link, LinkWatch, node_link
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats


async def healthz(_request: object) -> JSONResponse:
    return JSONResponse({"nats_connected": True, "outbox_pending": 4})


def client() -> httpx.AsyncClient:
    """Real HTTP for the leaf server; the service's health answered in process."""
    service = httpx.ASGITransport(app=Starlette(routes=[Route("/healthz", healthz)]))
    return httpx.AsyncClient(mounts={"http://groups.test": service})


async def test_the_link_is_up_then_down_when_the_hub_stops(nats_hub: NatsServer, leaf_factory):
    leaf = await leaf_factory("oulu")
    health = {"groups": "http://groups.test/healthz", "meetings": "http://127.0.0.1:9/healthz"}
    async with client() as http:
        seen = await node_link(http, leaf.monitor_url, health)
        assert seen.hub is Link.UP
        assert [(s.service, s.answering) for s in seen.services] == [
            ("groups", True),
            ("meetings", False),
        ]
        assert (seen.services[0].outbox_pending, seen.services[0].broker_connected) == (4, True)
        assert seen.events_waiting is None  # meetings did not say
        assert seen.services_away == ("meetings",)

        await nats_hub.astop()

        async def down() -> bool:
            return (await node_link(http, leaf.monitor_url, {})).hub is Link.DOWN

        await wait_for(down, timeout=15, message="the leaf server sees the hub gone")
        assert (await node_link(http, None, {})).hub is Link.UNKNOWN
        await leaf.astop()
        assert (await node_link(http, leaf.monitor_url, {})).hub is Link.UNKNOWN
        both = await node_link(http, None, {"groups": "http://groups.test/healthz"})
        assert both.events_waiting == 4


async def test_the_console_asks_again_only_once_what_it_saw_is_older_than_max_age():
    """The home page shows the link as seen at most MAX_AGE seconds ago instead of probing
    every service at every page (each probe costs the service a database count)."""
    probes = 0

    async def counted(request: object) -> JSONResponse:
        nonlocal probes
        probes += 1
        return await healthz(request)

    service = httpx.ASGITransport(app=Starlette(routes=[Route("/healthz", counted)]))
    health = {"groups": "http://groups.test/healthz"}
    async with httpx.AsyncClient(mounts={"http://groups.test": service}) as http:
        watch = LinkWatch(max_age=60)
        first = await watch.link(http, None, health)
        assert await watch.link(http, None, health) is first
        assert probes == 1
        always = LinkWatch(max_age=0)
        await always.link(http, None, health)
        await always.link(http, None, health)
        assert probes == 3
