"""shared.directory: the one client of the groups service's GraphQL API (unit level, with an
in-memory HTTP transport; the real groups service is asked in the integration tests)."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID, uuid4

import httpx
import pytest

from services.meetings.domain import Names, RecordingProblem
from services.meetings.settings import MeetingsSettings
from shared.directory import MEMBERS_AT_ONCE, DirectoryError, GroupsDirectory, MemberCard
from shared.errors.meetings import RecordingConsentMissing
from tests.fixtures.closing_server import closing_server

URL = "http://groups/graphql"


def directory(handler) -> GroupsDirectory:
    return GroupsDirectory(
        URL, timeout=1, setting="MGN_X_GROUPS_URL", transport=httpx.MockTransport(handler)
    )


async def test_members_asks_once_for_every_member_and_skips_unknown_and_erased():
    known, unknown, person, erased = uuid4(), uuid4(), uuid4(), uuid4()
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        contacts = [
            {"id": str(person), "name": "Stina Berg", "erased": False},
            {"id": str(erased), "name": None, "erased": True},
        ]
        found = {"id": str(known), "companyName": "Paja Oy", "contacts": contacts}
        return httpx.Response(200, json={"data": {"membersByIds": [found]}})

    cards = await directory(handler).members([known, unknown, known])
    assert cards == {known: MemberCard(known, "Paja Oy", {person: "Stina Berg"})}
    (asked,) = seen
    assert "membersByIds(ids: $ids)" in str(asked["query"])
    assert asked["variables"] == {"ids": [str(known), str(unknown)]}  # each once
    assert await directory(handler).members([]) == {}
    assert len(seen) == 1  # nothing to ask: no request


async def test_company_names_only_do_not_ask_for_the_contacts():
    """The meetings service's names of a page need no contact persons (nor histories): the
    groups service is not asked to load them."""
    member = uuid4()
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content)["query"])
        found: dict[str, object] = {
            "id": str(member),
            "companyName": "Paja Oy",
            "address": "Rantakatu 1",
        }
        if "memberCompanies" in asked[-1]:
            return httpx.Response(200, json={"data": {"memberCompanies": [found]}})
        return httpx.Response(200, json={"data": {"membersByIds": [{**found, "contacts": []}]}})

    cards = await directory(handler).members([member], persons=False)
    assert cards == {member: MemberCard(member, "Paja Oy", {}, address="Rantakatu 1")}
    assert "contacts" not in asked[0]
    assert "memberCompanies(ids: $ids)" in asked[0]  # three columns, not whole members
    await directory(handler).members([member])
    assert "contacts" in asked[1]


async def test_more_members_than_one_query_may_ask_for_are_asked_in_parts():
    ids = [uuid4() for _ in range(MEMBERS_AT_ONCE + 1)]
    asked: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        chunk = json.loads(request.content)["variables"]["ids"]
        asked.append(chunk)
        found = [{"id": i, "companyName": f"Oy {i[:4]}", "contacts": []} for i in chunk]
        return httpx.Response(200, json={"data": {"membersByIds": found}})

    cards = await directory(handler).members(ids)
    assert [len(chunk) for chunk in asked] == [MEMBERS_AT_ONCE, 1]
    assert set(cards) == set(ids)


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (httpx.Response(503), "HTTP 503"),
        (httpx.Response(200, content=b"<html>"), "no JSON"),
        (httpx.Response(200, json={"errors": [{"message": "boom"}]}), "boom"),
        (httpx.Response(200, json={"data": {"membersByIds": [{"contacts": []}]}}), "unexpected"),
        (httpx.Response(200, json={"data": {}}), "unexpected"),
    ],
)
async def test_every_failure_is_a_directory_error_saying_what(response, match):
    with pytest.raises(DirectoryError, match=match):
        await directory(lambda _request: response).members([uuid4()])


async def test_timeouts_and_a_missing_url_are_named():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(DirectoryError, match="did not answer within 1 s"):
        await directory(slow).contacts(uuid4())
    with pytest.raises(DirectoryError, match="MGN_X_GROUPS_URL"):
        await GroupsDirectory("", setting="MGN_X_GROUPS_URL").members([uuid4()])


def test_a_named_refusal_lists_company_and_persons_and_an_unnamed_one_says_why():
    meeting, member, person = uuid4(), uuid4(), uuid4()
    problem = RecordingProblem(2, (person,))
    names = Names(members={member: "Paja Oy"}, persons={person: "Stina Berg"})
    named = RecordingConsentMissing(meeting, [problem.refusal(member, names)])
    assert "Paja Oy: 1 of 2 contact persons have not consented to audio recording " in (
        named.render("en")
    )
    assert "(Stina Berg)" in named.render("en")
    assert "Paja Oy: 1/2 yhteyshenkilöä" in named.render("fi") or "Paja Oy" in named.render("fi")
    (card,) = named.json_params()["members"]
    assert card["code"] == "MEMBER_WITHOUT_CONSENT"
    assert card["params"]["company_name"] == "Paja Oy"
    assert card["params"]["person_ids"] == [str(person)]
    assert card["params"]["names"] == ["Stina Berg"]
    note = "groups service at http://g did not answer within 3 s"
    unnamed = RecordingConsentMissing(meeting, [problem.refusal(member)], note)
    assert f"{member}: 1 of 2 contact persons" in unnamed.render("en")
    assert unnamed.json_params()["names_note"] == note
    assert unnamed.json_params()["members"][0]["params"]["company_name"] is None


def test_meetings_settings_for_the_groups_directory(monkeypatch):
    assert (MeetingsSettings().groups_url, MeetingsSettings().groups_timeout) == ("", 3.0)
    monkeypatch.setenv("MGN_MEETINGS_GROUPS_URL", URL)
    monkeypatch.setenv("MGN_MEETINGS_GROUPS_TIMEOUT", "0.5")
    settings = MeetingsSettings()
    assert (settings.groups_url, settings.groups_timeout) == (URL, 0.5)
    monkeypatch.setenv("MGN_MEETINGS_GROUPS_TIMEOUT", "0")
    with pytest.raises(ValueError, match="groups_timeout"):
        MeetingsSettings()
    fields = MeetingsSettings.model_fields
    assert fields["groups_url"].description
    assert fields["groups_timeout"].description


async def test_requests_reuse_one_kept_alive_connection():
    """The directory keeps its client (and connection) between requests instead of opening
    a new one per request (issue 9 part 10); closed by aclose."""
    connections = 0
    member = str(uuid4())
    answer = {"id": member, "companyName": "Paja Oy", "contacts": []}
    body = json.dumps({"data": {"membersByIds": [answer]}}).encode()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
            if not head:
                break
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    found = GroupsDirectory(f"http://127.0.0.1:{port}/graphql", timeout=5)
    try:
        for _ in range(3):
            assert (await found.members([UUID(member)])) != {}
        assert connections == 1
    finally:
        await found.aclose()
        server.close()
        await server.wait_closed()


async def test_a_kept_alive_connection_closed_by_the_server_is_asked_again_on_a_new_one():
    """The groups service (uvicorn) closes an idle connection while a request goes out on
    it (its keep-alive timeout): the read-only query is asked once more, on a new connection,
    instead of failing the memo with MEMO_MASKING_UNAVAILABLE (seen in the demo under load)."""
    body = json.dumps({"data": {"maskNames": {"text": "[nimi]", "masked": []}}}).encode()
    async with closing_server(body) as server:
        groups = GroupsDirectory(f"{server.url}/graphql")
        try:
            assert (await groups.mask_names("Anna")).text == "[nimi]"
            assert (await groups.mask_names("Anna")).text == "[nimi]"  # asked again, answered
            assert len(server.connections) == 2
            assert len(server.requests) == 3  # the second one twice
        finally:
            await groups.aclose()
