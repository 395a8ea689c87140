"""What the hub saw of an end-to-end run: how many events reached NATIONAL, when each one
arrived there (the stream's own store time), and what the gateway's consumer did with them
(its batches, from the gateway's ``/healthz``). The gateway's live cost (issue 12 part 4) is
its CPU per NATIONAL event and the freshness of its views: an event's arrival in NATIONAL
to the moment it is visible in the read model (the views commit in the same transaction).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import nats
from nats.js import JetStreamContext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.federation import Federation
from services.gateway.consumer import DURABLE
from services.gateway.orm import TABLES as GATEWAY_TABLES
from services.gateway.settings import GatewaySettings
from shared.contracts import EventDecodeError, MemberJoined, decode
from shared.messaging.jetstream import NATIONAL_STREAM
from shared.storage import session_factory
from shared.storage.chunks import chunks


@asynccontextmanager
async def hub_jetstream(federation: Federation) -> AsyncIterator[JetStreamContext]:
    """JetStream at the hub as the gateway's (full-rights) user."""
    hub, auth = federation.hub, federation.auth
    if hub is None:
        raise RuntimeError("the federation has no hub")
    url = auth.gateway_url(hub.client_url) if auth else hub.client_url
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        yield nc.jetstream(domain=GatewaySettings().jetstream_domain or None)
    finally:
        await nc.close()


async def last_seq(js: JetStreamContext) -> int:
    return int((await js.stream_info(NATIONAL_STREAM)).state.last_seq)


async def caught_up(js: JetStreamContext, timeout: float = 60.0) -> bool:
    """Wait until NATIONAL's sources have no lag and the gateway's consumer has nothing
    pending or unacknowledged (the pipeline is quiet); False if it is not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = await js.stream_info(NATIONAL_STREAM)
        consumer = await js.consumer_info(NATIONAL_STREAM, DURABLE)
        lag = sum(s.lag or 0 for s in info.sources or [])
        if not lag and not consumer.num_pending and not consumer.num_ack_pending:
            return True
        await asyncio.sleep(0.1)
    return False


@dataclass
class Arrivals:
    """When each event of a run was stored in NATIONAL (epoch seconds)."""

    events: dict[str, float] = field(default_factory=dict)  # event id ->
    members: dict[str, float] = field(default_factory=dict)  # member id -> its MemberJoined
    # event id -> (aggregate id, sequence): what the gateway's record of processed events
    # knows it by
    keys: dict[str, tuple[str, int]] = field(default_factory=dict)


async def arrivals(js: JetStreamContext, first: int, last: int) -> Arrivals:
    """The arrivals of the stream sequences ``first..last``."""
    found = Arrivals()
    for seq in range(first, last + 1):
        msg = await js.get_msg(NATIONAL_STREAM, seq)
        if msg.data is None or msg.subject is None or msg.time is None:
            continue
        try:
            decoded = decode(msg.data, msg.subject)
        except EventDecodeError:
            continue
        at = msg.time.timestamp()
        envelope = decoded.envelope
        found.events[str(envelope.event_id)] = at
        found.keys[str(envelope.event_id)] = (str(envelope.aggregate_id), envelope.sequence)
        if isinstance(decoded.event, MemberJoined):
            found.members[str(decoded.event.member_id)] = at
    return found


async def applied_at(engine: AsyncEngine, arrived: Arrivals) -> dict[str, float]:
    """Event id -> when the gateway applied it, for the events of ``arrived`` that are the
    newest their aggregate has: the ``applied_at`` of the aggregate's mark in the record of
    processed events (``processed_marks``, written in the batch's transaction: its commit
    follows within the batch). An older event's mark has moved on with a later batch, so
    it is left out rather than given a later time."""
    m = GATEWAY_TABLES.marks
    newest = {key: event_id for event_id, key in arrived.keys.items()}
    found: dict[str, float] = {}
    async with session_factory(engine)() as session:
        for chunk in chunks(sorted({aggregate for aggregate, _ in newest})):
            rows = await session.execute(
                select(m.c.aggregate_id, m.c.upto, m.c.applied_at).where(
                    m.c.aggregate_id.in_(chunk), m.c.applied_at.is_not(None)
                )
            )
            for row in rows:
                event_id = newest.get((row.aggregate_id, int(row.upto)))
                if event_id is not None:
                    found[event_id] = row.applied_at.timestamp()
    return found


@dataclass(frozen=True)
class ConsumerCounts:
    applied: int
    batches: int


def gateway_counts(federation: Federation) -> ConsumerCounts:
    """The gateway consumer's counters from its ``/healthz`` (full details on loopback in
    the demo profile); zeros if it does not give them."""
    gateway = federation.gateway
    if gateway is None:
        return ConsumerCounts(0, 0)
    with urllib.request.urlopen(gateway.health_url, timeout=5) as response:
        consumer = json.load(response).get("consumer") or {}
    return ConsumerCounts(int(consumer.get("applied", 0)), int(consumer.get("batches", 0)))
