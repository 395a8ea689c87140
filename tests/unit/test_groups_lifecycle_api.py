"""GraphQL and HTTP API of lifecycle, facilitators, contacts, consent and the CSV import,
on both databases, without NATS (runtime not started)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.groups.app import build
from services.groups.orm import Base
from services.groups.settings import GroupsSettings
from shared.storage import create_schema
from tests.fixtures.credentials import CONSOLE_HEADERS

UNKNOWN = "00000000-0000-0000-0000-000000000009"
MEMBER_FIELDS = "id status active pausedOn leftOn history { kind on reason }"
PERSON_FIELDS = """id memberId name email phone language erased erasedAt
  consents { purpose given givenAt withdrawnAt } consentHistory { purpose action at }"""
ADD = "mutation($input: AddMemberInput!) { addMember(input: $input) { id } }"
PAUSE = (
    f"mutation($input: PauseMemberInput!) {{ pauseMember(input: $input) {{ {MEMBER_FIELDS} }} }}"
)
REJOIN = (
    f"mutation($input: RejoinMemberInput!) {{ rejoinMember(input: $input) {{ {MEMBER_FIELDS} }} }}"
)
LEAVE = (
    f"mutation($input: MemberLeavesInput!) {{ memberLeaves(input: $input) {{ {MEMBER_FIELDS} }} }}"
)
ASSIGN = """mutation($input: AssignFacilitatorInput!) {
  assignFacilitator(input: $input) { id facilitators { id name email role assignedOn } } }"""
REMOVE = """mutation($input: RemoveFacilitatorInput!) {
  removeFacilitator(input: $input) { id facilitators { id } } }"""
CONTACT = f"""mutation($m: UUID!, $name: String!, $email: String!, $phone: String!,
  $language: Language!) {{
  addContact(memberId: $m, name: $name, email: $email, phone: $phone, language: $language) {{
    {PERSON_FIELDS} }} }}"""
GIVE = f"mutation($input: ConsentInput!) {{ giveConsent(input: $input) {{ {PERSON_FIELDS} }} }}"
WITHDRAW = (
    f"mutation($input: ConsentInput!) {{ withdrawConsent(input: $input) {{ {PERSON_FIELDS} }} }}"
)
ERASE = f"mutation($p: UUID!) {{ erasePerson(personId: $p) {{ {PERSON_FIELDS} }} }}"
IMPORT = """mutation($g: UUID!, $csv: String!, $dry: Boolean! = false) {
  importMembers(groupId: $g, csv: $csv, dryRun: $dry) { imported dryRun errors { line reason }
    rows { line companyName businessId contactName } } }"""
CSV = (
    "company_name,business_id,employees,turnover_eur,joined_on,contact_name,contact_email\n"
    "Paja Oy,0112038-9,3,400000,2016-04-01,Maija,maija@paja.fi\n"
    "Verstas Oy,,2,150000,2016-05-01,,\n"
)


def code_and_field(error: dict[str, Any]) -> tuple[str, str | None]:
    """A refusal's code and field (its extensions carry its params too)."""
    return error["extensions"]["code"], error["extensions"]["field"]


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self(query, **variables)
        assert "errors" not in body, body["errors"]
        return dict(body["data"])

    async def refused(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self(query, **variables)
        assert body["data"] is None, body
        [error] = body["errors"]
        return dict(error)


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    service = build(GroupsSettings(region="oulu", database_url=database_url))
    await create_schema(service.runtime.engine, Base.metadata)
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://groups", headers=CONSOLE_HEADERS
    ) as client:
        yield Api(client)
    await service.runtime.engine.dispose()


async def make_group(api: Api) -> str:
    data = await api.ok(
        "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }",
        input={"name": "Oulu", "foundedOn": "2016-03-01"},
    )
    return str(data["createGroup"]["id"])


async def make_member(api: Api, group_id: str, **changes: Any) -> str:
    fields = {
        "groupId": group_id,
        "companyName": "Paja Oy",
        "businessId": "0112038-9",
        "employees": 4,
        "turnoverEur": 350_000,
        "joinedOn": "2016-04-01",
        **changes,
    }
    return str((await api.ok(ADD, input=fields))["addMember"]["id"])


async def make_person(api: Api, member_id: str) -> dict[str, Any]:
    data = await api.ok(
        CONTACT, m=member_id, name="Maija", email="maija@paja.fi", phone="", language="SV"
    )
    return dict(data["addContact"])


async def test_the_membership_lifecycle_and_its_history(api):
    member_id = await make_member(api, await make_group(api))
    paused = await api.ok(
        PAUSE, input={"memberId": member_id, "pausedOn": "2017-01-01", "reason": "leave"}
    )
    assert paused["pauseMember"]["status"] == "PAUSED"
    assert paused["pauseMember"]["pausedOn"] == "2017-01-01"
    await api.ok(LEAVE, input={"memberId": member_id, "leftOn": "2017-02-01"})
    back = (await api.ok(REJOIN, input={"memberId": member_id, "rejoinedOn": "2018-01-01"}))[
        "rejoinMember"
    ]
    assert (back["status"], back["active"], back["leftOn"]) == ("ACTIVE", True, None)
    data = await api.ok(
        "query($id: UUID!) { member(id: $id) { history { kind on reason } } }", id=member_id
    )
    assert data["member"]["history"] == [
        {"kind": "JOINED", "on": "2016-04-01", "reason": None},
        {"kind": "PAUSED", "on": "2017-01-01", "reason": "leave"},
        {"kind": "LEFT", "on": "2017-02-01", "reason": None},
        {"kind": "REJOINED", "on": "2018-01-01", "reason": None},
    ]


@pytest.mark.parametrize(
    ("first", "then", "code", "field"),
    [
        (LEAVE, PAUSE, "MEMBER_ALREADY_LEFT", "memberId"),
        (PAUSE, PAUSE, "MEMBER_ALREADY_PAUSED", "memberId"),
        (None, REJOIN, "MEMBER_ALREADY_ACTIVE", "memberId"),
    ],
)
async def test_lifecycle_refusals_have_codes(api, first, then, code, field):
    member_id = await make_member(api, await make_group(api))
    dates = {LEAVE: "leftOn", PAUSE: "pausedOn", REJOIN: "rejoinedOn"}
    if first is not None:
        await api.ok(first, input={"memberId": member_id, dates[first]: "2017-01-01"})
    error = await api.refused(then, input={"memberId": member_id, dates[then]: "2017-02-01"})
    assert code_and_field(error) == (code, field)


async def test_a_change_dated_before_the_last_one_is_refused(api):
    member_id = await make_member(api, await make_group(api))
    error = await api.refused(PAUSE, input={"memberId": member_id, "pausedOn": "2016-03-31"})
    assert code_and_field(error) == ("DATE_BEFORE_LAST_CHANGE", "pausedOn")
    assert error["extensions"]["params"]["last"] == "2016-04-01"
    assert "01/04/2016" in error["message"]


async def test_facilitators_are_assigned_shown_and_removed(api):
    group_id = await make_group(api)
    assigned = (
        await api.ok(
            ASSIGN,
            input={
                "groupId": group_id,
                "name": "Liisa Laine",
                "email": "liisa@oulu.fi",
                "role": "AGENCY_AGENT",
                "assignedOn": "2016-03-01",
            },
        )
    )["assignFacilitator"]
    [liisa] = assigned["facilitators"]
    assert {k: liisa[k] for k in ("name", "email", "role", "assignedOn")} == {
        "name": "Liisa Laine",
        "email": "liisa@oulu.fi",
        "role": "AGENCY_AGENT",
        "assignedOn": "2016-03-01",
    }
    again = {"groupId": group_id, "name": "L", "email": "liisa@oulu.fi", "role": "RESEARCHER"}
    error = await api.refused(ASSIGN, input=again)
    assert code_and_field(error) == ("FACILITATOR_ALREADY_ASSIGNED", "email")
    bad = {**again, "email": "liisa"}
    assert (await api.refused(ASSIGN, input=bad))["extensions"]["code"] == "INVALID_EMAIL"
    data = await api.ok("query($id: UUID!) { group(id: $id) { facilitators { id } } }", id=group_id)
    assert data["group"]["facilitators"] == [{"id": liisa["id"]}]
    removed = await api.ok(REMOVE, input={"groupId": group_id, "facilitatorId": liisa["id"]})
    assert removed["removeFacilitator"]["facilitators"] == []
    error = await api.refused(REMOVE, input={"groupId": group_id, "facilitatorId": liisa["id"]})
    assert code_and_field(error) == ("FACILITATOR_NOT_FOUND", "facilitatorId")


async def test_contacts_consent_and_erasure(api):
    member_id = await make_member(api, await make_group(api))
    person = await make_person(api, member_id)
    assert {k: person[k] for k in ("name", "email", "phone", "language", "erased")} == {
        "name": "Maija",
        "email": "maija@paja.fi",
        "phone": None,
        "language": "SV",
        "erased": False,
    }
    assert [c["given"] for c in person["consents"]] == [False, False, False]
    consent = {"personId": person["id"], "purpose": "AUDIO_RECORDING", "at": "2017-01-10T18:00:00Z"}
    given = (await api.ok(GIVE, input=consent))["giveConsent"]
    assert {c["purpose"]: c["given"] for c in given["consents"]} == {
        "RESEARCH_USE": False,
        "AUDIO_RECORDING": True,
        "CONTACT_SHARING": False,
    }
    assert given["consentHistory"][0]["action"] == "GIVEN"
    error = await api.refused(GIVE, input=consent)
    assert code_and_field(error) == ("CONSENT_ALREADY_GIVEN", "purpose")
    withdrawn = (await api.ok(WITHDRAW, input={**consent, "at": None}))["withdrawConsent"]
    assert [h["action"] for h in withdrawn["consentHistory"]] == ["GIVEN", "WITHDRAWN"]
    error = await api.refused(WITHDRAW, input=consent)
    assert code_and_field(error) == ("CONSENT_NOT_GIVEN", "purpose")

    erased = (await api.ok(ERASE, p=person["id"]))["erasePerson"]
    assert (erased["name"], erased["email"], erased["erased"]) == (None, None, True)
    assert erased["erasedAt"] is not None
    error = await api.refused(ERASE, p=person["id"])
    assert code_and_field(error) == ("PERSON_ERASED", "personId")
    data = await api.ok(
        "query($id: UUID!) { member(id: $id) { contacts { id erased name } } }", id=member_id
    )
    assert data["member"]["contacts"] == [{"id": person["id"], "erased": True, "name": None}]


async def test_contact_refusals_have_codes(api):
    member_id = await make_member(api, await make_group(api))
    vars_ = {"m": member_id, "name": "Maija", "email": "maija", "phone": "", "language": "FI"}
    error = await api.refused(CONTACT, **vars_)
    assert code_and_field(error) == ("INVALID_EMAIL", "email")
    error = await api.refused(CONTACT, **{**vars_, "email": "m@p.fi", "phone": "soita"})
    assert code_and_field(error) == ("INVALID_PHONE", "phone")
    error = await api.refused(CONTACT, **{**vars_, "email": "m@p.fi", "m": UNKNOWN})
    assert code_and_field(error) == ("MEMBER_NOT_FOUND", "memberId")
    consent = {"personId": UNKNOWN, "purpose": "RESEARCH_USE"}
    error = await api.refused(GIVE, input=consent)
    assert code_and_field(error) == ("PERSON_NOT_FOUND", "personId")


async def test_import_members_through_graphql(api):
    group_id = await make_group(api)
    bad = CSV + "Iso Oy,,12,100,2016-04-01,,\n"
    result = (await api.ok(IMPORT, g=group_id, csv=bad))["importMembers"]
    assert result["imported"] == 0
    assert [e["line"] for e in result["errors"]] == [4]
    assert "12 employees" in result["errors"][0]["reason"]
    checked = (await api.ok(IMPORT, g=group_id, csv=bad, dry=True))["importMembers"]
    assert ([e["line"] for e in checked["errors"]], checked["rows"]) == ([4], [])
    preview = (await api.ok(IMPORT, g=group_id, csv=CSV, dry=True))["importMembers"]
    assert (preview["imported"], preview["dryRun"], preview["errors"]) == (0, True, [])
    assert preview["rows"] == [
        {"line": 2, "companyName": "Paja Oy", "businessId": "0112038-9", "contactName": "Maija"},
        {"line": 3, "companyName": "Verstas Oy", "businessId": None, "contactName": None},
    ]
    nothing = await api.ok("query($id: UUID!) { members(groupId: $id) { id } }", id=group_id)
    assert nothing["members"] == []
    done = (await api.ok(IMPORT, g=group_id, csv=CSV))["importMembers"]
    assert (done["imported"], done["dryRun"], done["errors"]) == (2, False, [])
    assert [row["companyName"] for row in done["rows"]] == ["Paja Oy", "Verstas Oy"]
    data = await api.ok(
        "query($id: UUID!) { members(groupId: $id) { companyName contacts { email } } }",
        id=group_id,
    )
    assert data["members"] == [
        {"companyName": "Paja Oy", "contacts": [{"email": "maija@paja.fi"}]},
        {"companyName": "Verstas Oy", "contacts": []},
    ]
    error = await api.refused(IMPORT, g=group_id, csv="name,email\n")
    assert code_and_field(error) == ("INVALID_CSV", "csv")
    error = await api.refused(IMPORT, g=UNKNOWN, csv=CSV)
    assert code_and_field(error) == ("GROUP_NOT_FOUND", "groupId")


async def post_csv(api: Api, group: str, body: bytes, *, dry_run: bool = False) -> httpx.Response:
    return await api.client.post(
        f"/import/members?group={group}" + ("&dry_run=1" if dry_run else ""),
        content=body,
        headers={"Content-Type": "text/csv"},
    )


async def test_import_members_over_http(api):
    group_id = await make_group(api)
    bad = await post_csv(api, group_id, (CSV + "Iso Oy,,12,100,2016-04-01,,\n").encode())
    assert bad.status_code == 422
    assert bad.json()["imported"] == 0
    assert [e["line"] for e in bad.json()["errors"]] == [4]

    checked = await post_csv(api, group_id, CSV.encode(), dry_run=True)
    assert (checked.status_code, checked.json()["imported"]) == (200, 0)
    assert checked.json()["dryRun"] is True
    assert [(r["line"], r["companyName"]) for r in checked.json()["rows"]] == [
        (2, "Paja Oy"),
        (3, "Verstas Oy"),
    ]

    good = await post_csv(api, group_id, b"\xef\xbb\xbf" + CSV.encode())
    assert (good.status_code, good.json()["imported"], good.json()["errors"]) == (200, 2, [])
    assert good.json()["dryRun"] is False

    again = await post_csv(api, group_id, CSV.encode())
    assert again.status_code == 422
    assert [e["line"] for e in again.json()["errors"]] == [2]  # Paja Oy is a member already


@pytest.mark.parametrize(
    ("group", "body", "status", "code"),
    [
        ("not-a-uuid", CSV.encode(), 400, "INVALID_GROUP_ID"),
        (UNKNOWN, CSV.encode(), 404, "GROUP_NOT_FOUND"),
        (None, b"company_name;employees;joined_on\n", 400, "INVALID_CSV"),
        (None, "Pajå".encode("latin-1"), 400, "INVALID_CSV"),
    ],
)
async def test_http_import_refusals(api, group, body, status, code):
    group_id = group or await make_group(api)
    response = await post_csv(api, group_id, body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]
