"""Composition root of the feedback service of one regional node."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from services.feedback import handlers
from services.feedback.api import FeedbackContext, schema
from services.feedback.contacts import ContactDirectory, GroupsContactDirectory
from services.feedback.events import CONSUMED, DESCRIPTION, PUBLISHED
from services.feedback.handlers import Node
from services.feedback.mail import DirectoryTransport, MailTransport, MailWorker, SmtpTransport
from services.feedback.orm import TABLES, Base
from services.feedback.repository import FeedbackRepository
from services.feedback.settings import FeedbackSettings
from services.feedback.web import survey_routes
from shared.contracts import DecodedEvent
from shared.messaging.consumer import EventConsumer
from shared.redact import register_secret
from shared.runtime import ServiceRuntime
from shared.runtime.asgi import service_app
from shared.runtime.asyncapi import asyncapi_route
from shared.runtime.credentials import NodeCredentials
from shared.runtime.tasks import cancel_and_wait

SERVICE = "feedback"
log = logging.getLogger(__name__)


@dataclass
class FeedbackService:
    """The assembled service: the ASGI app plus the parts tests and operators look at."""

    settings: FeedbackSettings
    node: Node
    runtime: ServiceRuntime
    consumers: list[EventConsumer]
    mail: MailWorker
    app: Starlette
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)


def transport_for(settings: FeedbackSettings) -> MailTransport:
    if settings.mail_dir:
        return DirectoryTransport(Path(settings.mail_dir))
    register_secret(settings.smtp_password)  # masked in every log line
    return SmtpTransport(
        host=settings.smtp_host,
        port=settings.smtp_port,
        starttls=settings.smtp_starttls,
        user=settings.smtp_user,
        password=settings.smtp_password,
        timeout=settings.smtp_timeout,
    )


def build(
    settings: FeedbackSettings | None = None,
    *,
    directory: ContactDirectory | None = None,
    transport: MailTransport | None = None,
    run_mail_worker: bool = True,
    credentials: NodeCredentials | None = None,
) -> FeedbackService:
    """Assemble the service; tests may pass a contact directory and a mail transport, and
    switch the periodic mail worker off to drive it themselves (``service.mail.run_once``)."""
    settings = settings or FeedbackSettings()
    credentials = credentials if credentials is not None else NodeCredentials.from_settings()
    node = Node(
        region=settings.region,
        tz=settings.zone,
        survey_days=settings.survey_days,
        reminder_days_before=settings.reminder_days_before,
    )
    runtime = ServiceRuntime(
        service=SERVICE,
        region=settings.region,
        database_url=settings.database_url,
        nats_url=settings.nats_url,
        metadata=Base.metadata,
        tables=TABLES,
        migrations=Path(__file__).parent / "migrations",
    )
    mail = MailWorker(
        uows=runtime.unit_of_work,
        node=node,
        directory=directory
        or GroupsContactDirectory(settings.groups_url, headers=credentials.headers(SERVICE)),
        transport=transport or transport_for(settings),
        public_base_url=settings.public_base_url,
        sender=settings.smtp_from,
        interval=settings.mail_interval_seconds,
        retry_base=settings.mail_retry_seconds,
        max_attempts=settings.mail_max_attempts,
    )

    async def apply(events: Sequence[DecodedEvent]) -> int:
        return await handlers.apply_events(
            events, runtime.unit_of_work(), node, mail_queued=mail.notify
        )

    consumers = [
        runtime.consume(
            source=consumed.source,
            durable=consumed.durable,
            replaces=consumed.replaces,
            apply=apply,
            batch_size=settings.replica_batch_size,
        )
        for consumed in CONSUMED
    ]
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        await runtime.start()
        sent = await handlers.send_region_keys(runtime.unit_of_work, node)
        if sent:
            log.info("sent the region's panel key of %d interviews recorded before", sent)
        if run_mail_worker:
            tasks.append(asyncio.create_task(mail.run(), name="feedback-mail"))

    async def stop() -> None:
        for task in tasks:
            await cancel_and_wait(task)
        tasks.clear()
        await runtime.stop()

    async def health() -> dict[str, Any]:
        async with runtime.sessions() as session:
            mail_counts = await FeedbackRepository(session).mail_counts()
        return {
            **await runtime.health(),
            "consumers": {c.spec.durable: vars(c.stats) for c in consumers},
            "mail": {**mail_counts, "last_error": mail.stats.last_error},
        }

    def context() -> FeedbackContext:
        return FeedbackContext(
            sessions=runtime.sessions, unit_of_work=runtime.unit_of_work, node=node
        )

    app = service_app(
        schema=schema,
        context_factory=context,
        start=start,
        stop=stop,
        metrics=runtime.metrics,
        health=health,
        routes=[
            asyncapi_route(
                service=SERVICE,
                region=node.region,
                description=DESCRIPTION,
                published=PUBLISHED,
                consumed=CONSUMED,
            ),
            *survey_routes(runtime.unit_of_work, node),
        ],
        graphiql=settings.graphiql,
        cache_documents=True,  # no variable-dependent validation rules here
        credentials=credentials,
        service=SERVICE,
        public_paths=("/survey/",),  # the token in the link is the credential
    )
    return FeedbackService(settings, node, runtime, consumers, mail, app, tasks)


def create_app(settings: FeedbackSettings | None = None) -> Starlette:
    return build(settings).app
