"""Finding and checking members, and masking names, through the groups GraphQL API on
SQLite and PostgreSQL (in process, no NATS): search, validateMember, likely duplicates,
TOL 2008 codes, maskNames (also through shared.directory), dates as people write them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.groups.app import build
from services.groups.handlers import today
from services.groups.orm import Base
from services.groups.settings import GroupsSettings
from shared.directory import GroupsDirectory, MaskedName
from shared.storage import create_schema
from tests.fixtures.credentials import CONSOLE_HEADERS

CREATE = """mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }"""
ADD = """mutation($input: AddMemberInput!) {
  addMember(input: $input) { id joinedOn likelyDuplicates { code field params } } }"""
CONTACT = """mutation($m: UUID!, $name: String!, $email: String!) {
  addContact(memberId: $m, name: $name, email: $email) { id } }"""
ERASE = "mutation($p: UUID!) { erasePerson(personId: $p) { erased } }"
SEARCH = """query($text: String!, $status: MembershipStatus, $first: Int, $offset: Int,
  $groups: [UUID!]) {
  searchMembers(text: $text, status: $status, first: $first, offset: $offset, groupIds: $groups) {
    total hasMore members { companyName } } }"""
VALIDATE = """query($input: ValidateMemberInput!) { validateMember(input: $input) {
  valid problems { code field message params } warnings { code field message params }
  industry { code level name } } }"""
MASK = """query($text: String!) { maskNames(text: $text) {
  text masked { kind name occurrences } } }"""


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, query: str, *, lang: str = "", **variables: Any) -> dict[str, Any]:
        headers = {"Accept-Language": lang} if lang else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self(query, **variables)
        assert "errors" not in body, body["errors"]
        return dict(body["data"])


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


async def add(api: Api, group: str, name: str, joined: str = "2016-04-01", **fields: Any) -> str:
    data = await api.ok(
        ADD,
        input={
            "groupId": group, "companyName": name, "employees": 2, "turnoverEur": 100_000,
            "joinedOn": joined, **fields,
        },
    )  # fmt: skip
    return str(data["addMember"]["id"])


async def contact(api: Api, member: str, name: str, email: str) -> str:
    return str((await api.ok(CONTACT, m=member, name=name, email=email))["addContact"]["id"])


@pytest.fixture
async def region(api: Api) -> dict[str, str]:
    """A group with three members whose names need folding: Öberg, Ääkkönen, Paja."""
    group = (await api.ok(CREATE, input={"name": "Oulu", "foundedOn": "2016-03-01"}))[
        "createGroup"
    ]["id"]
    oberg = await add(api, group, "Öberg Design Oy", businessId="0112038-9", industryCode="74100")
    aakkonen = await add(api, group, "Ääkkönen Rakennus Ky")
    paja = await add(api, group, "Paja Oy", joined="1.4.2016", businessId="1000000-4")
    return {
        "group": group,
        "oberg": oberg,
        "aakkonen": aakkonen,
        "paja": paja,
        "asa": await contact(api, oberg, "Åsa Öberg", "asa@oberg.example.fi"),
        "onni": await contact(api, aakkonen, "Onni Ääkkönen", "onni@rakennus.example.fi"),
    }


async def found(api: Api, text: str, **variables: Any) -> list[str]:
    page = (await api.ok(SEARCH, text=text, **variables))["searchMembers"]
    return [m["companyName"] for m in page["members"]]


async def test_members_are_found_by_company_business_id_or_person_ignoring_accents(api, region):
    assert await found(api, "oberg") == ["Öberg Design Oy"]
    assert await found(api, "ÅSA") == ["Öberg Design Oy"]  # its contact person
    assert await found(api, "asa@oberg") == ["Öberg Design Oy"]
    assert await found(api, "aakkonen") == ["Ääkkönen Rakennus Ky"]
    assert await found(api, "Ääkkönen onni") == ["Ääkkönen Rakennus Ky"]  # every word
    assert await found(api, "01120389") == ["Öberg Design Oy"]  # without the hyphen
    assert await found(api, "1000000-4") == ["Paja Oy"]
    assert await found(api, "paja 0112038") == []
    assert await found(api, "100%") == []  # LIKE wildcards are text
    assert await found(api, "") == ["Paja Oy", "Ääkkönen Rakennus Ky", "Öberg Design Oy"]
    page = (await api.ok(SEARCH, text="", first=2, offset=0))["searchMembers"]
    assert (page["total"], page["hasMore"], len(page["members"])) == (3, True, 2)
    page = (await api.ok(SEARCH, text="", first=2, offset=2))["searchMembers"]
    assert (page["total"], page["hasMore"], len(page["members"])) == (3, False, 1)
    await api.ok(
        "mutation($i: MemberLeavesInput!) { memberLeaves(input: $i) { id } }",
        i={"memberId": region["paja"], "leftOn": "1.5.2020"},
    )
    assert await found(api, "", status="LEFT") == ["Paja Oy"]
    assert len(await found(api, "", status="ACTIVE")) == 2


async def test_members_of_several_groups_are_found_together(api, region):
    other = (await api.ok(CREATE, input={"name": "Kemi", "foundedOn": "2016-03-01"}))[
        "createGroup"
    ]["id"]
    third = (await api.ok(CREATE, input={"name": "Tornio", "foundedOn": "2016-03-01"}))[
        "createGroup"
    ]["id"]
    await add(api, other, "Kemin Paja Oy")
    await add(api, third, "Tornion Paja Oy")
    assert await found(api, "paja", groups=[region["group"], other]) == ["Kemin Paja Oy", "Paja Oy"]
    assert await found(api, "paja", groups=[third]) == ["Tornion Paja Oy"]
    assert await found(api, "paja", groups=[]) == []


async def test_validate_member_lists_every_problem_at_its_field_without_saving(api, region):
    check = (
        await api.ok(
            VALIDATE,
            input={
                "companyName": "Uusi Oy", "businessId": "0112038-8", "industryCode": "banana",
                "employees": 12, "turnoverEur": 10, "address": "Katu " * 61,
            },
        )
    )["validateMember"]  # fmt: skip
    assert check["valid"] is False
    assert [(p["code"], p["field"]) for p in check["problems"]] == [
        ("BUSINESS_ID_CHECKSUM_MISMATCH", "businessId"),
        ("INVALID_INDUSTRY_CODE", "industryCode"),
        ("INVALID_ADDRESS", "address"),
        ("NOT_A_MICRO_ENTERPRISE", "employees"),
    ]
    assert check["problems"][1]["params"] == {"industry_code": "banana"}
    tomorrow = (today() + timedelta(days=2)).isoformat()
    future = (await api.ok(VALIDATE, input={"groupId": region["group"], "joinedOn": tomorrow}))[
        "validateMember"
    ]
    assert [(p["code"], p["field"]) for p in future["problems"]] == [("DATE_IN_FUTURE", "joinedOn")]
    fine = (await api(VALIDATE, lang="fi", input={"industryCode": "62.01"}))["data"]
    assert fine["validateMember"] == {
        "valid": True,
        "problems": [],
        "warnings": [],
        "industry": {"code": "6201", "level": 4, "name": "Ohjelmistojen suunnittelu ja valmistus"},
    }
    assert (await found(api, "uusi")) == []  # nothing was saved


async def test_likely_duplicates_warn_but_do_not_refuse(api, region):
    same_id = (
        await api.ok(VALIDATE, input={"companyName": "Toinen Oy", "businessId": "0112038-9"})
    )["validateMember"]
    assert same_id["valid"] is True
    [warning] = same_id["warnings"]
    assert (warning["code"], warning["field"]) == ("LIKELY_DUPLICATE_BUSINESS_ID", "businessId")
    assert warning["params"]["member_id"] == region["oberg"]
    assert "Öberg Design Oy in Oulu has the same business ID" in warning["message"]
    same_name = (await api(VALIDATE, lang="sv", input={"companyName": "ääkkönen  RAKENNUS ky"}))[
        "data"
    ]["validateMember"]
    [warning] = same_name["warnings"]
    assert warning["code"] == "LIKELY_DUPLICATE_NAME"
    assert warning["message"].startswith("Medlemmen Ääkkönen Rakennus Ky i gruppen Oulu")
    editing = (
        await api.ok(
            VALIDATE, input={"memberId": region["aakkonen"], "companyName": "Ääkkönen Rakennus Ky"}
        )
    )["validateMember"]
    assert editing["warnings"] == []  # a member is not its own duplicate
    added = (
        await api.ok(
            ADD,
            input={
                "groupId": region["group"], "companyName": "Ääkkönen Rakennus Ky",
                "employees": 1, "turnoverEur": 1, "joinedOn": "2020-01-01",
            },
        )
    )["addMember"]  # fmt: skip
    assert [(d["code"], d["params"]["member_id"]) for d in added["likelyDuplicates"]] == [
        ("LIKELY_DUPLICATE_NAME", region["aakkonen"])
    ]


async def test_industry_codes_are_offered_in_the_callers_language(api):
    body = await api(
        'query { industryCodes(search: "ohjelmisto", first: 3) { code name } '
        'industryCode(code: "62010") { code level name } none: industryCode(code: "x") { code } }',
        lang="fi",
    )
    data = body["data"]
    assert {"code": "6201", "name": "Ohjelmistojen suunnittelu ja valmistus"} in data[
        "industryCodes"
    ]
    assert data["industryCode"] == {
        "code": "62010", "level": 5, "name": "Ohjelmistojen suunnittelu ja valmistus",
    }  # fmt: skip
    assert data["none"] is None


async def test_an_unknown_industry_code_and_an_unreadable_date_are_refused_clearly(api, region):
    bad_code = await api(
        ADD,
        input={"groupId": region["group"], "companyName": "Banaani Oy", "employees": 1,
               "turnoverEur": 1, "joinedOn": "2017-01-01", "industryCode": "banana"},
    )  # fmt: skip
    assert bad_code["errors"][0]["extensions"]["code"] == "INVALID_INDUSTRY_CODE"
    assert bad_code["errors"][0]["message"].startswith("banana is not a code of the Standard")
    bad_date = await api(
        ADD,
        lang="fi",
        input={"groupId": region["group"], "companyName": "Päivä Oy", "employees": 1,
               "turnoverEur": 1, "joinedOn": "31.2.2016"},
    )  # fmt: skip
    [error] = bad_date["errors"]
    assert error["extensions"]["code"] == "INVALID_DATE"
    assert error["message"] == (
        "31.2.2016 ei ole päivämäärä; kirjoita se muodossa 7.12.2026 tai 2026-12-07."
    )
    assert "isoformat" not in str(bad_date)
    in_future = await api(
        ADD,
        input={"groupId": region["group"], "companyName": "Tuleva Oy", "employees": 1,
               "turnoverEur": 1, "joinedOn": "1.1.2031"},
    )  # fmt: skip
    assert in_future["errors"][0]["extensions"]["code"] == "DATE_IN_FUTURE"
    assert in_future["errors"][0]["extensions"]["params"]["today"] == today().isoformat()


async def test_names_are_masked_erased_ones_too(api, region):
    memo = (
        "Åsa Öberg esitteli Öberg Design Oy:n vientisuunnitelman; Öbergille kiitos. "
        "Onni Ääkkösen idea sai kannatusta, ja Paja tarjosi tilat."
    )
    masked = (await api.ok(MASK, text=memo))["maskNames"]
    assert masked["text"] == (
        "[name] esitteli [company]:n vientisuunnitelman; [name] kiitos. "
        "[name] idea sai kannatusta, ja [company] tarjosi tilat."
    )
    assert masked["masked"] == [
        {"kind": "COMPANY", "name": "Paja Oy", "occurrences": 1},
        {"kind": "COMPANY", "name": "Öberg Design Oy", "occurrences": 1},
        {"kind": "PERSON", "name": "Onni Ääkkönen", "occurrences": 1},
        {"kind": "PERSON", "name": "Åsa Öberg", "occurrences": 2},
    ]
    await api.ok(ERASE, p=region["asa"])
    later = (await api.ok(MASK, text="Åsalle ja Öbergille kiitos, Åsa Öberg."))["maskNames"]
    assert later["text"] == "[name] ja [name] kiitos, [name]."  # still, though erased
    assert later["masked"] == [{"kind": "PERSON", "name": None, "occurrences": 4}]
    assert "Åsa" not in str(later["masked"])
    assert await found(api, "asa") == []  # an erased person is not found any more


async def test_the_directory_client_asks_the_groups_service_to_mask(api, region):
    directory = GroupsDirectory(
        "http://groups/graphql",
        transport=httpx.ASGITransport(app=api.client._transport.app),  # type: ignore[attr-defined]
        headers=CONSOLE_HEADERS,
    )
    masked = await directory.mask_names("Kiitos Onni Ääkköselle ja Paja Oy:lle!")
    assert masked.text == "Kiitos [name] ja [company]:lle!"
    assert masked.masked == (
        MaskedName("company", "Paja Oy", 1),
        MaskedName("person", "Onni Ääkkönen", 1),
    )
    too_long = await api(MASK, text="x" * 100_001)
    assert too_long["errors"][0]["extensions"]["code"] == "TEXT_TOO_LONG_TO_MASK"
