"""The issue's core path, end to end in one process: a regional write through the groups and
meetings APIs, over a real leaf server and the real leafnode link to the hub, into NATIONAL,
projected by the gateway and visible in national GraphQL — on SQLite and on PostgreSQL."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from services.gateway.app import build as build_gateway
from services.gateway.settings import GatewaySettings
from services.groups.app import build as build_groups
from services.groups.settings import GroupsSettings
from services.meetings.app import build as build_meetings
from services.meetings.settings import MeetingsSettings
from shared.directory import GroupsDirectory
from shared.messaging.jetstream import add_region_source, ensure_national_stream
from tests.fixtures.credentials import TEST_CREDENTIALS, headers_for
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        body = (
            await self.client.post("/graphql", json={"query": query, "variables": variables})
        ).json()
        assert not body.get("errors"), body["errors"]
        return body["data"]


async def _serve(stack: AsyncExitStack, app) -> Api:
    await stack.enter_async_context(app.router.lifespan_context(app))
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers_for(app)
    )
    await stack.enter_async_context(client)
    return Api(client)


async def test_a_regional_write_arrives_in_national_graphql(
    nats_hub, leaf_factory, nats_connect, make_database_url
):
    leaf = await leaf_factory("oulu")
    hub_js = (await nats_connect(nats_hub)).jetstream()
    await ensure_national_stream(hub_js)
    await add_region_source(hub_js, "oulu")

    async with AsyncExitStack() as stack:
        groups_app = build_groups(
            GroupsSettings(
                region="oulu",
                database_url=await make_database_url("groups"),
                nats_url=leaf.client_url,
            )
        ).app
        groups = await _serve(stack, groups_app)
        # the meetings service asks the groups service for names (to mask memos)
        directory = GroupsDirectory(
            "http://groups/graphql",
            transport=httpx.ASGITransport(app=groups_app),
            headers=TEST_CREDENTIALS.headers("meetings"),  # the meetings service's own
        )
        meetings = await _serve(
            stack,
            build_meetings(
                MeetingsSettings(
                    region="oulu",
                    database_url=await make_database_url("meetings"),
                    nats_url=leaf.client_url,
                ),
                directory=directory,
            ).app,
        )
        nation = await _serve(
            stack,
            build_gateway(
                GatewaySettings(
                    database_url=await make_database_url("gateway"), nats_url=nats_hub.client_url
                )
            ).app,
        )

        group = (
            await groups(
                "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }",
                i={"name": "Oulu core group", "municipality": "Oulu", "foundedOn": "2015-02-01"},
            )
        )["createGroup"]["id"]
        members = []
        for name, employees in [
            ("Kallio Puusepät Oy", 3),
            ("Revontuli Design Tmi", 0),
            ("Pohjan Leipomo Oy", 8),
        ]:
            members.append(
                (
                    await groups(
                        "mutation($i: AddMemberInput!) { addMember(input: $i) { id } }",
                        i={
                            "groupId": group,
                            "companyName": name,
                            "employees": employees,
                            "turnoverEur": 400_000,
                            "joinedOn": "2015-02-01",
                        },
                    )
                )["addMember"]["id"]
            )

        async def replica_has_members() -> bool:
            known = await meetings(
                "query($g: UUID!) { knownMembers(groupId: $g) { memberId } }", g=group
            )
            return len(known["knownMembers"]) == 3

        await wait_for(replica_has_members, timeout=20, message="meetings' member replica")
        meeting = (
            await meetings(
                "mutation($i: ScheduleMeetingInput!) { scheduleMeeting(input: $i) { id } }",
                i={
                    "groupId": group,
                    "hostMemberId": members[0],
                    "theme": "Pricing",
                    "startsAt": "2015-03-12T17:30:00+02:00",
                },
            )
        )["scheduleMeeting"]["id"]
        await meetings(
            "mutation($i: RecordMeetingHeldInput!) { recordMeetingHeld(input: $i) { id } }",
            i={"meetingId": meeting, "attendeeMemberIds": members},
        )

        query = """{
          regions { id displayName lastEventAt eventsApplied }
          meetings(region: "oulu", first: 10) {
            totalCount
            edges { node { id theme status attendanceCount host { id } } }
          }
          members(region: "oulu", first: 10) { totalCount }
        }"""

        async def national_view() -> dict[str, Any] | None:
            data = await nation(query)
            node = data["meetings"]["edges"][0]["node"] if data["meetings"]["edges"] else None
            return data if node and node["status"] == "HELD" else None

        data = await wait_for(national_view, timeout=30, message="the meeting in national GraphQL")
        assert data["meetings"]["totalCount"] == 1
        node = data["meetings"]["edges"][0]["node"]
        assert node["id"] == meeting
        assert node["theme"] == "Pricing"
        assert node["attendanceCount"] == 3
        assert node["host"]["id"] == members[0]
        assert data["members"]["totalCount"] == 3
        [region] = data["regions"]
        assert region["id"] == "oulu"
        assert region["displayName"] == "Oulu"
        assert region["lastEventAt"] is not None
        # announced + group created + 3 members joined + meeting scheduled + meeting held
        assert region["eventsApplied"] == 7

        # attendance corrected after the fact: the nation's count and research facts follow
        corrected = await meetings(
            """mutation($i: CorrectAttendanceInput!) {
              correctAttendance(input: $i) { attendanceCount attendeeMemberIds } }""",
            i={"meetingId": meeting, "attendeeMemberIds": members[:2]},
        )
        assert corrected["correctAttendance"]["attendanceCount"] == 2
        after = """{
          meetings(region: "oulu", first: 10) {
            edges { node { status attendanceCount attendeeIds } } }
          meetingsOverTime(region: "oulu") { month meetingsHeld attendees }
        }"""

        async def corrected_nationally() -> dict[str, Any] | None:
            # each field reads in a session of its own: in one answer the meeting can show
            # the correction while the month was read a moment before it was committed
            data = await nation(after)
            node = data["meetings"]["edges"][0]["node"]
            months = data["meetingsOverTime"]
            done = node["attendanceCount"] == 2 and [m["attendees"] for m in months] == [2]
            return data if done else None

        data = await wait_for(corrected_nationally, timeout=30, message="the correction applied")
        node = data["meetings"]["edges"][0]["node"]
        assert node["status"] == "HELD"
        assert sorted(node["attendeeIds"]) == sorted(members[:2])
        (month,) = data["meetingsOverTime"]
        assert (month["meetingsHeld"], month["attendees"]) == (1, 2)

        # a memo naming a person and a member company: the region keeps it as written, the
        # nation reads it with the names masked
        await groups(
            """mutation($m: UUID!) { addContact(memberId: $m, name: "Åsa Öberg",
              email: "asa@example.fi") { id } }""",
            m=members[0],
        )
        text = "Åsa Öberg showed Kallio Puusepät Oy's price list; Pohjan Leipomo will copy it."
        preview = await meetings(
            """query($t: String!) { memoMaskPreview(text: $t) {
              text masked { kind name occurrences } } }""",
            t=text,
        )
        shown = preview["memoMaskPreview"]
        assert "Åsa" not in shown["text"]
        assert "Kallio" not in shown["text"]
        assert {(m["kind"], m["name"]) for m in shown["masked"]} >= {
            ("PERSON", "Åsa Öberg"),
            ("COMPANY", "Kallio Puusepät Oy"),
        }
        published = await meetings(
            """mutation($i: PublishMemoInput!) { publishMemo(input: $i) { memo { summary } } }""",
            i={"meetingId": meeting, "summary": text},
        )
        assert published["publishMemo"]["memo"]["summary"] == text  # the region's original
        memo_query = """{ meetings(region: "oulu", first: 10) {
            edges { node { memo { summary } } } } }"""

        async def memo_nationally() -> str | None:
            node = (await nation(memo_query))["meetings"]["edges"][0]["node"]
            return node["memo"]["summary"] if node["memo"] else None

        national = await wait_for(memo_nationally, timeout=30, message="the memo in the nation")
        assert national == shown["text"]
        for name in ("Åsa", "Öberg", "Kallio", "Puusepät", "Pohjan Leipomo"):
            assert name not in national
        assert "[name]" in national
        assert "[company]" in national
