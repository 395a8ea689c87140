"""The lifecycle of one regional service process: database, broker, region stream, relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.contracts import validate_region
from shared.messaging.jetstream import ensure_deadletter_stream, ensure_region_stream
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import MessagingTables
from shared.runtime.tasks import cancel_and_wait
from shared.runtime.uow import UnitOfWork
from shared.storage import create_engine, session_factory
from shared.storage.migrations import migrate, version_table

log = logging.getLogger(__name__)


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
    _js: JetStreamContext | None = field(init=False, default=None)
    _relay_task: asyncio.Task[None] | None = field(init=False, default=None)
    _connect_task: asyncio.Task[None] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        validate_region(self.region)
        self.broker = NatsBroker(
            self.nats_url,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            name=f"mgn-{self.region}-{self.service}",
        )
        self.engine = create_engine(self.database_url)
        self.sessions = session_factory(self.engine)
        self.relay = OutboxRelay(self.sessions, self.tables.outbox, self.jetstream)

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

    async def _connect(self) -> None:
        await self.broker.connect()  # retries until the server answers
        js = self.broker.connection.jetstream()
        await ensure_region_stream(js, self.region)
        await ensure_deadletter_stream(js, self.region)
        self._js = js  # before the subscribers start: they may dead-letter their first message
        await self.broker.start()
        self.relay.notify()
        log.info("%s/%s connected to NATS at %s", self.region, self.service, self.nats_url)

    async def health(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "region": self.region,
            "nats_connected": self._js is not None and self.broker.connection.is_connected,
            "outbox_pending": await self.relay.pending_count(),
            "relay_published": self.relay.stats.published,
            "relay_last_error": self.relay.stats.last_error,
        }

    async def stop(self) -> None:
        if self._connect_task is not None:
            await cancel_and_wait(self._connect_task)
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
