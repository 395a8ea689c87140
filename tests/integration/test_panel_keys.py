"""The panel's person keys across the federation: made in the region, never the person id.

Two regions (oulu, lappi) each run their feedback service on their own leaf server; the
groups service is simulated (its MemberJoined and PersonRegistered published into the
region's stream, as its outbox relay does) so that both regions know **the same person id**.
Interviews recorded through each region's API travel over the leafnode links into NATIONAL
and the gateway. Checked: no feedback event in NATIONAL and nothing in the gateway's read
model carries the person id; one person's two interviews in a region share one key; the same
person id gets another key in the other region; the person's erasure in oulu drops oulu's
keys nationally (the interviews stay, unlinked) and leaves lappi's.

The groups events themselves (PersonRegistered, PersonErased) do carry the person id into
NATIONAL, as before: they are not the panel's, and the gateway keeps nothing of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy import select

from services.feedback.app import build as build_feedback
from services.feedback.contacts import StaticContactDirectory
from services.feedback.handlers import send_region_keys
from services.feedback.orm import InterviewRow, ReplicaPersonRow
from services.feedback.settings import FeedbackSettings
from services.gateway.app import build as build_gateway
from services.gateway.orm import metadata as gateway_metadata
from services.gateway.settings import GatewaySettings
from shared.contracts import (
    Event,
    InterviewRecordedV1,
    MemberJoined,
    PersonErased,
    PersonRegistered,
    decode,
    encode,
    make_envelope,
    subject_for,
)
from shared.messaging.jetstream import NATIONAL_STREAM, add_region_source, ensure_national_stream
from tests.fixtures.credentials import CONSOLE_HEADERS
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats

REGIONS = ("oulu", "lappi")
RECORD = """mutation($input: RecordInterviewInput!) { recordInterview(input: $input) { id } }"""
PANEL = "{ panelInterviews(first: 100) { items { id personKey wave region interviewedOn } } }"


async def publish(js: JetStreamContext, region: str, event: Event, aggregate: UUID) -> None:
    envelope = make_envelope(event, region=region, aggregate_id=aggregate, sequence=1)
    await js.publish(
        subject_for(envelope), encode(envelope), headers={"Nats-Msg-Id": envelope.msg_id}
    )


async def national_messages(js: JetStreamContext) -> list[tuple[str, bytes]]:
    """Every message NATIONAL holds, as (subject, body)."""
    sub = await js.pull_subscribe(
        "mgn.>",
        stream=NATIONAL_STREAM,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
    )
    found: list[tuple[str, bytes]] = []
    try:
        while True:
            try:
                msgs = await sub.fetch(200, timeout=1)
            except TimeoutError:
                break
            found.extend((m.subject, m.data) for m in msgs)
    finally:
        await sub.unsubscribe()
    return found


class Region:
    def __init__(self, name: str, api: httpx.AsyncClient, js: JetStreamContext, service):
        self.name, self.api, self.js, self.service = name, api, js, service

    async def knows(self, person: UUID) -> bool:
        async with self.service.runtime.sessions() as session:
            return await session.get(ReplicaPersonRow, person) is not None

    async def interview(self, member: UUID, person: UUID, on: str, grow: str) -> str:
        body = (
            await self.api.post(
                "/graphql",
                json={
                    "query": RECORD,
                    "variables": {
                        "input": {
                            "memberId": str(member),
                            "personId": str(person),
                            "interviewedOn": on,
                            "intendsToGrow": grow,
                            "plannedHires": 1,
                        }
                    },
                },
            )
        ).json()
        assert not body.get("errors"), body
        return str(body["data"]["recordInterview"]["id"])


@pytest.fixture
async def federation(
    nats_hub, leaf_factory, nats_connect, make_database_url
) -> AsyncIterator[tuple[dict[str, Region], Any, JetStreamContext]]:
    hub_js = (await nats_connect(nats_hub)).jetstream()
    await ensure_national_stream(hub_js)
    async with AsyncExitStack() as stack:
        regions: dict[str, Region] = {}
        for name in REGIONS:
            leaf = await leaf_factory(name)
            await add_region_source(hub_js, name)
            service = build_feedback(
                FeedbackSettings(
                    region=name,
                    database_url=await make_database_url(f"feedback_{name}"),
                    nats_url=leaf.client_url,
                    replica_batch_size=10,
                ),
                directory=StaticContactDirectory(),
            )
            await stack.enter_async_context(service.app.router.lifespan_context(service.app))
            api = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=service.app),
                base_url="http://feedback",
                headers=CONSOLE_HEADERS,
            )
            await stack.enter_async_context(api)
            js = (await nats_connect(leaf)).jetstream()
            regions[name] = Region(name, api, js, service)
        gateway = build_gateway(
            GatewaySettings(
                database_url=await make_database_url("gateway"), nats_url=nats_hub.client_url
            )
        )
        await stack.enter_async_context(gateway.app.router.lifespan_context(gateway.app))
        yield regions, gateway, hub_js


async def test_keys_are_made_in_the_region_and_the_nation_never_gets_the_person_id(federation):
    regions, gateway, hub_js = federation
    person = uuid4()  # the same id in both regions: their keys must still differ
    members = {name: uuid4() for name in REGIONS}
    for name, region in regions.items():
        member = members[name]
        joined = MemberJoined(
            member_id=member, group_id=uuid4(), joined_on=date(2020, 1, 1), employees=2
        )
        await publish(region.js, name, joined, member)
        registered = PersonRegistered(person_id=person, member_id=member, language="fi")
        await publish(region.js, name, registered, person)
    for region in regions.values():
        await wait_for(partial(region.knows, person), timeout=30, message="person replicated")

    oulu, lappi = regions["oulu"], regions["lappi"]
    first = await oulu.interview(members["oulu"], person, "2021-05-01", "YES")
    second = await oulu.interview(members["oulu"], person, "2022-05-01", "UNSURE")
    other = await lappi.interview(members["lappi"], person, "2021-08-01", "NO")

    nation = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), base_url="http://g")

    async def panel(keyed: int) -> dict[str, dict[str, Any]] | None:
        body = (await nation.post("/graphql", json={"query": PANEL})).json()
        assert not body.get("errors"), body
        items = {i["id"]: i for i in body["data"]["panelInterviews"]["items"]}
        return items if sum(1 for i in items.values() if i["personKey"]) == keyed else None

    async with nation:
        rows = await wait_for(lambda: panel(3), timeout=60, message="3 keyed interviews")
        assert rows[first]["personKey"] == rows[second]["personKey"]
        assert (rows[first]["wave"], rows[second]["wave"]) == (1, 2)
        assert rows[other]["personKey"] != rows[first]["personKey"]
        assert (rows[first]["region"], rows[other]["region"]) == ("oulu", "lappi")

        # NATIONAL: the interview events carry the key, never the person id
        messages = await national_messages(hub_js)
        interviews = [
            decode(body, subject) for subject, body in messages if ".feedback." in subject
        ]
        assert len(interviews) == 3
        for decoded in interviews:
            assert decoded.envelope.schema_version == 2
            assert "person_id" not in decoded.envelope.payload
        for _subject, body in [m for m in messages if ".feedback." in m[0]]:
            assert str(person).encode() not in body
            assert person.hex.encode() not in body
        keys = {str(d.event.interview_id): d.event.person_key for d in interviews}  # type: ignore[attr-defined]
        assert keys == {i: rows[i]["personKey"] for i in (first, second, other)}
        # the gateway's read model: no person id anywhere (its consumer's own bookkeeping
        # of processed events names the groups events' aggregates, the persons: not counted)
        dump = await _read_model_text(gateway)
        assert str(person) not in dump
        assert person.hex not in dump

        # erasure in oulu: oulu's interviews lose their key nationally, lappi's keeps it
        erased = PersonErased(
            person_id=person, member_id=members["oulu"], erased_at=datetime.now(UTC)
        )
        envelope = make_envelope(erased, region="oulu", aggregate_id=person, sequence=2)
        await oulu.js.publish(
            subject_for(envelope), encode(envelope), headers={"Nats-Msg-Id": envelope.msg_id}
        )
        after = await wait_for(lambda: panel(1), timeout=60, message="oulu's keys dropped")
        assert [i for i, row in after.items() if row["personKey"]] == [other]
        assert after[other]["personKey"] == rows[other]["personKey"]
        assert {after[first]["personKey"], after[second]["personKey"]} == {None}
        assert set(after) == {first, second, other}  # the interviews stay


async def test_an_interview_recorded_before_the_upgrade_gets_the_regions_key(federation):
    """An interview recorded as version 1 (the gateway keyed it) and a later one of the same
    person (keyed in the region) first show two keys; when the upgraded service starts, it
    sends the old one's regional key once, and the person has one key in the panel."""
    regions, gateway, _hub_js = federation
    oulu = regions["oulu"]
    person, member, old = uuid4(), uuid4(), uuid4()
    joined = MemberJoined(
        member_id=member, group_id=uuid4(), joined_on=date(2019, 1, 1), employees=3
    )
    await publish(oulu.js, "oulu", joined, member)
    await publish(oulu.js, "oulu", PersonRegistered(person_id=person, member_id=member), person)
    await wait_for(partial(oulu.knows, person), timeout=30, message="person replicated")
    # what the service before the upgrade wrote: its row (migration 0005 marks it not keyed
    # in the region) and its version-1 event with the person id
    async with oulu.service.runtime.sessions() as session:
        session.add(
            InterviewRow(
                id=old,
                member_id=member,
                person_id=person,
                interviewed_on=date(2020, 3, 1),
                intends_to_grow="yes",
                planned_hires=1,
                barriers="",
                recorded_at=datetime(2020, 3, 2, tzinfo=UTC),
                keyed_in_region=False,
            )
        )
        await session.commit()
    v1 = InterviewRecordedV1(
        interview_id=old,
        member_id=member,
        interviewed_on=date(2020, 3, 1),
        intends_to_grow="yes",
        planned_hires=1,
        person_id=person,
    )
    await publish(oulu.js, "oulu", v1, old)
    new = await oulu.interview(member, person, "2021-03-01", "UNSURE")

    nation = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), base_url="http://g")

    async def keys() -> dict[str, str | None]:
        body = (await nation.post("/graphql", json={"query": PANEL})).json()
        assert not body.get("errors"), body
        return {i["id"]: i["personKey"] for i in body["data"]["panelInterviews"]["items"]}

    async def both_keyed(same: bool) -> dict[str, str | None] | None:
        found = await keys()
        old_key, new_key = found.get(str(old)), found.get(new)
        if old_key is None or new_key is None:
            return None
        return found if (old_key == new_key) is same else None

    async with nation:
        before = await wait_for(lambda: both_keyed(False), timeout=60, message="two keys")
        # the upgraded service starts on the same database: it sends the old key once
        restarted = build_feedback(oulu.service.settings, directory=StaticContactDirectory())
        async with restarted.app.router.lifespan_context(restarted.app):
            after = await wait_for(lambda: both_keyed(True), timeout=60, message="one key")
            assert after[new] == before[new]  # the region's key, unchanged
            assert after[str(old)] == before[new]
            again = await send_region_keys(restarted.runtime.unit_of_work, restarted.node)
            assert again == 0  # once
        async with oulu.service.runtime.sessions() as session:
            row = await session.get(InterviewRow, old)
            assert row is not None
            assert (row.keyed_in_region, row.version) == (True, 2)


async def _read_model_text(gateway: Any) -> str:
    skip = {"processed_events", "processed_marks"}
    parts: list[str] = []
    async with gateway.sessions() as session:
        for table in gateway_metadata.sorted_tables:
            if table.name not in skip:
                parts.extend(str(tuple(row)) for row in await session.execute(select(table)))
    return "\n".join(parts)
