"""The groups service end to end in one process: GraphQL -> database + outbox -> JetStream.

A real leaf server per test (tests/fixtures/nats.py), the app run with its lifespan, and
the test reading the region's stream through its own client. Both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from deploy.natsserver import NatsServer
from services.groups.app import GroupsService, build
from services.groups.settings import GroupsSettings
from shared.contracts import (
    DecodedEvent,
    GroupCreated,
    MemberJoined,
    MemberLeft,
    PersonErased,
    PersonRegistered,
    RegionAnnounced,
    decode,
)
from shared.messaging.jetstream import region_stream_name
from tests.fixtures.credentials import CONSOLE_HEADERS
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats

REGION = "oulu"
STREAM = region_stream_name(REGION)
CREATE = """mutation($input: CreateGroupInput!) {
  createGroup(input: $input) { id name municipality foundedOn } }"""
ADD = """mutation($input: AddMemberInput!) {
  addMember(input: $input) { id groupId companyName employees joinedOn active } }"""
LEAVE = """mutation($input: MemberLeavesInput!) {
  memberLeaves(input: $input) { id leftOn active } }"""


@dataclass
class Node:
    """One running groups service, its leaf server and a client to the region's stream."""

    service: GroupsService
    leaf: NatsServer
    client: httpx.AsyncClient
    js: JetStreamContext

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.graphql(query, **variables)
        assert "errors" not in body, body["errors"]
        return dict(body["data"])

    async def pending(self) -> int:
        return await self.service.runtime.relay.pending_count()

    async def stream_count(self) -> int:
        return int((await self.js.stream_info(STREAM)).state.messages)

    async def published(self, count: int) -> bool:
        """True once the outbox is drained and the stream holds ``count`` messages."""
        return await self.pending() == 0 and await self.stream_count() == count

    async def stream_events(self) -> list[tuple[str, DecodedEvent]]:
        """Every message of the region's stream: its Nats-Msg-Id and the decoded event."""
        events = []
        state = (await self.js.stream_info(STREAM)).state
        for seq in range(state.first_seq, state.last_seq + 1):
            msg = await self.js.get_msg(STREAM, seq)
            assert msg.data is not None
            assert msg.subject is not None
            events.append(
                ((msg.headers or {}).get("Nats-Msg-Id", ""), decode(msg.data, msg.subject))
            )
        return events


@pytest.fixture
async def node(database_url, leaf_factory, nats_connect) -> AsyncIterator[Node]:
    leaf = await leaf_factory(REGION)
    service = build(
        GroupsSettings(region=REGION, database_url=database_url, nats_url=leaf.client_url)
    )
    app = service.app
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://groups",
            headers=CONSOLE_HEADERS,
        ) as client,
    ):
        js = (await nats_connect(leaf)).jetstream()
        node = Node(service, leaf, client, js)
        # The service announces the region when it starts; the tests look at what follows.
        await wait_for(lambda: node.published(1), timeout=15, message="region announcement")
        [(_, announced)] = await node.stream_events()
        assert isinstance(announced.event, RegionAnnounced)
        await js.purge_stream(STREAM)
        yield node


def member_input(group_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "groupId": group_id,
        "companyName": "Paja Oy",
        "businessId": "0112038-9",
        "employees": 4,
        "turnoverEur": 350_000,
        "joinedOn": "2016-04-01",
        **changes,
    }


async def create_group(node: Node) -> str:
    data = await node.ok(
        CREATE, input={"name": "Oulu core group", "municipality": "Oulu", "foundedOn": "2016-03-01"}
    )
    return str(data["createGroup"]["id"])


async def test_mutations_answer_and_their_events_reach_the_region_stream(node):
    group = (
        await node.ok(
            CREATE,
            input={"name": "Oulu core group", "municipality": "Oulu", "foundedOn": "2016-03-01"},
        )
    )["createGroup"]
    assert {k: group[k] for k in ("name", "municipality", "foundedOn")} == {
        "name": "Oulu core group",
        "municipality": "Oulu",
        "foundedOn": "2016-03-01",
    }
    member = (await node.ok(ADD, input=member_input(group["id"])))["addMember"]
    assert member["groupId"] == group["id"]
    assert (member["companyName"], member["employees"], member["active"]) == ("Paja Oy", 4, True)
    left = (await node.ok(LEAVE, input={"memberId": member["id"], "leftOn": "2019-12-31"}))[
        "memberLeaves"
    ]
    assert left == {"id": member["id"], "leftOn": "2019-12-31", "active": False}

    await wait_for(lambda: node.published(3), timeout=15, message="3 events in " + STREAM)
    events = await node.stream_events()
    assert [msg_id for msg_id, _ in events] == [str(e.envelope.event_id) for _, e in events]
    assert [
        (type(e.event), str(e.envelope.aggregate_id), e.envelope.sequence, e.envelope.region)
        for _, e in events
    ] == [
        (GroupCreated, group["id"], 1, REGION),
        (MemberJoined, member["id"], 1, REGION),
        (MemberLeft, member["id"], 2, REGION),
    ]
    joined = events[1][1]
    assert "Paja" not in joined.envelope.model_dump_json()  # the name stays in the region
    assert "0112038" not in joined.envelope.model_dump_json()


async def test_a_refused_member_emits_nothing(node):
    group_id = await create_group(node)
    await wait_for(lambda: node.published(1), timeout=15, message="GroupCreated published")

    body = await node.graphql(ADD, input=member_input(group_id, employees=11))
    assert body["data"] is None
    extensions = body["errors"][0]["extensions"]
    assert (extensions["code"], extensions["field"]) == ("NOT_A_MICRO_ENTERPRISE", "employees")
    assert extensions["params"] == {"employees": 11, "limit": 10}
    assert "11 employees" in body["errors"][0]["message"]
    assert await node.pending() == 0

    # The relay publishes in outbox order: had the refusal staged anything, it would come
    # before the event of this later, accepted change.
    accepted = (await node.ok(ADD, input=member_input(group_id)))["addMember"]
    await wait_for(lambda: node.published(2), timeout=15, message="MemberJoined published")
    events = await node.stream_events()
    assert [(type(e.event), str(e.envelope.aggregate_id)) for _, e in events[1:]] == [
        (MemberJoined, accepted["id"])
    ]


async def test_with_nats_down_changes_wait_in_the_outbox_until_it_is_back(node):
    group_id = await create_group(node)
    await wait_for(lambda: node.published(1), timeout=15, message="GroupCreated published")
    relay = node.service.runtime.relay

    await node.leaf.astop()
    member = (await node.ok(ADD, input=member_input(group_id)))["addMember"]
    assert member["active"] is True
    health = (await node.client.get("/healthz")).json()
    assert health.items() >= {"service": "groups", "region": REGION, "outbox_pending": 1}.items()
    failures = relay.stats.failed_attempts
    await wait_for(
        lambda: relay.stats.failed_attempts > failures, timeout=20, message="a failed relay pass"
    )
    assert await node.pending() == 1

    await node.leaf.astart()
    await wait_for(lambda: node.published(2), timeout=30, message="the outbox drained")
    msg_id, event = (await node.stream_events())[1]
    assert isinstance(event.event, MemberJoined)
    assert str(event.envelope.aggregate_id) == member["id"]
    assert msg_id == str(event.envelope.event_id)


async def test_names_stay_in_the_region_and_are_masked_even_after_erasure(node):
    """A member added as an agency writes it (1.4.2016, industry 62.01), its contact found by
    an accent-free search, erased, and still masked in a memo; no name reaches the stream."""
    group_id = await create_group(node)
    member = (
        await node.ok(ADD, input=member_input(group_id, joinedOn="1.4.2016", industryCode="62.01"))
    )["addMember"]
    person = await node.ok(
        'mutation($m: UUID!) { addContact(memberId: $m, name: "Åsa Öberg", '
        'email: "asa@paja.example.fi") { id } }',
        m=member["id"],
    )
    person_id = person["addContact"]["id"]
    found = await node.ok('query { searchMembers(text: "asa oberg") { total } }')
    assert found["searchMembers"]["total"] == 1
    await node.ok("mutation($p: UUID!) { erasePerson(personId: $p) { erased } }", p=person_id)
    masked = await node.ok(
        'query { maskNames(text: "Kiitos Åsalle ja Paja Oy:lle") { text masked { name } } }'
    )
    assert masked["maskNames"] == {
        "text": "Kiitos [name] ja [company]:lle",
        "masked": [{"name": "Paja Oy"}, {"name": None}],
    }

    await wait_for(lambda: node.published(4), timeout=15, message="4 events in " + STREAM)
    events = [e for _, e in await node.stream_events()]
    assert [type(e.event) for e in events] == [
        GroupCreated, MemberJoined, PersonRegistered, PersonErased,
    ]  # fmt: skip
    joined = events[1].event
    assert isinstance(joined, MemberJoined)
    assert (joined.joined_on.isoformat(), joined.industry_code) == ("2016-04-01", "6201")
    wire = " ".join(e.envelope.model_dump_json() for e in events)
    for name in ("Åsa", "Öberg", "asa@", "Paja"):
        assert name not in wire
