"""The feedback service in process against a real region leaf server and a real database.

The groups and meetings services are simulated: their events are published as real
envelopes (with ``Nats-Msg-Id``) into the region's stream, as their outbox relays do.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.feedback.app import FeedbackService, build
from services.feedback.contacts import Contact, StaticContactDirectory
from services.feedback.orm import ReplicaPersonRow
from services.feedback.settings import FeedbackSettings
from shared.contracts import (
    Envelope,
    Event,
    MeetingHeld,
    PersonRegistered,
    decode,
    encode,
    make_envelope,
    subject_for,
)
from shared.contracts.subjects import service_filter
from shared.messaging.jetstream import region_stream_name
from tests.fixtures.credentials import CONSOLE_HEADERS
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats

REGION = "oulu"


class CapturingTransport:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


async def publish(js: JetStreamContext, event: Event, aggregate_id: UUID, sequence: int) -> None:
    envelope = make_envelope(event, region=REGION, aggregate_id=aggregate_id, sequence=sequence)
    await js.publish(
        subject_for(envelope), encode(envelope), headers={"Nats-Msg-Id": envelope.msg_id}
    )


async def feedback_events(js: JetStreamContext) -> list[tuple[Envelope, bytes, str]]:
    sub = await js.pull_subscribe(
        service_filter(REGION, "feedback"),
        stream=region_stream_name(REGION),
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
    )
    found: list[tuple[Envelope, bytes, str]] = []
    try:
        while True:
            try:
                msgs = await sub.fetch(100, timeout=0.5)
            except TimeoutError:
                break
            for msg in msgs:
                envelope = decode(msg.data, msg.subject).envelope
                found.append((envelope, msg.data, (msg.headers or {})["Nats-Msg-Id"]))
                await msg.ack()
    finally:
        await sub.unsubscribe()
    return found


@pytest.fixture
async def running(
    leaf_factory, nats_connect, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FeedbackService, CapturingTransport, StaticContactDirectory]]:
    leaf = await leaf_factory(REGION)
    directory, transport = StaticContactDirectory(), CapturingTransport()
    settings = FeedbackSettings(
        region=REGION,
        database_url=database_url,
        nats_url=leaf.client_url,
        public_base_url="http://feedback",
        mail_interval_seconds=0.2,
        replica_batch_size=10,
    )
    service = build(settings, directory=directory, transport=transport)
    async with service.app.router.lifespan_context(service.app):
        yield service, transport, directory
    assert nats_connect  # the leaf's clients close at teardown


async def test_meeting_held_to_invitation_to_response_in_the_stream(running, nats_connect):
    service, transport, directory = running
    js = (await nats_connect(service.settings.nats_url)).jetstream()
    member, person = uuid4(), uuid4()
    directory.add(member, Contact(person, "Anna Yrittäjä", "anna@example.fi", "en"))
    await publish(
        js, PersonRegistered(person_id=person, member_id=member, language="en"), person, 1
    )

    async def person_known() -> bool:
        async with service.runtime.sessions() as session:
            return await session.get(ReplicaPersonRow, person) is not None

    # Two consumers (groups' and meetings' events) run independently: let the person arrive
    # first, so that the survey opens with its invitation (a late one is tested elsewhere).
    await wait_for(person_known, timeout=15, message="person replicated")
    meeting_id = uuid4()
    held = MeetingHeld(
        meeting_id=meeting_id,
        group_id=uuid4(),
        held_at=datetime.now(UTC) - timedelta(hours=1),
        attendee_member_ids=(member,),
    )
    await publish(js, held, meeting_id, 2)

    await wait_for(lambda: transport.sent, timeout=15, message="invitation mailed")
    (message,) = transport.sent
    assert "anna@example.fi" in str(message["To"])
    assert message["Content-Language"] == "en"
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"http://feedback/survey/([A-Za-z0-9_-]+)", body.get_content())
    assert found
    token = found.group(1)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.app),
        base_url="http://feedback",
        headers=CONSOLE_HEADERS,
    ) as http:
        page = await http.get(f"/survey/{token}")
        assert page.status_code == 200
        assert '<html lang="en">' in page.text
        answer = {
            "overall": "5",
            "usefulness": "4",
            "recommend": "10",
            "takeaway": "secret takeaway text",
            "change": "secret change wish",
        }
        assert (await http.post(f"/survey/{token}", data=answer)).status_code == 303
        health = (await http.get("/healthz")).json()
    assert health["nats_connected"] is True
    assert health["mail"]["sent"] == 1

    async def submitted() -> list[tuple[Envelope, bytes, str]] | None:
        events = await feedback_events(js)
        types = [e.type for e, _, _ in events]
        return events if "feedback.response.submitted" in types else None

    events = await wait_for(submitted, timeout=15, message="ResponseSubmitted published")
    assert [e.type for e, _, _ in events] == [
        "feedback.survey.opened",
        "feedback.response.submitted",
    ]
    opened, response = events[0][0], events[1]
    assert opened.payload["meeting_id"] == str(meeting_id)
    assert opened.payload["invited"] == 1
    envelope, raw, msg_id = response
    assert msg_id == str(envelope.event_id)
    assert (envelope.payload["overall"], envelope.payload["recommend"]) == (5, 10)
    assert b"secret" not in raw
    assert str(person).encode() not in raw  # responses are pseudonymous nationally
    stats = {name: s["applied"] for name, s in health["consumers"].items()}
    assert stats == {"feedback-meetings-ackall": 1, "feedback-groups-ackall": 1}
