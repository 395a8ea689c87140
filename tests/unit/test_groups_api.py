"""The groups GraphQL API over HTTP, on both databases, without NATS (runtime not started)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from services.groups.app import build
from services.groups.orm import Base
from services.groups.settings import GroupsSettings
from shared.storage import create_schema
from tests.fixtures.credentials import CONSOLE_HEADERS

CREATE = """mutation($input: CreateGroupInput!) {
  createGroup(input: $input) { id name municipality foundedOn members { id } } }"""
ADD = """mutation($input: AddMemberInput!) {
  addMember(input: $input) { id groupId companyName businessId industryCode employees
    turnoverEur balanceSheetEur joinedOn leftOn active } }"""
LEAVE = """mutation($input: MemberLeavesInput!) {
  memberLeaves(input: $input) { id leftOn leaveReason active } }"""


def code_and_field(error: dict[str, Any]) -> tuple[str, str | None]:
    """A refusal's code and field (its extensions carry its params too)."""
    return error["extensions"]["code"], error["extensions"]["field"]


class Api:
    def __init__(self, client: httpx.AsyncClient, engine: AsyncEngine | None = None) -> None:
        self.client = client
        self._engine = engine

    @property
    def engine(self) -> AsyncEngine:
        assert self._engine is not None
        return self._engine

    async def __call__(
        self, query: str, *, accept_language: str = "", **variables: Any
    ) -> dict[str, Any]:
        headers = {"Accept-Language": accept_language} if accept_language else {}
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
        yield Api(client, service.runtime.engine)
    await service.runtime.engine.dispose()


async def make_group(api: Api) -> str:
    data = await api.ok(CREATE, input={"name": "Oulu", "foundedOn": "2016-03-01"})
    return str(data["createGroup"]["id"])


def member_input(group_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "groupId": group_id,
        "companyName": "Paja Oy",
        "businessId": "0112038-9",
        "industryCode": "62010",
        "employees": 4,
        "turnoverEur": 350_000,
        "joinedOn": "2016-04-01",
        **changes,
    }


async def test_mutations_return_the_changed_objects_and_queries_show_them(api):
    created = (await api.ok(CREATE, input={"name": " Oulu ", "foundedOn": "2016-03-01"}))[
        "createGroup"
    ]
    assert created["name"] == "Oulu"
    assert (created["municipality"], created["members"]) == ("", [])
    member = (await api.ok(ADD, input=member_input(created["id"])))["addMember"]
    assert member["companyName"] == "Paja Oy"
    assert (member["balanceSheetEur"], member["leftOn"], member["active"]) == (None, None, True)
    other = (
        await api.ok(
            ADD,
            input=member_input(
                created["id"], companyName="Verstas Oy", businessId=None, joinedOn="2016-05-01"
            ),
        )
    )["addMember"]
    left = await api.ok(
        LEAVE, input={"memberId": other["id"], "leftOn": "2017-01-31", "reason": "moved"}
    )
    assert left["memberLeaves"] == {
        "id": other["id"],
        "leftOn": "2017-01-31",
        "leaveReason": "moved",
        "active": False,
    }

    data = await api.ok(
        """query($id: UUID!, $m: UUID!) {
          groups { id members { id } }
          group(id: $id) { name members(activeOnly: true) { id } }
          members(groupId: $id, activeOnly: false) { id active }
          member(id: $m) { companyName leftOn } }""",
        id=created["id"],
        m=other["id"],
    )
    assert data["groups"] == [
        {"id": created["id"], "members": [{"id": member["id"]}, {"id": other["id"]}]}
    ]
    assert data["group"] == {"name": "Oulu", "members": [{"id": member["id"]}]}
    assert [m["active"] for m in data["members"]] == [True, False]
    assert data["member"] == {"companyName": "Verstas Oy", "leftOn": "2017-01-31"}


async def test_unknown_ids_give_null_or_a_clear_error(api):
    unknown = "00000000-0000-0000-0000-000000000001"
    data = await api.ok(
        "query($id: UUID!) { group(id: $id) { id } member(id: $id) { id } }", id=unknown
    )
    assert data == {"group": None, "member": None}
    body = await api("query($id: UUID!) { members(groupId: $id) { id } }", id=unknown)
    assert code_and_field(body["errors"][0]) == ("GROUP_NOT_FOUND", "groupId")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"employees": 12}, "NOT_A_MICRO_ENTERPRISE", "employees"),
        ({"turnoverEur": None}, "FINANCIAL_FIGURE_REQUIRED", "turnoverEur"),
        ({"turnoverEur": 2_000_001}, "NOT_A_MICRO_ENTERPRISE", "turnoverEur"),
        ({"businessId": "0112038-8"}, "BUSINESS_ID_CHECKSUM_MISMATCH", "businessId"),
        ({"joinedOn": "2016-02-01"}, "JOINED_BEFORE_FOUNDING", "joinedOn"),
        ({"groupId": "00000000-0000-0000-0000-000000000002"}, "GROUP_NOT_FOUND", "groupId"),
    ],
)
async def test_a_refused_mutation_is_a_graphql_error_with_code_and_field(api, changes, code, field):
    group_id = await make_group(api)
    body = await api(ADD, input=member_input(group_id, **changes))
    assert body["data"] is None
    [error] = body["errors"]
    assert code_and_field(error) == (code, field)
    assert error["path"] == ["addMember"]
    assert error["message"]


async def test_the_refusal_message_names_the_numbers_in_the_callers_language(api):
    body = await api(ADD, input=member_input(await make_group(api), employees=12))
    [error] = body["errors"]
    assert error["message"] == "The company has 12 employees; a micro-enterprise has fewer than 10."
    assert error["extensions"]["params"] == {"employees": 12, "limit": 10}
    finnish = await api(
        ADD, input=member_input(await make_group(api), employees=12), accept_language="fi-FI,fi"
    )
    assert finnish["errors"][0]["message"] == (
        "Yrityksellä on 12 työntekijää; mikroyrityksellä on alle 10 työntekijää."
    )


async def test_health_reports_the_outbox_backlog(api):
    await make_group(api)
    response = await api.client.get("/healthz")
    assert (
        response.json().items()
        >= {"service": "groups", "region": "oulu", "outbox_pending": 1}.items()
    )


async def test_members_by_ids_answers_many_members_in_three_queries(api):
    """``membersByIds`` (and every ``member`` of the same request): one SELECT of the
    members, one of their histories, one of their contacts, however many are asked."""
    group = await make_group(api)
    ids = []
    for n in range(6):
        added = await api.ok(
            ADD,
            input=member_input(group, companyName=f"Paja {n} Oy", businessId=None),
        )
        ids.append(added["addMember"]["id"])
    unknown = "00000000-0000-0000-0000-000000000001"
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = api.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        asked = [ids[3], unknown, ids[0], ids[3], *ids[1:3], *ids[4:]]
        data = await api.ok(
            """query($ids: [UUID!]!, $one: UUID!) {
              membersByIds(ids: $ids) { id companyName contacts { id } }
              member(id: $one) { companyName } }""",
            ids=asked,
            one=ids[5],
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [m["id"] for m in data["membersByIds"]] == [
        ids[3],
        ids[0],
        ids[1],
        ids[2],
        ids[4],
        ids[5],
    ]
    assert data["membersByIds"][0]["companyName"] == "Paja 3 Oy"
    assert data["member"] == {"companyName": "Paja 5 Oy"}
    assert len(statements) == 3, statements

    too_many = [str(uuid.uuid4()) for _ in range(501)]
    body = await api("query($ids: [UUID!]!) { membersByIds(ids: $ids) { id } }", ids=too_many)
    assert code_and_field(body["errors"][0]) == ("TOO_MANY_MEMBER_IDS", "ids")
    assert "501" in body["errors"][0]["message"]
    assert (await api.ok("{ membersByIds(ids: []) { id } }")) == {"membersByIds": []}


async def test_member_companies_are_three_columns_in_one_query(api):
    """``memberCompanies``: the names and addresses other services show beside member ids,
    in one SELECT of three columns (no histories, no contacts), in the order asked."""
    group = await make_group(api)
    ids = []
    for n in range(4):
        added = await api.ok(
            ADD,
            input=member_input(
                group, companyName=f"Paja {n} Oy", businessId=None, address=f"Rantakatu {n}"
            ),
        )
        ids.append(added["addMember"]["id"])
    unknown = "00000000-0000-0000-0000-000000000001"
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = api.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        data = await api.ok(
            "query($ids: [UUID!]!) { memberCompanies(ids: $ids) { id companyName address } }",
            ids=[ids[2], unknown, ids[0], ids[2], ids[3]],
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert data["memberCompanies"] == [
        {"id": ids[n], "companyName": f"Paja {n} Oy", "address": f"Rantakatu {n}"}
        for n in (2, 0, 3)
    ]
    (statement,) = statements
    assert "membership_history" not in statement
    assert "persons" not in statement

    too_many = [str(uuid.uuid4()) for _ in range(501)]
    body = await api("query($ids: [UUID!]!) { memberCompanies(ids: $ids) { id } }", ids=too_many)
    assert code_and_field(body["errors"][0]) == ("TOO_MANY_MEMBER_IDS", "ids")
    assert (await api.ok("{ memberCompanies(ids: []) { id } }")) == {"memberCompanies": []}
