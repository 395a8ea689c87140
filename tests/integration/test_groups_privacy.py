"""The new groups events reach the region's stream through a real leaf server, and no message
carries personal data (names, emails, phones of entrepreneurs and facilitators, company names).

One process: the app with its lifespan (migrations, relay), GraphQL and the CSV endpoint over
ASGI, the test reading the stream with its own client. Both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from services.groups.app import build
from services.groups.settings import GroupsSettings
from shared.contracts import (
    ConsentGiven,
    ConsentWithdrawn,
    FacilitatorAssigned,
    FacilitatorRemoved,
    GroupCreated,
    MemberJoined,
    MemberPaused,
    MemberRejoined,
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
PERSONAL = [
    "Maija Meikäläinen",
    "maija@paja.fi",
    "+358 40 123 4567",
    "Liisa Laine",
    "liisa@oulu-pbas.fi",
    "Kalle Kauppinen",
    "kalle@verstas.fi",
    "Paja Oy",
    "Verstas Oy",
    "0112038-9",
]
CSV = (
    "company_name,employees,turnover_eur,joined_on,contact_name,contact_email,language\n"
    "Verstas Oy,2,150000,2016-05-01,Kalle Kauppinen,kalle@verstas.fi,sv\n"
)


class Node:
    def __init__(self, client: httpx.AsyncClient, js: JetStreamContext, pending: Any) -> None:
        self.client, self.js, self.pending = client, js, pending

    async def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        body = response.json()
        assert "errors" not in body, body["errors"]
        return dict(body["data"])

    async def published(self, count: int) -> bool:
        info = await self.js.stream_info(STREAM)
        return await self.pending() == 0 and info.state.messages == count

    async def messages(self) -> list[tuple[str, bytes]]:
        state = (await self.js.stream_info(STREAM)).state
        found = []
        for seq in range(state.first_seq, state.last_seq + 1):
            msg = await self.js.get_msg(STREAM, seq)
            assert msg.subject is not None
            assert msg.data is not None
            found.append((msg.subject, msg.data))
        return found


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
        node = Node(client, js, service.runtime.relay.pending_count)
        await wait_for(lambda: node.published(1), timeout=15, message="region announcement")
        [(subject, data)] = await node.messages()
        assert isinstance(decode(data, subject).event, RegionAnnounced)
        await js.purge_stream(STREAM)
        yield node


async def test_new_events_reach_the_stream_without_personal_data(node):
    group_id = (
        await node.ok(
            "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }",
            i={"name": "Oulu core group", "foundedOn": "2016-03-01"},
        )
    )["createGroup"]["id"]
    assign = """mutation($i: AssignFacilitatorInput!) {
      assignFacilitator(input: $i) { facilitators { id } } }"""
    [facilitator] = (
        await node.ok(
            assign,
            i={
                "groupId": group_id,
                "name": "Liisa Laine",
                "email": "liisa@oulu-pbas.fi",
                "role": "RESEARCHER",
            },
        )
    )["assignFacilitator"]["facilitators"]
    await node.ok(
        """mutation($i: RemoveFacilitatorInput!) { removeFacilitator(input: $i) { id } }""",
        i={"groupId": group_id, "facilitatorId": facilitator["id"]},
    )
    member_id = (
        await node.ok(
            "mutation($i: AddMemberInput!) { addMember(input: $i) { id } }",
            i={
                "groupId": group_id,
                "companyName": "Paja Oy",
                "businessId": "0112038-9",
                "employees": 3,
                "turnoverEur": 300_000,
                "joinedOn": "2016-04-01",
            },
        )
    )["addMember"]["id"]
    await node.ok(
        "mutation($i: PauseMemberInput!) { pauseMember(input: $i) { id } }",
        i={"memberId": member_id, "pausedOn": "2017-01-01", "reason": "parental leave"},
    )
    await node.ok(
        "mutation($i: RejoinMemberInput!) { rejoinMember(input: $i) { id } }",
        i={"memberId": member_id, "rejoinedOn": "2017-08-01"},
    )
    person_id = (
        await node.ok(
            """mutation($m: UUID!) { addContact(memberId: $m, name: "Maija Meikäläinen",
              email: "maija@paja.fi", phone: "+358 40 123 4567", language: FI) { id } }""",
            m=member_id,
        )
    )["addContact"]["id"]
    consent = "mutation($i: ConsentInput!) { giveConsent(input: $i) { id } }"
    for purpose in ("AUDIO_RECORDING", "RESEARCH_USE"):
        await node.ok(consent, i={"personId": person_id, "purpose": purpose})
    await node.ok(
        "mutation($i: ConsentInput!) { withdrawConsent(input: $i) { id } }",
        i={"personId": person_id, "purpose": "RESEARCH_USE"},
    )
    imported = await node.client.post(
        f"/import/members?group={group_id}",
        content=CSV.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert imported.status_code == 200
    assert (imported.json()["imported"], imported.json()["errors"]) == (1, [])
    await node.ok("mutation($p: UUID!) { erasePerson(personId: $p) { id } }", p=person_id)

    await wait_for(lambda: node.published(14), timeout=20, message="14 events in " + STREAM)
    messages = await node.messages()
    events = [decode(data, subject) for subject, data in messages]
    assert [type(e.event) for e in events] == [
        GroupCreated,
        FacilitatorAssigned,
        FacilitatorRemoved,
        MemberJoined,
        MemberPaused,
        MemberRejoined,
        PersonRegistered,
        ConsentGiven,
        ConsentGiven,
        ConsentWithdrawn,
        MemberJoined,
        PersonRegistered,
        ConsentWithdrawn,
        PersonErased,
    ]
    person_events = [e for e in events if str(e.envelope.aggregate_id) == person_id]
    assert [e.envelope.sequence for e in person_events] == [1, 2, 3, 4, 5, 6]
    assert {e.envelope.region for e in events} == {REGION}
    for subject, data in messages:
        body = data.decode()
        leaked = [word for word in PERSONAL if word in body or word in subject]
        assert not leaked, (subject, body)
