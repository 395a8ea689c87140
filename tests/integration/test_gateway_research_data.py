"""The research events through a real hub nats-server into NATIONAL, projected by the
gateway and read back through its GraphQL endpoint (SQLite and PostgreSQL).

Like test_gateway_pipeline: NATIONAL sources a test stream ``FEED`` (``mgn.>``) on the hub.
The region's events are published partly out of order and one of them twice (past
JetStream's dedupe), as a region catching up after an outage might deliver them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamConfig, StreamSource

from deploy.natsserver import NatsServer
from services.gateway.app import Gateway, build
from services.gateway.settings import GatewaySettings
from shared.contracts import (
    ActionItemAgreed,
    ActivityRecorded,
    ConsentGiven,
    Envelope,
    Event,
    FacilitatorAssigned,
    GroupCreated,
    InitiativeStarted,
    InitiativeUpdated,
    InterviewRecorded,
    MeetingHeld,
    MeetingRecorded,
    MeetingRescheduled,
    MeetingScheduled,
    MemberJoined,
    MemberPaused,
    MemoPublished,
    PersonErased,
    PersonRegistered,
    ResponseSubmitted,
    RsvpRecorded,
    SurveyClosed,
    SurveyOpened,
    encode,
    make_envelope,
    subject_for,
)
from shared.messaging.jetstream import NATIONAL_STREAM
from tests.fixtures.db import DatabaseMaker
from tests.fixtures.nats import NatsConnect, wait_for

pytestmark = pytest.mark.nats

T0 = datetime(2024, 9, 2, 18, 0, tzinfo=UTC)


class Region:
    """One region's events with per-aggregate sequences, like its outbox would give them."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.envelopes: list[Envelope] = []
        self._seq: dict[uuid.UUID, int] = {}
        self.clock = T0

    def emit(self, event: Event, aggregate: uuid.UUID) -> None:
        self._seq[aggregate] = seq = self._seq.get(aggregate, 0) + 1
        self.clock += timedelta(minutes=1)
        self.envelopes.append(
            make_envelope(
                event,
                region=self.region,
                aggregate_id=aggregate,
                sequence=seq,
                occurred_at=self.clock,
            )
        )


@pytest.fixture
async def hub_js(nats_hub: NatsServer, nats_connect: NatsConnect) -> JetStreamContext:
    js = (await nats_connect(nats_hub)).jetstream()
    await js.add_stream(StreamConfig(name="FEED", subjects=["mgn.>"]))
    await js.add_stream(StreamConfig(name=NATIONAL_STREAM, sources=[StreamSource(name="FEED")]))
    return js


@pytest.fixture
async def gateway(
    nats_hub: NatsServer, hub_js: JetStreamContext, make_database_url: DatabaseMaker
) -> Gateway:
    settings = GatewaySettings(
        database_url=await make_database_url("gateway"), nats_url=nats_hub.client_url, ack_wait=3.0
    )
    return build(settings)


@asynccontextmanager
async def running(gw: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with gw.app.router.lifespan_context(gw.app):
        transport = httpx.ASGITransport(app=gw.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client


async def gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    resp = await client.post("/graphql", json={"query": query, "variables": variables})
    body = resp.json()
    assert resp.status_code == 200, body
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def research_region() -> tuple[Region, dict[str, str]]:
    """Every new event type once or more: a group, members, a meeting with its follow-ups,
    a CoP activity, an initiative, a survey with 3 responses, an interview, person events."""
    r = Region("oulu")
    g, m = uuid.uuid4(), uuid.uuid4()
    people = [uuid.uuid4() for _ in range(3)]
    r.emit(GroupCreated(group_id=g, name="Core", founded_on=date(2015, 1, 1)), g)
    r.emit(FacilitatorAssigned(group_id=g, facilitator_id=uuid.uuid4(), role="researcher"), g)
    for p in people:
        r.emit(MemberJoined(member_id=p, group_id=g, joined_on=date(2016, 1, 1), employees=2), p)
    r.emit(MemberPaused(member_id=people[2], group_id=g, paused_on=date(2024, 8, 1)), people[2])
    person = uuid.uuid4()
    r.emit(PersonRegistered(person_id=person, member_id=people[0]), person)
    r.emit(
        ConsentGiven(person_id=person, member_id=people[0], purpose="research_use", given_at=T0),
        person,
    )
    r.emit(PersonErased(person_id=person, member_id=people[0], erased_at=T0), person)
    starts = T0 + timedelta(days=10)
    moved = starts + timedelta(days=2)
    r.emit(
        MeetingScheduled(
            meeting_id=m, group_id=g, host_member_id=people[0], theme="Booth", starts_at=starts
        ),
        m,
    )
    r.emit(RsvpRecorded(meeting_id=m, group_id=g, member_id=people[0], coming=True), m)
    r.emit(RsvpRecorded(meeting_id=m, group_id=g, member_id=people[1], coming=False), m)
    r.emit(MeetingRescheduled(meeting_id=m, group_id=g, starts_at=moved, theme="Booths"), m)
    r.emit(
        MeetingHeld(meeting_id=m, group_id=g, held_at=moved, attendee_member_ids=tuple(people[:2])),
        m,
    )
    r.emit(MeetingRecorded(meeting_id=m, group_id=g), m)
    r.emit(MemoPublished(meeting_id=m, group_id=g, summary="Share a booth at the fair"), m)
    action, activity, initiative = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    r.emit(
        ActionItemAgreed(
            action_id=action, meeting_id=m, group_id=g, owner_member_id=people[0], description="Ask"
        ),
        action,
    )
    r.emit(
        ActivityRecorded(
            activity_id=activity,
            meeting_id=m,
            group_id=g,
            activity_type="reusing_assets",
            example="two members shared a festival sales booth",
            member_ids=tuple(people[:2]),
        ),
        activity,
    )
    r.emit(
        InitiativeStarted(
            initiative_id=initiative,
            group_id=g,
            origin_meeting_id=m,
            title="Festival booth",
            member_ids=tuple(people[:2]),
            started_on=moved.date(),
        ),
        initiative,
    )
    r.emit(
        InitiativeUpdated(
            initiative_id=initiative,
            group_id=g,
            status="completed",
            outcome="sold out",
            member_ids=tuple(people[:2]),
            updated_on=moved.date() + timedelta(days=30),
        ),
        initiative,
    )
    survey = uuid.uuid4()
    r.emit(
        SurveyOpened(
            survey_id=survey, meeting_id=m, group_id=g, invited=3, closes_at=moved + timedelta(7)
        ),
        survey,
    )
    for overall in (5, 4, 3):
        response = uuid.uuid4()
        r.emit(
            ResponseSubmitted(
                response_id=response,
                survey_id=survey,
                meeting_id=m,
                group_id=g,
                overall=overall,
                usefulness=4,
                recommend=9,
            ),
            response,
        )
    r.emit(SurveyClosed(survey_id=survey, meeting_id=m, group_id=g, invited=3, responses=3), survey)
    interview = uuid.uuid4()
    r.emit(
        InterviewRecorded(
            interview_id=interview,
            member_id=people[1],
            interviewed_on=date(2024, 12, 1),
            intends_to_grow="yes",
            planned_hires=1,
            barriers=("finding_employees",),
        ),
        interview,
    )
    return r, {"group": str(g), "paused": str(people[2]), "meeting": str(m)}


QUERY = """query($g: ID) {
  regions { id eventsApplied }
  groups { edges { node { id facilitators { role } } } }
  members(groupId: $g, first: 10) { edges { node { id status history { change } } } }
  meetings { edges { node { id theme startsAt status recorded rsvpComing rsvpNotComing
      memo { summary } activities { type memberIds } actions { status } } } }
  activities(region: "oulu", type: REUSING_ASSETS) { totalCount edges { node { example } } }
  initiatives(groupId: $g) { edges { node { title status members { id } history { status } } } }
  memos(region: "oulu") { totalCount }
  surveys(groupId: $g) { edges { node { responses enoughResponses meanOverall closed } } }
  interviews(region: "oulu") { edges { node { intendsToGrow plannedHires barriers } } }
}"""


async def test_research_events_reach_graphql_once_in_any_order(
    gateway: Gateway, hub_js: JetStreamContext
) -> None:
    oulu, ids = research_region()
    total = len(oulu.envelopes)
    # the second half first (a region catching up out of order), then the first half
    half = total // 2
    for env in oulu.envelopes[half:] + oulu.envelopes[:half]:
        await hub_js.publish(subject_for(env), encode(env), headers={"Nats-Msg-Id": env.msg_id})
    # and one of them again under another message id: the gateway's own record drops it
    again = oulu.envelopes[-5]
    await hub_js.publish(
        subject_for(again), encode(again), headers={"Nats-Msg-Id": f"again-{uuid.uuid4()}"}
    )

    async with running(gateway) as client:

        async def settled() -> dict[str, Any] | None:
            data = await gql(client, QUERY, g=ids["group"])
            counts = {r["id"]: r["eventsApplied"] for r in data["regions"]}
            if counts != {"oulu": total}:
                return None
            # asked again: a response's fields are read by separate sessions, so the one
            # that saw the last batch's commit need not be the one that read the meetings
            return await gql(client, QUERY, g=ids["group"])

        data: dict[str, Any] = await wait_for(settled, timeout=20, message="all events applied")
        await wait_for(
            lambda: gateway.consumer is not None and gateway.consumer.stats.duplicates == 1,
            timeout=10,
            message="the duplicate seen",
        )

    [group] = data["groups"]["edges"]
    assert group["node"]["facilitators"] == [{"role": "RESEARCHER"}]
    members = {e["node"]["id"]: e["node"] for e in data["members"]["edges"]}
    assert members[ids["paused"]]["status"] == "PAUSED"
    assert [h["change"] for h in members[ids["paused"]]["history"]] == ["JOINED", "PAUSED"]
    [meeting] = [e["node"] for e in data["meetings"]["edges"]]
    assert (meeting["theme"], meeting["status"], meeting["recorded"]) == ("Booths", "HELD", True)
    assert datetime.fromisoformat(meeting["startsAt"]) == T0 + timedelta(days=12)
    assert (meeting["rsvpComing"], meeting["rsvpNotComing"]) == (1, 1)
    assert meeting["memo"] == {"summary": "Share a booth at the fair"}
    assert meeting["activities"][0]["type"] == "REUSING_ASSETS"
    assert len(meeting["activities"][0]["memberIds"]) == 2
    assert meeting["actions"] == [{"status": "OPEN"}]
    assert data["activities"]["totalCount"] == 1
    [initiative] = [e["node"] for e in data["initiatives"]["edges"]]
    assert (initiative["title"], initiative["status"], len(initiative["members"])) == (
        "Festival booth",
        "COMPLETED",
        2,
    )
    assert [h["status"] for h in initiative["history"]] == ["ACTIVE", "COMPLETED"]
    assert data["memos"]["totalCount"] == 1
    [survey] = [e["node"] for e in data["surveys"]["edges"]]
    assert survey == {"responses": 3, "enoughResponses": True, "meanOverall": 4.0, "closed": True}
    [interview] = [e["node"] for e in data["interviews"]["edges"]]
    assert interview == {
        "intendsToGrow": "YES",
        "plannedHires": 1,
        "barriers": ["finding_employees"],
    }
