"""Prometheus metrics of one process (a regional service or the gateway) at ``/metrics``.

Every series carries ``service`` and ``region`` labels (the gateway's region is ``hub``):

- ``mgn_http_request_duration_seconds`` (histogram): per ``route`` (its path template),
  ``method`` and ``status``, to the last byte of the body.
- ``mgn_nats_connected``: 1 while the broker answers a ping
  (:class:`~shared.messaging.probe.BrokerProbe`).
- ``mgn_outbox_pending``, ``mgn_outbox_oldest_age_seconds``: events committed but not yet
  acknowledged by JetStream, and how long the oldest has waited.
- ``mgn_relay_published_total``, ``mgn_relay_publish_failures_total``: the outbox relay's
  acknowledged events and failed passes.
- ``mgn_events_applied_total``, ``mgn_events_duplicate_total``, ``mgn_dead_letters_total``:
  per ``consumer``, events applied, redeliveries skipped, events dead-lettered.
- ``mgn_consumer_pending``, ``mgn_consumer_ack_pending``: per ``consumer``, events in the
  stream not yet delivered (its lag), delivered but not yet acknowledged.

Counters are read from the stats objects the parts already keep (no second count on the hot
path); gauges that need the database or the broker are refreshed when ``/metrics`` is asked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

REFRESH_TIMEOUT = 3.0  # seconds one gauge refresh may take before the scrape goes on without it
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST
Refresh = Callable[[], Awaitable[None]]


class ConsumerStatsLike(Protocol):
    applied: int
    duplicates: int
    dead_lettered: int


class _Counters(Collector):
    """Counters whose values live elsewhere (stats dataclasses), read at each scrape."""

    def __init__(self, labels: dict[str, str]) -> None:
        self._labels = labels
        self._families: list[tuple[str, str, list[str], Callable[[], Iterable[Any]]]] = []

    def add(
        self, name: str, doc: str, labels: list[str], read: Callable[[], Iterable[Any]]
    ) -> None:
        self._families.append((name, doc, labels, read))

    def collect(self) -> Iterable[Metric]:
        by_name: dict[str, CounterMetricFamily] = {}
        for name, doc, labels, read in self._families:
            family = by_name.get(name)
            if family is None:
                family = CounterMetricFamily(name, doc, labels=[*self._labels, *labels])
                by_name[name] = family
            for values, value in read():
                family.add_metric([*self._labels.values(), *values], float(value))
        yield from by_name.values()


class Metrics:
    """One process's registry: its series, the gauges' refreshers, the HTTP middleware."""

    def __init__(self, service: str, region: str) -> None:
        self.labels = {"service": service, "region": region}
        self.registry = CollectorRegistry()
        self._counters = _Counters(self.labels)
        self.registry.register(self._counters)
        self._refreshers: list[Refresh] = []
        names = list(self.labels)
        self.http_latency = Histogram(
            "mgn_http_request_duration_seconds",
            "HTTP requests by route (path template), method and status: seconds to the last byte",
            [*names, "route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.nats_connected = self.gauge(
            "mgn_nats_connected", "1 while the broker answers a ping within 2 s, else 0"
        )
        self.consumer_pending = self.gauge(
            "mgn_consumer_pending",
            "events in the stream not yet delivered to the consumer (its lag)",
            ["consumer"],
        )
        self.consumer_ack_pending = self.gauge(
            "mgn_consumer_ack_pending",
            "events delivered to the consumer and not yet acknowledged",
            ["consumer"],
        )

    def gauge(self, name: str, doc: str, labels: Iterable[str] = ()) -> Gauge:
        return Gauge(name, doc, [*self.labels, *labels], registry=self.registry)

    def on_scrape(self, refresh: Refresh) -> None:
        """Run ``refresh`` (which sets gauges) before each scrape."""
        self._refreshers.append(refresh)

    def counter(self, name: str, doc: str, read: Callable[[], float], **labels: str) -> None:
        """A counter whose value ``read()`` gives at each scrape (``name`` without _total)."""
        self._counters.add(name, doc, list(labels), lambda: [(list(labels.values()), read())])

    def watch_consumer(
        self,
        durable: str,
        stats: ConsumerStatsLike,
        info: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        """Counters of a consumer's stats and, if ``info`` gives its ConsumerInfo, its lag."""
        self.counter(
            "mgn_events_applied", "events applied", lambda: stats.applied, consumer=durable
        )
        self.counter(
            "mgn_events_duplicate",
            "redelivered events skipped (applied before)",
            lambda: stats.duplicates,
            consumer=durable,
        )
        self.counter(
            "mgn_dead_letters",
            "events sent to the dead-letter stream",
            lambda: stats.dead_lettered,
            consumer=durable,
        )
        if info is None:
            return

        async def refresh() -> None:
            consumer = await info()
            self.consumer_pending.labels(*self.labels.values(), durable).set(
                consumer.num_pending or 0
            )
            self.consumer_ack_pending.labels(*self.labels.values(), durable).set(
                consumer.num_ack_pending or 0
            )

        self.on_scrape(refresh)

    def set(self, gauge: Gauge, value: float, *labels: str) -> None:
        gauge.labels(*self.labels.values(), *labels).set(value)

    async def render(self) -> bytes:
        """Refresh the gauges (each within :data:`REFRESH_TIMEOUT`), then expose them all."""
        for refresh in self._refreshers:
            try:
                async with asyncio.timeout(REFRESH_TIMEOUT):
                    await refresh()
            except Exception as exc:  # a scrape reports what it can; the gauge keeps its value
                log.debug("metrics refresh %s failed: %r", refresh, exc)
        return generate_latest(self.registry)


class TimingMiddleware:
    """Times every HTTP request into :attr:`Metrics.http_latency` (not WebSockets)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[BaseRoute]) -> None:
        self.app = app
        self.histogram = metrics.http_latency
        self.labels = list(metrics.labels.values())
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = "500"  # if the app fails before it answers

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.histogram.labels(
                *self.labels, _route_of(self.routes, scope), scope["method"], status
            ).observe(time.perf_counter() - started)


def _route_of(routes: list[BaseRoute], scope: Scope) -> str:
    """The path template of the route that serves ``scope`` (few distinct values)."""
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"
