"""The gateway's durable consumer of NATIONAL, projecting into the read model."""

from __future__ import annotations

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.live import Broadcaster, live_projector
from services.gateway.orm import TABLES
from services.gateway.projections import project
from services.gateway.settings import GatewaySettings
from shared.messaging.consumer import ConsumerSpec, EventConsumer, projecting
from shared.messaging.jetstream import NATIONAL_STREAM

DURABLE = "gateway-read-model"


def consumer_spec(settings: GatewaySettings) -> ConsumerSpec:
    return ConsumerSpec(
        stream=NATIONAL_STREAM,
        durable=DURABLE,
        deadletter_scope="hub",
        batch_size=settings.batch_size,
        linger=settings.batch_linger,
        ack_wait=settings.ack_wait,
    )


def national_consumer(
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
    settings: GatewaySettings,
    live: Broadcaster | None = None,
) -> EventConsumer:
    """Decodes (dead-lettering what it cannot, including a region/subject mismatch),
    projects each batch in one transaction with its event ids, acks after the commit;
    ``live`` hears of each batch once it has committed."""
    projector = project if live is None else live_projector(project, live)
    return EventConsumer(js, projecting(sessions, TABLES, projector), consumer_spec(settings))
