"""The gateway against a real hub nats-server: NATIONAL -> read model -> GraphQL.

NATIONAL here sources a test stream ``FEED`` (subjects ``mgn.>``) on the hub itself, so
the test publishes region events directly; whether NATIONAL's messages came across a
leafnode link does not matter to the gateway. (NATIONAL has no subjects of its own: the
gateway's ``ensure_national_stream`` would take them away again on every start.)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamConfig, StreamSource
from sqlalchemy.ext.asyncio import AsyncSession

from deploy.natsserver import NatsServer
from services.gateway.app import Gateway, build
from services.gateway.projections import project
from services.gateway.settings import GatewaySettings
from shared.contracts import (
    DecodedEvent,
    Envelope,
    Event,
    GroupCreated,
    MeetingHeld,
    MeetingScheduled,
    MemberJoined,
    MemberLeft,
    RegionAnnounced,
    encode,
    make_envelope,
    subject_for,
)
from shared.messaging.consumer import ConsumerStats
from shared.messaging.deadletter import REASON_HEADER, SUBJECT_HEADER
from shared.messaging.jetstream import DEADLETTER_STREAM, NATIONAL_STREAM
from tests.fixtures.db import DatabaseMaker
from tests.fixtures.nats import NatsConnect, wait_for

pytestmark = pytest.mark.nats

T0 = datetime(2024, 9, 2, 18, 0, tzinfo=UTC)
REGIONS_QUERY = """{ regions { id displayName lastEventAt eventsApplied
                     groupCount memberCount meetingCount } }"""
MEETINGS_QUERY = """query($after: String) { meetings(first: 5, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id region startsAt status attendanceCount group { name }
                          host { id } } } } }"""


class Region:
    """Builds one region's events with per-aggregate sequences, like its outbox would."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.envelopes: list[Envelope] = []
        self._seq: dict[uuid.UUID, int] = {}
        self.clock = T0

    def emit(self, event: Event, aggregate: uuid.UUID) -> Envelope:
        self._seq[aggregate] = seq = self._seq.get(aggregate, 0) + 1
        self.clock += timedelta(minutes=1)
        env = make_envelope(
            event, region=self.region, aggregate_id=aggregate, sequence=seq, occurred_at=self.clock
        )
        self.envelopes.append(env)
        return env

    def network(self, groups: int, members: int, meetings: int) -> None:
        self.emit(RegionAnnounced(display_name=self.region.title()), uuid.uuid4())
        for gi in range(groups):
            g = uuid.uuid4()
            self.emit(
                GroupCreated(group_id=g, name=f"{self.region} {gi}", founded_on=date(2015, 1, 1)), g
            )
            people = [uuid.uuid4() for _ in range(members)]
            for p in people:
                self.emit(
                    MemberJoined(member_id=p, group_id=g, joined_on=date(2015, 2, 1), employees=4),
                    p,
                )
            for mi in range(meetings):
                self.meeting(g, people, T0 + timedelta(days=30 * mi + gi))

    def meeting(self, group: uuid.UUID, people: list[uuid.UUID], starts: datetime) -> None:
        m = uuid.uuid4()
        self.emit(
            MeetingScheduled(
                meeting_id=m,
                group_id=group,
                host_member_id=people[0],
                theme="Growth",
                starts_at=starts,
            ),
            m,
        )
        self.emit(
            MeetingHeld(
                meeting_id=m, group_id=group, held_at=starts, attendee_member_ids=tuple(people[:3])
            ),
            m,
        )


async def publish(
    js: JetStreamContext, envelopes: Sequence[Envelope], *, msg_id: str | None = None
) -> None:
    for env in envelopes:
        await js.publish(
            subject_for(env), encode(env), headers={"Nats-Msg-Id": msg_id or env.msg_id}
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


async def regions(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in (await gql(client, REGIONS_QUERY))["regions"]}


async def applied(client: httpx.AsyncClient, expected: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Wait until every region shows exactly ``expected`` events applied; return regions."""

    async def check() -> dict[str, dict[str, Any]] | None:
        found = await regions(client)
        return found if {k: v["eventsApplied"] for k, v in found.items()} == expected else None

    found: dict[str, dict[str, Any]] = await wait_for(
        check, timeout=20, message=f"events applied {expected}"
    )
    return found


async def test_events_flow_to_graphql_once_despite_duplicates_poison_and_restarts(
    gateway: Gateway, hub_js: JetStreamContext
) -> None:
    oulu, kainuu = Region("oulu"), Region("kainuu")
    oulu.network(groups=2, members=4, meetings=4)  # 1 + 2 * (1 + 4 + 8) = 27 events
    kainuu.network(groups=1, members=5, meetings=4)  # 1 + 1 + 5 + 8 = 15 events
    await publish(hub_js, oulu.envelopes + kainuu.envelopes)

    async with running(gateway) as client:
        found = await applied(client, {"oulu": 27, "kainuu": 15})
        assert found["oulu"]["displayName"] == "Oulu"
        assert datetime.fromisoformat(found["oulu"]["lastEventAt"]) == oulu.clock
        assert datetime.fromisoformat(found["kainuu"]["lastEventAt"]) == kainuu.clock
        assert [found["oulu"][k] for k in ("groupCount", "memberCount", "meetingCount")] == [
            2,
            8,
            8,
        ]
        assert [found["kainuu"][k] for k in ("groupCount", "memberCount", "meetingCount")] == [
            1,
            5,
            4,
        ]

        # 12 meetings in pages of 5: 5 + 5 + 2, the same totalCount on every page
        pages, after = [], None
        while True:
            page = (await gql(client, MEETINGS_QUERY, after=after))["meetings"]
            pages.append(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert [len(p["edges"]) for p in pages] == [5, 5, 2]
        assert {p["totalCount"] for p in pages} == {12}
        nodes = [e["node"] for p in pages for e in p["edges"]]
        assert len({n["id"] for n in nodes}) == 12
        assert [n["startsAt"] for n in nodes] == sorted(n["startsAt"] for n in nodes)
        assert all(n["status"] == "HELD" and n["attendanceCount"] == 3 for n in nodes)
        assert all(n["group"]["name"] and n["host"]["id"] for n in nodes)

        # the same event again, past JetStream's dedupe (another Nats-Msg-Id): applied once
        duplicate = oulu.envelopes[5]
        await publish(hub_js, [duplicate], msg_id=f"again-{uuid.uuid4()}")
        await wait_for(
            lambda: stats(gateway).duplicates >= 1, timeout=15, message="the duplicate seen"
        )

        # poison: each is dead-lettered with its reason and the consumer carries on
        await hub_js.publish(
            "mgn.oulu.meetings.meeting.held", b"{not json", headers={"Nats-Msg-Id": "poison-1"}
        )
        unknown = make_envelope(
            RegionAnnounced(display_name="x"), region="oulu", aggregate_id=uuid.uuid4(), sequence=1
        )
        unknown = unknown.model_copy(update={"type": "groups.group.renamed"})
        await hub_js.publish(
            "mgn.oulu.groups.group.renamed",
            encode(unknown),
            headers={"Nats-Msg-Id": unknown.msg_id},
        )
        forged = Region("kainuu")
        forged.emit(
            GroupCreated(group_id=uuid.uuid4(), name="Forged", founded_on=date(2020, 1, 1)),
            uuid.uuid4(),
        )
        await hub_js.publish(
            "mgn.oulu.groups.group.created",
            encode(forged.envelopes[0]),
            headers={"Nats-Msg-Id": forged.envelopes[0].msg_id},
        )
        oulu.emit(
            MemberLeft(member_id=uuid.uuid4(), group_id=uuid.uuid4(), left_on=date(2024, 10, 1)),
            uuid.uuid4(),
        )
        await publish(hub_js, oulu.envelopes[-1:])
        found = await applied(client, {"oulu": 28, "kainuu": 15})
        assert found["kainuu"]["groupCount"] == 1  # the forged group did not land
        # exports name the snapshot: the last NATIONAL sequence applied (the MemberLeft)
        national = await hub_js.stream_info(NATIONAL_STREAM)
        catalogue = await client.get("/exports")
        assert catalogue.headers["x-mgn-snapshot-sequence"] == str(national.state.last_seq)
        assert catalogue.json()["snapshot"]["sequence"] == national.state.last_seq

        reasons = await deadletters(hub_js)
        assert sorted(reasons.values()) == ["malformed", "subject_mismatch", "unknown_type"]
        assert reasons["mgn.oulu.groups.group.created"] == "subject_mismatch"
        counted = stats(gateway)
        assert (counted.applied, counted.duplicates, counted.dead_lettered) == (28 + 15, 1, 3)

        health = (await client.get("/healthz")).json()
        assert health["status"] == "ok"
        assert health["consumer"]["dead_lettered"] == 3
        assert (await client.get("/", follow_redirects=False)).headers["location"] == "/graphql"
        ide = await client.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 200
        assert "graphiql" in ide.text.lower()

    # the gateway is down while the regions go on; one event arrives twice meanwhile
    kainuu.meeting(kainuu.envelopes[1].aggregate_id, [uuid.uuid4()] * 3, T0 + timedelta(days=1))
    await publish(hub_js, kainuu.envelopes[-2:])
    await publish(hub_js, kainuu.envelopes[-1:], msg_id=f"again-{uuid.uuid4()}")
    await publish(hub_js, oulu.envelopes[:3], msg_id=None)  # same ids: JetStream drops them

    async with running(gateway) as client:
        found = await applied(client, {"oulu": 28, "kainuu": 17})
        assert found["kainuu"]["meetingCount"] == 5
        assert (await gql(client, MEETINGS_QUERY))["meetings"]["totalCount"] == 13
        await wait_for(
            lambda: stats(gateway).duplicates == 1,
            timeout=10,
            message="the duplicate after the restart seen",
        )

    # and once more, with nothing new: a restart changes no count
    async with running(gateway) as client:
        again = await regions(client)
        assert {k: v["eventsApplied"] for k, v in again.items()} == {"oulu": 28, "kainuu": 17}
        assert again["oulu"]["memberCount"] == 8


async def test_stopping_mid_stream_loses_and_doubles_nothing(
    nats_hub: NatsServer,
    hub_js: JetStreamContext,
    make_database_url: DatabaseMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = GatewaySettings(
        database_url=await make_database_url("gateway"),
        nats_url=nats_hub.client_url,
        ack_wait=2.0,
        batch_size=40,
    )
    gateway = build(settings)
    lappi = Region("lappi")
    lappi.network(groups=6, members=20, meetings=40)  # 1 + 6 * (1 + 20 + 80) = 607 events
    await publish(hub_js, lappi.envelopes)

    async def slow_project(
        session: AsyncSession, events: Sequence[DecodedEvent]
    ) -> None:  # ~16 batches of 40: stop amid them
        await asyncio.sleep(0.05)  # inside the batch's transaction
        await project(session, events)

    monkeypatch.setattr("services.gateway.consumer.project", slow_project)
    async with running(gateway):
        await wait_for(
            lambda: stats(gateway).applied >= 80,
            timeout=20,
            interval=0.01,
            message="some events applied",
        )
    stopped_at = stats(gateway).applied
    assert 80 <= stopped_at < 607
    monkeypatch.undo()

    async with running(gateway) as client:
        found = await applied(client, {"lappi": 607})
        assert [found["lappi"][k] for k in ("groupCount", "memberCount", "meetingCount")] == [
            6,
            120,
            240,
        ]
        meetings = await gql(client, '{ meetings(region: "lappi", status: HELD) { totalCount } }')
        assert meetings["meetings"]["totalCount"] == 240
        assert stats(gateway).applied == 607 - stopped_at


def stats(gw: Gateway) -> ConsumerStats:
    assert gw.consumer is not None, "the gateway has not started"
    return gw.consumer.stats


async def deadletters(js: JetStreamContext) -> dict[str, str]:
    """Original subject -> reason header of every message in DEADLETTER."""
    info = await js.stream_info(DEADLETTER_STREAM)
    found: dict[str, str] = {}
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        headers = (await js.get_msg(DEADLETTER_STREAM, seq)).headers or {}
        found[headers[SUBJECT_HEADER]] = headers[REASON_HEADER]
    return found
