"""The one AsyncAPI builder of the regional services: what a service publishes and consumes.

Events are published by the outbox relay and consumed by the one consumer stack
(:mod:`shared.messaging.consumer`), not through FastStream; the document is built from a
broker that is never connected, on which the publications and subscriptions are registered
for the document only. Each message is an envelope (``shared.contracts.Envelope``) whose
``payload`` is the event's model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, create_model
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.contracts import Envelope, Event
from shared.contracts.subjects import build_subject, service_filter


@dataclass(frozen=True)
class Consumed:
    """One of a service's consumers: the ``source`` service's events of the region.

    ``handles`` and ``ignores`` are the event types it applies and those it deliberately
    skips; a test fails when a registered event type of ``source`` is in neither.
    """

    source: str
    durable: str
    description: str
    handles: frozenset[type[Event]] = frozenset()
    ignores: frozenset[type[Event]] = frozenset()
    # The durable this one took over from (its ack policy changed, which needs a new name;
    # shared.messaging.takeover): deleted at start, this one continuing where it stood.
    replaces: str | None = None


def enveloped(event: type[Event]) -> type[BaseModel]:
    """A model of the message on the wire: the envelope with this event as payload."""
    return create_model(f"{event.__name__}Envelope", __base__=Envelope, payload=(event, ...))


def asyncapi_document(
    *,
    service: str,
    region: str,
    description: str,
    published: Sequence[type[Event]],
    consumed: Sequence[Consumed],
) -> dict[str, Any]:
    broker = NatsBroker()  # never connected
    for event in published:
        source, aggregate, name = event.type_parts()
        broker.publisher(
            build_subject(region, source, aggregate, name),
            title=f"{event.TYPE}:publish",
            description=f"{(event.__doc__ or '').strip()} Published through the outbox "
            "relay with Nats-Msg-Id = event_id into the region's stream.",
            schema=enveloped(event),
        )
    for consumer in consumed:

        async def document_only(body: bytes) -> None:  # pragma: no cover - never called
            return None

        broker.subscriber(
            service_filter(region, consumer.source),
            title=f"{consumer.durable}:consume",
            description=consumer.description,
        )(document_only)
    spec = AsyncAPI(
        broker, title=f"mgn {service} service, region {region}", description=description
    )
    return dict(spec.to_specification().to_jsonable())


def asyncapi_route(
    *,
    service: str,
    region: str,
    description: str,
    published: Sequence[type[Event]],
    consumed: Sequence[Consumed],
) -> Route:
    """``GET /asyncapi.json``: the document, built once."""
    document = asyncapi_document(
        service=service,
        region=region,
        description=description,
        published=published,
        consumed=consumed,
    )

    async def endpoint(_request: Request) -> Response:
        return JSONResponse(document)

    return Route("/asyncapi.json", endpoint)
