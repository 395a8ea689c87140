"""A recording refusal names who blocks it: the meetings and groups services both really
running (separate processes, a real region leaf server, SQLite or PostgreSQL), meetings
asking groups over HTTP; with groups stopped the refusal falls back to member ids and says
why."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.natsserver import free_port
from deploy.supervisor import Supervisor
from tests.fixtures.credentials import CONSOLE_HEADERS
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats
REGION = "oulu"


async def gql(url: str, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=20, headers=CONSOLE_HEADERS) as http:
        response = await http.post(url, json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def ok(url: str, query: str, **variables: Any) -> dict[str, Any]:
    body = await gql(url, query, **variables)
    assert not body.get("errors"), body
    return dict(body["data"])


ADD_MEMBER = """mutation($g: UUID!, $name: String!) { addMember(input: {groupId: $g,
  companyName: $name, employees: 3, turnoverEur: 300000, joinedOn: "2020-01-01"}) { id } }"""
ADD_CONTACT = """mutation($m: UUID!, $name: String!) {
  addContact(memberId: $m, name: $name, email: "x@example.fi") { id } }"""
CONSENT = """mutation($p: UUID!) { giveConsent(input: {personId: $p, purpose: AUDIO_RECORDING,
  at: "2024-01-01T10:00:00Z"}) { id } }"""
RECORD = "mutation($m: UUID!) { markRecorded(input: {meetingId: $m}) { id recorded } }"


MEETING_NAMES = """query($m: UUID!) { meeting(id: $m) {
  hostCompanyName attendees { memberId companyName } rsvps { companyName } } }"""


async def names_where_a_person_needs_them(
    meetings_url: str, groups_url: str, group_id: str, meeting_id: str, paja: str, kala: str
) -> None:
    """suggestNextHost, the meeting, memos.md and the iCal feed name the companies."""
    suggested = await ok(
        meetings_url,
        """query($g: UUID!) { suggestNextHost(groupId: $g, on: "1.6.2024") {
          memberId companyName reason reasonCode } }""",
        g=group_id,
    )
    first, second = suggested["suggestNextHost"]
    assert (first["memberId"], first["companyName"], first["reasonCode"]) == (
        kala,
        "Kalatalo Ky",
        "HOST_NEVER_HOSTED",
    )
    assert (second["companyName"], second["reasonCode"]) == ("Paja Oy", "HOST_LONGEST_AGO")
    assert "14/05/2024" in second["reason"]
    named = (await ok(meetings_url, MEETING_NAMES, m=meeting_id))["meeting"]
    assert named["hostCompanyName"] == "Paja Oy"
    assert [a["companyName"] for a in named["attendees"]] == ["Paja Oy", "Kalatalo Ky"]
    await ok(
        meetings_url,
        """mutation($m: UUID!) { publishMemo(input: {meetingId: $m, summary: "Vienti."}) {
          id } }""",
        m=meeting_id,
    )
    base = meetings_url.removesuffix("/graphql")
    async with httpx.AsyncClient(timeout=20, headers=CONSOLE_HEADERS) as http:
        memos = (await http.get(f"{base}/groups/{group_id}/memos.md")).text
        assert "Host: Paja Oy. Attendance: 2." in memos
        assert paja not in memos
        upcoming = datetime.now(UTC) + timedelta(days=20)
        await ok(
            meetings_url,
            """mutation($g: UUID!, $h: UUID!, $at: DateTime!) { scheduleMeeting(input:
              {groupId: $g, hostMemberId: $h, theme: "Hinnoittelu", startsAt: $at}) { id } }""",
            g=group_id,
            h=kala,
            at=upcoming.isoformat(),
        )
        edited = await ok(
            groups_url,
            """mutation($m: UUID!) { updateMember(input: {memberId: $m,
              address: "Rantakatu 1, 90100 Oulu"}) { address } }""",
            m=kala,
        )
        assert edited["updateMember"]["address"] == "Rantakatu 1, 90100 Oulu"
        feed = (await http.get(f"{base}/calendar/group/{group_id}.ics")).text
    assert "LOCATION:Kalatalo Ky\\, Rantakatu 1\\, 90100 Oulu\r\n" in feed.replace("\r\n ", "")
    assert "premises of Kalatalo Ky." in feed


async def test_refusal_names_company_and_person_then_falls_back_to_ids(
    leaf_factory, make_database_url, tmp_path: Path
):
    leaf = await leaf_factory(REGION)
    sup = Supervisor(tmp_path / "logs")
    groups_port, meetings_port = free_port(), free_port()
    groups_url = f"http://127.0.0.1:{groups_port}/graphql"
    meetings_url = f"http://127.0.0.1:{meetings_port}/graphql"
    try:
        groups = sup.spawn_service(
            "groups", REGION, groups_port, await make_database_url("groups"), leaf.client_url
        )
        meetings = sup.spawn_service(
            "meetings",
            REGION,
            meetings_port,
            await make_database_url("meetings"),
            leaf.client_url,
            env={
                "MGN_MEETINGS_NATS_URL": leaf.client_url,
                "MGN_MEETINGS_GROUPS_URL": groups_url,
                "MGN_MEETINGS_GROUPS_TIMEOUT": "2",
            },
        )
        await asyncio.to_thread(groups.wait_healthy)
        await asyncio.to_thread(meetings.wait_healthy)

        group = await ok(
            groups_url,
            'mutation { createGroup(input: {name: "Oulu 1", foundedOn: "2015-01-01"}) { id } }',
        )
        group_id = group["createGroup"]["id"]
        paja = (await ok(groups_url, ADD_MEMBER, g=group_id, name="Paja Oy"))["addMember"]["id"]
        kala = (await ok(groups_url, ADD_MEMBER, g=group_id, name="Kalatalo Ky"))["addMember"]["id"]
        stina = (await ok(groups_url, ADD_CONTACT, m=paja, name="Stina Berg"))["addContact"]["id"]
        aino = (await ok(groups_url, ADD_CONTACT, m=kala, name="Aino Kala"))["addContact"]["id"]
        await ok(groups_url, CONSENT, p=aino)  # Kalatalo consents, Paja does not

        async def both_known() -> bool:
            body = await gql(
                meetings_url, "query($g: UUID!) { knownMembers(groupId: $g) { memberId } }",
                g=group_id,
            )  # fmt: skip
            return len((body.get("data") or {}).get("knownMembers") or []) == 2

        await wait_for(both_known, timeout=30, message="members reach the meetings replica")
        planned = await ok(
            meetings_url,
            """mutation($g: UUID!, $h: UUID!) { scheduleMeeting(input: {groupId: $g,
              hostMemberId: $h, theme: "Vienti", startsAt: "2024-05-14T15:00:00Z"}) { id } }""",
            g=group_id,
            h=paja,
        )
        meeting_id = planned["scheduleMeeting"]["id"]
        await ok(
            meetings_url,
            """mutation($m: UUID!, $a: [UUID!]!) {
              recordMeetingHeld(input: {meetingId: $m, attendeeMemberIds: $a}) { id } }""",
            m=meeting_id,
            a=[paja, kala],
        )

        async def refusal_for_paja_only() -> dict[str, Any] | None:
            body = await gql(meetings_url, RECORD, m=meeting_id)
            if not body.get("errors"):
                return None
            (error,) = body["errors"]
            member_ids = error["extensions"]["params"].get("member_ids")
            return error if member_ids == [paja] else None

        error = await wait_for(refusal_for_paja_only, timeout=30, message="consents applied")
        ext = error["extensions"]
        assert ext["code"] == "RECORDING_CONSENT_MISSING"
        assert "Paja Oy" in error["message"]
        assert "Stina Berg" in error["message"]
        assert "Kalatalo" not in error["message"]
        assert "Aino" not in error["message"]
        assert ext["params"]["names_note"] is None
        (card,) = ext["params"]["members"]
        assert card["code"] == "MEMBER_WITHOUT_CONSENT"
        assert card["field"] == "memberId"
        assert card["message"] == (
            "Paja Oy: 1 of 1 contact persons have not consented to audio recording (Stina Berg)."
        )
        assert card["params"]["member_id"] == paja
        assert card["params"]["company_name"] == "Paja Oy"
        assert card["params"]["person_ids"] == [stina]
        assert card["params"]["names"] == ["Stina Berg"]

        await names_where_a_person_needs_them(
            meetings_url, groups_url, group_id, meeting_id, paja, kala
        )

        await asyncio.to_thread(groups.stop)  # groups gone: ids, and a note saying why
        body = await gql(meetings_url, RECORD, m=meeting_id)
        (error,) = body["errors"]
        ext = error["extensions"]
        assert ext["code"] == "RECORDING_CONSENT_MISSING"
        assert ext["params"]["member_ids"] == [paja]
        assert f"{paja}: 1 of 1 contact persons" in error["message"]
        assert "Paja Oy" not in error["message"]
        assert groups_url in ext["params"]["names_note"]
        (card,) = ext["params"]["members"]
        assert card["params"]["company_name"] is None
        assert card["params"]["person_ids"] == [stina]
        assert card["params"]["names"] == [stina]  # shown by id
        assert meetings.running  # the meetings service carries on
        unnamed = await ok(meetings_url, MEETING_NAMES, m=meeting_id)
        assert unnamed["meeting"]["hostCompanyName"] is None  # no name, no failure
        assert unnamed["meeting"]["attendees"][0]["memberId"] == paja
    finally:
        await asyncio.to_thread(sup.stop)
    assert sup.running_pids() == []
