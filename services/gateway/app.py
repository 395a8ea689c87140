"""Composition root of the national gateway: read model, NATIONAL consumer, GraphQL.

``create_app(settings)`` gives the Starlette app; ``build(settings)`` gives the
:class:`Gateway` behind it (app, consumer, sessions) for tests and tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client as NATS
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute

from services.gateway.auth.guard import Guard, Role
from services.gateway.auth.http import TokenAuth, bearer
from services.gateway.auth.tokens import TokenError, resolve_token
from services.gateway.consumer import DURABLE, national_consumer
from services.gateway.dashboard.coding import coding_routes
from services.gateway.dashboard.routes import dashboard_routes
from services.gateway.exports.routes import export_routes
from services.gateway.graphql import GatewayContext, build_schema
from services.gateway.graphql.access import GatewayGraphQL
from services.gateway.lease import Lease, LeaseKeeper
from services.gateway.live import Broadcaster
from services.gateway.orm import TABLES
from services.gateway.registrar import Registrar
from services.gateway.research.store import ensure_first_codebook
from services.gateway.settings import GatewaySettings
from services.gateway.views.refresh import rebuild_if_marked
from shared.messaging.consumer import EventConsumer, keep_running
from shared.messaging.jetstream import (
    NATIONAL_STREAM,
    ensure_deadletter_stream,
    ensure_national_stream,
)
from shared.messaging.probe import MAX_OUTSTANDING_PINGS, PING_INTERVAL, BrokerProbe
from shared.messaging.retention import Pruner
from shared.redact import redact_url, register_secret
from shared.runtime.asgi import LOOPBACK, service_app
from shared.runtime.metrics import Metrics
from shared.runtime.observability import retention
from shared.runtime.tasks import cancel_and_wait
from shared.storage import create_engine, session_factory
from shared.storage.migrations import migrate, version_table

log = logging.getLogger(__name__)


class Gateway:
    """The gateway's parts; ``app``'s lifespan starts and stops them."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        register_secret(urlsplit(settings.nats_url).password)  # the hub's full-rights login
        register_secret(make_url(settings.database_url).password)
        cache = settings.sqlite_cache_mb
        self.engine = create_engine(settings.database_url, sqlite_cache_mb=cache)
        self.sessions = session_factory(self.engine)  # the consumer's (writes)
        # GraphQL only reads: on SQLite its transactions must not BEGIN IMMEDIATE, or every
        # query would take the write lock and queue behind the consumer (WAL lets them not).
        self.read_engine = (
            create_engine(settings.database_url, sqlite_immediate=False, sqlite_cache_mb=cache)
            if self.engine.dialect.name == "sqlite"
            else self.engine
        )
        self.read_sessions = session_factory(self.read_engine)
        self.nc: NATS | None = None
        self.consumer: EventConsumer | None = None  # the current one (a new one per start)
        self._task: asyncio.Task[None] | None = None
        self.pruner = Pruner(self.sessions, TABLES, retention())  # processed_events
        self._prune_task: asyncio.Task[None] | None = None
        self.registrar: Registrar | None = None  # joins and per-region freshness
        self.live = Broadcaster(settings.live_queue_size)  # new events for subscriptions
        self.probe = BrokerProbe()  # does the hub answer a ping now
        # Of several gateways on one read model only the lease holder projects (lease.py).
        self.keeper: LeaseKeeper | None = None
        self._keeper_task: asyncio.Task[None] | None = None
        self._js: Any = None
        self.metrics = self._metrics()
        schema = build_schema(settings)
        graphql = GatewayGraphQL(
            schema,
            context=self._context,
            require_token=settings.require_token,
            graphql_ide="graphiql" if settings.graphiql else None,
        )
        self.app: Starlette = service_app(
            schema=schema,
            context_factory=lambda: self._context(None),
            start=self.start,
            stop=self.stop,
            health=self.health,
            routes=[
                Route("/", _to_graphql),
                WebSocketRoute("/graphql", graphql),
                *export_routes(self.read_sessions),
                *dashboard_routes(self.read_sessions, settings.require_token),
                *coding_routes(self.sessions, self.read_sessions, settings.require_token),
            ],
            graphiql=settings.graphiql,
            graphql=graphql,
            metrics=self.metrics,
            health_details=self._health_details,
            # tokens on /graphql and /exports (also for the WebSocket): services/gateway/auth
            middleware=[
                Middleware(TokenAuth, sessions=self.read_sessions, require=settings.require_token)
            ],
        )

    def _metrics(self) -> Metrics:
        """The projection's counters and lag, the hub link, each region's freshness."""
        metrics = Metrics("gateway", "hub")
        metrics.counter(
            "mgn_events_applied", "events applied", lambda: self._stats("applied"), consumer=DURABLE
        )
        metrics.counter(
            "mgn_events_duplicate",
            "redelivered events skipped (applied before)",
            lambda: self._stats("duplicates"),
            consumer=DURABLE,
        )
        metrics.counter(
            "mgn_dead_letters",
            "events sent to the dead-letter stream",
            lambda: self._stats("dead_lettered"),
            consumer=DURABLE,
        )
        behind = metrics.gauge(
            "mgn_region_events_behind", "a region's events NATIONAL has not copied yet", ["of"]
        )
        link = metrics.gauge("mgn_region_link_active", "1 while a region's link is up", ["of"])

        async def refresh() -> None:
            metrics.set(metrics.nats_connected, float(await self.probe.check(self.nc)))
            for region, state in (self.registrar.links if self.registrar else {}).items():
                metrics.set(link, float(state.link_active), region)
                metrics.set(behind, state.events_behind, region)
            if self.nc is not None and self.consumer is not None:
                js = self.nc.jetstream(domain=self.settings.jetstream_domain or None)
                info = await js.consumer_info(NATIONAL_STREAM, DURABLE)
                metrics.set(metrics.consumer_pending, info.num_pending or 0, DURABLE)
                metrics.set(metrics.consumer_ack_pending, info.num_ack_pending or 0, DURABLE)

        metrics.on_scrape(refresh)
        return metrics

    def _stats(self, name: str) -> int:
        """A counter of the running consumer (0 before it starts)."""
        return int(getattr(self.consumer.stats, name)) if self.consumer is not None else 0

    def _context(self, guard: Guard | None) -> GatewayContext:
        return GatewayContext.create(
            self.read_sessions,
            self.registrar.links if self.registrar else {},
            guard=guard,
            live=self.live,
            write_sessions=self.sessions,
        )

    async def start(self) -> None:
        migrations = Path(__file__).parent / "migrations"
        await migrate(self.engine, migrations, version_table=version_table("gateway"))
        await rebuild_if_marked(self.sessions)  # once, after a migration that adds views
        async with self.sessions() as session, session.begin():
            await ensure_first_codebook(session)  # Wenger's types, version 1
        self.nc = await nats.connect(
            servers=[url.strip() for url in self.settings.nats_url.split(",") if url.strip()],
            name="mgn-gateway",
            connect_timeout=5,
            reconnect_time_wait=1,
            max_reconnect_attempts=-1,
            ping_interval=PING_INTERVAL,
            max_outstanding_pings=MAX_OUTSTANDING_PINGS,
            reconnected_cb=self._reconnected,
        )
        js = self._js = self.nc.jetstream(domain=self.settings.jetstream_domain or None)
        try:
            replicas = self.settings.stream_replicas
            await ensure_national_stream(js, replicas=replicas)
            await ensure_deadletter_stream(js, replicas=replicas)
        except BaseException:
            await self.stop()
            raise
        if self.settings.registrar:
            self.registrar = Registrar(
                self.nc, js, interval=self.settings.freshness_interval, active=False
            )
            await self.registrar.start()
        holder = self.settings.instance or f"{socket.gethostname()}:{self.settings.port}"
        lease = Lease(self.sessions, holder, ttl=self.settings.lease_ttl)
        self.keeper = LeaseKeeper(lease, self._project, self._stand_by)
        self._keeper_task = asyncio.create_task(self.keeper.run(), name="gateway-lease")
        log.info(
            "gateway started (db %s, nats %s)",
            redact_url(str(self.engine.url)),
            ",".join(redact_url(url) for url in self.settings.nats_url.split(",")),
        )

    async def _project(self) -> None:
        """We hold the lease: consume NATIONAL, prune, answer joins."""
        self.consumer = national_consumer(self._js, self.sessions, self.settings, self.live)
        self._task = asyncio.create_task(keep_running(self.consumer), name="gateway-consumer")
        self._prune_task = asyncio.create_task(self.pruner.run(), name="gateway-prune")
        if self.registrar is not None:
            await self.registrar.set_active(True)

    async def _stand_by(self) -> None:
        """The lease is gone (another gateway projects now): stop projecting at once."""
        if self.registrar is not None:
            await self.registrar.set_active(False)
        await self._stop_projecting()

    async def _stop_projecting(self) -> None:
        prune_task, self._prune_task = self._prune_task, None
        if prune_task is not None:
            await cancel_and_wait(prune_task)
        task, self._task = self._task, None
        if task is not None:
            # Let the batch in hand commit and acknowledge; cancel only as a last resort.
            stopped = self.consumer is not None and await self.consumer.stop(self.settings.ack_wait)
            if not stopped:
                await cancel_and_wait(task)
            await asyncio.wait({task}, timeout=5)

    async def stop(self) -> None:
        keeper_task, self._keeper_task = self._keeper_task, None
        if keeper_task is not None:
            await cancel_and_wait(keeper_task)
        registrar, self.registrar = self.registrar, None
        if registrar is not None:
            await registrar.stop()
        await self._stop_projecting()
        if self.keeper is not None:
            await self.keeper.release()  # a standby takes over at once
        nc, self.nc = self.nc, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(Exception):
                await nc.close()
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()

    async def _health_details(self, request: Request) -> bool:
        """/healthz in full (regions, links, counters) only with a valid token of a
        researcher or an agency; without a token only on the loopback interface of a
        gateway that requires none (the demo). Everyone else: ``{"status": ...}``."""
        header = request.headers.get("authorization")
        if header is None:
            client = request.client.host if request.client else ""
            return not self.settings.require_token and client in LOOPBACK
        try:
            guard = await resolve_token(self.read_sessions, bearer(header))
        except TokenError:
            return False
        return guard.role is not Role.PUBLIC

    async def _reconnected(self) -> None:
        if self.registrar is not None:  # the hub is back: resync stalled sources now
            await self.registrar.on_reconnected()

    async def health(self) -> dict[str, Any]:
        running = self._task is not None and not self._task.done()
        projecting = self.keeper is not None and self.keeper.held
        connected = await self.probe.check(self.nc)
        standby_ok = self.keeper is not None and not projecting
        return {
            "status": "ok" if (running or standby_ok) and connected else "degraded",
            "nats_connected": connected,
            "consumer_running": running,
            "projecting": projecting,  # False: another gateway holds the projection lease
            "consumer": asdict(self.consumer.stats) if self.consumer else None,
            "registrar": self.registrar.summary() if self.registrar else None,
            "live": {
                "subscribers": self.live.subscribers,
                "published": self.live.published,
                "dropped": self.live.dropped,
            },
        }


async def _to_graphql(_request: Request) -> Response:
    return RedirectResponse("/graphql")


def build(settings: GatewaySettings | None = None) -> Gateway:
    return Gateway(settings or GatewaySettings())


def create_app(settings: GatewaySettings | None = None) -> Starlette:
    return build(settings).app
