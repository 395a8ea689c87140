"""The node's link to the national hub, for the console's home page.

Read from what the node already exposes: the leaf server's monitoring endpoint ``/leafz``
(a leafnode connection to the hub: up; none: down) and each regional service's
``/healthz`` (``nats_connected``: the service reaches its leaf server; ``outbox_pending``:
events committed but not yet handed to the region's JetStream). While the link is down the
region keeps working: its events wait in the region's stream (and, if the leaf server is
away too, in the services' outboxes) and reach the hub when the link returns.

Every probe has a short timeout and never raises: an answer that cannot be had is shown as
unknown, so the home page loads while a part of the node is away. The console asks at most
every ``LinkWatch.max_age`` seconds (:class:`LinkWatch`), not at every home page: each probe
costs the service a database count, and a status a few seconds old says the same.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from enum import Enum

import httpx

TIMEOUT = 1.5  # seconds per probe: the home page must not hang on a part that is away
MAX_AGE = 5.0  # seconds a link seen is shown before it is asked again


class Link(Enum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"  # the leaf server did not answer, or no monitoring URL is set


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    service: str
    answering: bool
    broker_connected: bool | None = None
    outbox_pending: int | None = None


@dataclass(frozen=True, slots=True)
class NodeLink:
    hub: Link
    services: tuple[ServiceHealth, ...]

    @property
    def events_waiting(self) -> int | None:
        """Events in the services' outboxes; None when a service did not say."""
        counts = [s.outbox_pending for s in self.services]
        if any(c is None for c in counts):
            return None
        return sum(c for c in counts if c is not None)

    @property
    def services_away(self) -> tuple[str, ...]:
        return tuple(s.service for s in self.services if not s.answering)


async def _json(client: httpx.AsyncClient, url: str) -> dict[str, object] | None:
    try:
        response = await client.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) else None


async def hub_link(client: httpx.AsyncClient, leaf_monitor_url: str | None) -> Link:
    if not leaf_monitor_url:
        return Link.UNKNOWN
    leafz = await _json(client, f"{leaf_monitor_url.rstrip('/')}/leafz")
    if leafz is None:
        return Link.UNKNOWN
    return Link.UP if leafz.get("leafs") else Link.DOWN


async def service_health(client: httpx.AsyncClient, service: str, url: str) -> ServiceHealth:
    body = await _json(client, url)
    if body is None:
        return ServiceHealth(service, answering=False)
    pending = body.get("outbox_pending")
    connected = body.get("nats_connected")
    return ServiceHealth(
        service,
        answering=True,
        broker_connected=connected if isinstance(connected, bool) else None,
        outbox_pending=pending if isinstance(pending, int) else None,
    )


async def node_link(
    client: httpx.AsyncClient, leaf_monitor_url: str | None, health_urls: dict[str, str]
) -> NodeLink:
    """``health_urls``: service name -> its ``/healthz`` URL."""
    hub, *services = await asyncio.gather(
        hub_link(client, leaf_monitor_url),
        *(service_health(client, name, url) for name, url in health_urls.items()),
    )
    assert isinstance(hub, Link)
    return NodeLink(hub, tuple(s for s in services if isinstance(s, ServiceHealth)))


class LinkWatch:
    """The node's link as last seen, asked again once older than ``max_age`` seconds."""

    def __init__(self, max_age: float = MAX_AGE) -> None:
        self.max_age = max_age
        self._seen: tuple[float, NodeLink] | None = None

    async def link(
        self, client: httpx.AsyncClient, leaf_monitor_url: str | None, health_urls: dict[str, str]
    ) -> NodeLink:
        now = time.monotonic()
        if self._seen is not None and now - self._seen[0] < self.max_age:
            return self._seen[1]
        found = await node_link(client, leaf_monitor_url, health_urls)
        self._seen = (time.monotonic(), found)
        return found
