"""The service's AsyncAPI document: what it publishes and what it consumes.

Events are published by the outbox relay, not by FastStream, so the publications are
registered here for the document only (nothing is ever sent through them). Each message
is an envelope (``shared.contracts.Envelope``) whose ``payload`` is the event's model.
"""

from __future__ import annotations

from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, create_model
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.contracts import (
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    AttendanceCorrected,
    Envelope,
    Event,
    InitiativeStarted,
    InitiativeUpdated,
    MeetingCancelled,
    MeetingHeld,
    MeetingRecorded,
    MeetingRescheduled,
    MeetingScheduled,
    MemoPublished,
    RsvpRecorded,
)
from shared.contracts.subjects import build_subject

PUBLISHED: tuple[type[Event], ...] = (
    MeetingScheduled,
    MeetingHeld,
    AttendanceCorrected,
    MeetingCancelled,
    MeetingRescheduled,
    RsvpRecorded,
    MeetingRecorded,
    MemoPublished,
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    InitiativeStarted,
    InitiativeUpdated,
)


def enveloped(event: type[Event]) -> type[BaseModel]:
    """A model of the message on the wire: the envelope with this event as payload."""
    return create_model(f"{event.__name__}Envelope", __base__=Envelope, payload=(event, ...))


def document_publications(broker: NatsBroker, region: str) -> None:
    for event in PUBLISHED:
        service, aggregate, name = event.type_parts()
        broker.publisher(
            build_subject(region, service, aggregate, name),
            title=f"{event.TYPE}:publish",
            description=f"{(event.__doc__ or '').strip()} Published through the outbox "
            "relay with Nats-Msg-Id = event_id into the region's stream.",
            schema=enveloped(event),
        )


def asyncapi_route(broker: NatsBroker, region: str) -> Route:
    def document() -> dict[str, Any]:
        spec = AsyncAPI(
            broker,
            title=f"mgn meetings service, region {region}",
            description="Meetings of the region's core groups; consumes the groups "
            "service's events into a local replica.",
        )
        return dict(spec.to_specification().to_jsonable())

    async def endpoint(_request: Request) -> Response:
        return JSONResponse(document())

    return Route("/asyncapi.json", endpoint)
