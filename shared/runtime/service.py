"""The lifecycle of one regional service process: database, broker, region stream, relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.contracts import validate_region
from shared.contracts.subjects import service_filter
from shared.messaging.consumer import BatchApply, ConsumerSpec, EventConsumer, keep_running
from shared.messaging.jetstream import (
    ensure_deadletter_stream,
    ensure_region_stream,
    region_stream_name,
)
from shared.messaging.probe import MAX_OUTSTANDING_PINGS, PING_INTERVAL, BrokerProbe
from shared.messaging.relay import OutboxRelay
from shared.messaging.retention import Pruner
from shared.messaging.tables import MessagingTables
from shared.redact import redact_url, register_secret
from shared.runtime.metrics import ConsumerStatsLike, Metrics
from shared.runtime.observability import retention
from shared.runtime.tasks import cancel_and_wait
from shared.runtime.uow import UnitOfWork
from shared.storage import create_engine, session_factory
from shared.storage.migrations import migrate, version_table

log = logging.getLogger(__name__)


# A regional consumer waits this long after a short batch for more events. The replicas
# are not on the way to NATIONAL (groups' relay is), so they can wait longer than the
# relay: a replica transaction costs several ms of CPU whatever its size, and at the 5-25
# writes/s this shared machine reaches, 0.05 s gave batches of one or two events
# (bench/pipeline.py, the node's CPU per write; bench/README.md).
REPLICA_LINGER = 0.25  # seconds
# The relay waits this long after a commit woke it, so a pass carries several writes' events.
RELAY_LINGER = 0.02  # seconds
# Every commit with events wakes the relay (UnitOfWork's on_commit; all outbox rows are
# written through it), so its poll is only a safety net: once a second cost each idle
# service a transaction a second.
RELAY_POLL = 5.0  # seconds


@dataclass
class ServiceRuntime:
    """Owns a service's engine, FastStream broker and outbox relay.

    The broker's subscribers are registered by the service before :meth:`start`.
    """

    service: str
    region: str
    database_url: str
    nats_url: str
    metadata: MetaData
    tables: MessagingTables
    migrations: Path  # the service's Alembic scripts: services/<name>/migrations
    broker: NatsBroker = field(init=False)
    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    relay: OutboxRelay = field(init=False)
    probe: BrokerProbe = field(init=False)
    metrics: Metrics = field(init=False)  # served at /metrics by service_app(metrics=...)
    _js: JetStreamContext | None = field(init=False, default=None)
    pruner: Pruner = field(init=False)
    _relay_task: asyncio.Task[None] | None = field(init=False, default=None)
    _prune_task: asyncio.Task[None] | None = field(init=False, default=None)
    consumers: list[EventConsumer] = field(init=False, default_factory=list)
    _consumer_tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    _connect_task: asyncio.Task[None] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        validate_region(self.region)
        register_secret(urlsplit(self.nats_url).password)  # masked in every log line
        self.broker = NatsBroker(
            self.nats_url,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            ping_interval=PING_INTERVAL,
            max_outstanding_pings=MAX_OUTSTANDING_PINGS,
            name=f"mgn-{self.region}-{self.service}",
        )
        self.probe = BrokerProbe()
        self.engine = create_engine(self.database_url)
        self.sessions = session_factory(self.engine)
        self.relay = OutboxRelay(
            self.sessions,
            self.tables.outbox,
            self.jetstream,
            linger=RELAY_LINGER,
            poll_interval=RELAY_POLL,
        )
        self.pruner = Pruner(self.sessions, self.tables, retention())
        self.metrics = self._metrics()

    def _metrics(self) -> Metrics:
        metrics = Metrics(self.service, self.region)
        stats = self.relay.stats
        metrics.counter(
            "mgn_relay_published", "events JetStream acknowledged", lambda: stats.published
        )
        metrics.counter(
            "mgn_relay_publish_failures",
            "relay passes that failed (NATS away, ack timeout)",
            lambda: stats.failed_attempts,
        )
        pending = metrics.gauge("mgn_outbox_pending", "events committed, not yet acknowledged")
        oldest = metrics.gauge(
            "mgn_outbox_oldest_age_seconds", "how long the oldest unpublished event has waited"
        )

        async def refresh() -> None:
            metrics.set(metrics.nats_connected, float(await self.nats_connected()))
            count, since = await self.relay.backlog()
            metrics.set(pending, count)
            age = (datetime.now(UTC) - since).total_seconds() if since is not None else 0.0
            metrics.set(oldest, max(age, 0.0))

        metrics.on_scrape(refresh)
        return metrics

    def watch_consumer(self, durable: str, stats: ConsumerStatsLike) -> None:
        """Metrics of one of the service's consumers on the region's stream (lag included)."""

        async def info() -> Any:
            return await self.jetstream().consumer_info(region_stream_name(self.region), durable)

        self.metrics.watch_consumer(durable, stats, info)

    def consume(
        self,
        *,
        source: str,
        durable: str,
        apply: BatchApply,
        batch_size: int,
        replaces: str | None = None,
    ) -> EventConsumer:
        """A consumer of the ``source`` service's events of the region's stream (the one
        consumer stack, :mod:`shared.messaging.consumer`), started once NATS is connected
        and stopped with the service; its metrics are watched. One process per service
        consumes each durable, so a batch is acknowledged with one AckAll; ``replaces``:
        the durable (acknowledged per message) it takes over from."""
        consumer = EventConsumer(
            self.jetstream,
            apply,
            ConsumerSpec(
                stream=region_stream_name(self.region),
                durable=durable,
                filter_subject=service_filter(self.region, source),
                deadletter_scope=self.region,
                batch_size=batch_size,
                linger=REPLICA_LINGER,
                ack_all=True,
                replaces=replaces,
            ),
        )
        self.consumers.append(consumer)
        self.watch_consumer(durable, consumer.stats)
        return consumer

    def jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError(f"{self.service}: not connected to NATS yet")
        return self._js

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.tables.outbox, self.relay.notify)

    async def start(self, connect_wait: float = 5.0) -> None:
        """Migrate the database to the newest schema and start serving; connect to NATS now
        or, if it is not reachable within ``connect_wait`` seconds, in the background (events
        wait in the outbox meanwhile). Configuration errors found while connecting are raised
        here."""
        await migrate(self.engine, self.migrations, version_table=version_table(self.service))
        self._connect_task = asyncio.create_task(self._connect(), name=f"{self.service}-connect")
        done, _ = await asyncio.wait({self._connect_task}, timeout=connect_wait)
        if done:
            self._connect_task.result()
        else:
            log.warning(
                "%s/%s: NATS at %s not reachable yet; serving anyway, events wait in the outbox",
                self.region,
                self.service,
                self.nats_url,
            )
        self._relay_task = asyncio.create_task(self.relay.run(), name=f"{self.service}-relay")
        self._prune_task = asyncio.create_task(self.pruner.run(), name=f"{self.service}-prune")

    async def _connect(self) -> None:
        await self.broker.connect()  # retries until the server answers
        js = self.broker.connection.jetstream()
        await ensure_region_stream(js, self.region)
        await ensure_deadletter_stream(js, self.region)
        self._js = js  # before the subscribers start: they may dead-letter their first message
        await self.broker.start()
        self._consumer_tasks = [
            asyncio.create_task(keep_running(c), name=f"{self.service}-{c.spec.durable}")
            for c in self.consumers
        ]
        self.relay.notify()
        log.info(
            "%s/%s connected to NATS at %s", self.region, self.service, redact_url(self.nats_url)
        )

    async def health(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "region": self.region,
            "nats_connected": await self.nats_connected(),
            "outbox_pending": await self.relay.pending_count(),
            "relay_published": self.relay.stats.published,
            "relay_last_error": self.relay.stats.last_error,
        }

    async def nats_connected(self) -> bool:
        """Connected, and the leaf server answers a ping now (not just an open socket)."""
        return self._js is not None and await self.probe.check(self.broker.connection)

    async def stop(self) -> None:
        if self._connect_task is not None:
            await cancel_and_wait(self._connect_task)
        tasks, self._consumer_tasks = self._consumer_tasks, []
        for consumer, task in zip(self.consumers, tasks, strict=False):
            # Let the batch in hand commit and acknowledge; cancel only as a last resort.
            if not await consumer.stop(timeout=10.0):
                await cancel_and_wait(task)
            await asyncio.wait({task}, timeout=5)
        if self._prune_task is not None:
            await cancel_and_wait(self._prune_task)
            self._prune_task = None
        if self._relay_task is not None:
            await cancel_and_wait(self._relay_task)
            self._relay_task = None
        if self._js is not None:
            with contextlib.suppress(Exception):
                await self.relay.publish_pending()  # best effort: what fails stays in the outbox
        try:
            await self.broker.stop()
        except Exception as exc:  # e.g. draining while the server is away
            log.warning(
                "%s/%s: NATS connection not closed cleanly: %s", self.region, self.service, exc
            )
        self._js = None
        await self.engine.dispose()
