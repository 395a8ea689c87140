"""Composition root of the meetings service of one regional node."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from services.meetings import handlers
from services.meetings.api import MeetingsContext, schema
from services.meetings.api.lists import MeetingLists
from services.meetings.api.names import MemberNames
from services.meetings.commands import Node
from services.meetings.events import CONSUMED, DESCRIPTION, GROUPS_REPLICA, PUBLISHED
from services.meetings.http import http_routes
from services.meetings.orm import TABLES, Base
from services.meetings.settings import MeetingsSettings
from shared.contracts import DecodedEvent
from shared.directory import GroupsDirectory
from shared.messaging.consumer import EventConsumer
from shared.runtime import ServiceRuntime
from shared.runtime.asgi import service_app
from shared.runtime.asyncapi import asyncapi_route
from shared.runtime.credentials import NodeCredentials

SERVICE = "meetings"
log = logging.getLogger(__name__)


@dataclass
class MeetingsService:
    """The assembled service: the ASGI app plus the parts tests and operators look at."""

    settings: MeetingsSettings
    runtime: ServiceRuntime
    replica: EventConsumer  # of the groups service's events
    app: Starlette


def build(
    settings: MeetingsSettings | None = None,
    *,
    directory: GroupsDirectory | None = None,
    credentials: NodeCredentials | None = None,
) -> MeetingsService:
    """``directory``: the groups service to ask for names (default: from the settings'
    ``groups_url``; tests pass one bound to an in-process groups app).
    ``credentials``: who may call its API, and its own to call groups (default: the
    node's, MGN_NODE_CREDENTIALS_FILE)."""
    settings = settings or MeetingsSettings()
    credentials = credentials if credentials is not None else NodeCredentials.from_settings()
    node = Node(region=settings.region, tz=settings.zone)
    runtime = ServiceRuntime(
        service=SERVICE,
        region=settings.region,
        database_url=settings.database_url,
        nats_url=settings.nats_url,
        metadata=Base.metadata,
        tables=TABLES,
        migrations=Path(__file__).parent / "migrations",
    )

    async def apply(events: Sequence[DecodedEvent]) -> int:
        return await handlers.apply_groups_events(events, runtime.unit_of_work())

    replica = runtime.consume(
        source=GROUPS_REPLICA.source,
        durable=GROUPS_REPLICA.durable,
        replaces=GROUPS_REPLICA.replaces,
        apply=apply,
        batch_size=settings.replica_batch_size,
    )

    async def health() -> dict[str, Any]:
        return {**await runtime.health(), "replica": vars(replica.stats)}

    directory = directory or (
        GroupsDirectory(
            settings.groups_url,
            timeout=settings.groups_timeout,
            setting="MGN_MEETINGS_GROUPS_URL",
            headers=credentials.headers(SERVICE),
        )
        if settings.groups_url
        else None
    )

    async def stop() -> None:
        await runtime.stop()
        if directory is not None:
            await directory.aclose()  # its kept-alive connections to the groups service

    def context() -> MeetingsContext:
        return MeetingsContext(
            sessions=runtime.sessions,
            unit_of_work=runtime.unit_of_work,
            node=node,
            directory=directory,
            names=MemberNames(directory),
            lists=MeetingLists(runtime.sessions),
        )

    app = service_app(
        schema=schema,
        context_factory=context,
        start=runtime.start,
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
            *http_routes(runtime.sessions, node, directory),
        ],
        graphiql=settings.graphiql,
        cache_documents=True,  # no variable-dependent validation rules here
        credentials=credentials,
        service=SERVICE,
    )
    return MeetingsService(settings=settings, runtime=runtime, replica=replica, app=app)


def create_app(settings: MeetingsSettings | None = None) -> Starlette:
    return build(settings).app
