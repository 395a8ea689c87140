"""Editing a member's details (#9.6): the checks of adding it, MemberDetailsChanged with no
names, nothing staged by a refusal; the replicas and the nation know what to do with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from uuid import uuid4

import pytest

from services.feedback.handlers import APPLIED, NOT_APPLIED
from services.groups import handlers, views
from services.groups.commands import UpdateMember
from services.meetings.handlers import NOT_REPLICATED, REPLICATED
from shared.contracts import MemberDetailsChanged, registered_events
from shared.errors import DomainError
from tests.unit.test_groups_lifecycle_handlers import REGION, Node, new_group, new_member

PAJA_ID = "0112038-9"
OTHER_ID = "1572860-0"


@pytest.fixture
async def node(database_url: str) -> AsyncIterator[Node]:
    from services.groups.orm import Base
    from shared.storage import create_schema

    node = Node(database_url)
    await create_schema(node.engine, Base.metadata)
    yield node
    await node.engine.dispose()


async def test_an_edit_is_saved_and_announced_without_names(node: Node) -> None:
    group = await new_group(node)
    member = await new_member(node, group.id, business_id=PAJA_ID)
    edit = UpdateMember(
        member.id,
        company_name="  Paja ja Poika Oy ",
        industry_code="62010",
        address=" Rantakatu 1,  90100 Oulu ",
        employees=4,
    )
    changed = await handlers.update_member(edit, node.uow(), region=REGION)
    company = changed.enterprise
    assert (company.company_name, company.address, company.industry_code) == (
        "Paja ja Poika Oy",
        "Rantakatu 1, 90100 Oulu",
        "62010",
    )
    assert (company.business_id, company.turnover_eur, changed.version) == (PAJA_ID, 400_000, 2)
    stored = await views.member(node.sessions, member.id)
    assert stored is not None
    assert stored.enterprise == company
    last = (await node.outbox())[-1]
    assert isinstance(last.event, MemberDetailsChanged)
    assert (last.envelope.sequence, last.event.employees, last.event.industry_code) == (
        2,
        4,
        "62010",
    )
    assert last.event.changed_fields == ("company_name", "industry_code", "address", "employees")
    body = str((await node.bodies())[-1], "utf-8")
    for private in ("Paja", "Rantakatu", "90100", PAJA_ID):
        assert private not in body


async def test_an_edit_is_checked_as_an_addition_and_a_refusal_stages_nothing(node: Node) -> None:
    group = await new_group(node)
    paja = await new_member(node, group.id, business_id=PAJA_ID)
    await new_member(node, group.id, business_id=OTHER_ID)
    before = len(await node.outbox())
    refusals = {
        "BUSINESS_ID_CHECKSUM_MISMATCH": UpdateMember(paja.id, business_id="0112038-8"),
        "INVALID_INDUSTRY_CODE": UpdateMember(paja.id, industry_code="banana"),
        "NOT_A_MICRO_ENTERPRISE": UpdateMember(paja.id, employees=12),
        "INVALID_COMPANY_NAME": UpdateMember(paja.id, company_name="  "),
        "INVALID_ADDRESS": UpdateMember(paja.id, address="x" * 301),
        "MEMBER_DETAILS_UNCHANGED": UpdateMember(paja.id, company_name=" Paja Oy"),
        "ALREADY_A_MEMBER": UpdateMember(paja.id, business_id=OTHER_ID),
        "MEMBER_NOT_FOUND": UpdateMember(uuid4(), company_name="Nobody Oy"),
    }
    got = {}
    for code, edit in refusals.items():
        with pytest.raises(DomainError) as refused:
            await handlers.update_member(edit, node.uow(), region=REGION)
        got[code] = refused.value.code
    assert got == {code: code for code in refusals}
    assert len(await node.outbox()) == before
    cleared = await handlers.update_member(
        UpdateMember(paja.id, business_id=""), node.uow(), region=REGION
    )
    assert cleared.enterprise.business_id is None
    assert replace(cleared.enterprise, business_id=PAJA_ID) == paja.enterprise


def test_every_groups_event_is_applied_or_deliberately_left_by_each_replica() -> None:
    groups_events = {e for e in registered_events() if e.TYPE.startswith("groups.")}
    assert MemberDetailsChanged in groups_events
    assert groups_events <= set(REPLICATED) | NOT_REPLICATED
    assert MemberDetailsChanged in NOT_REPLICATED
    assert MemberDetailsChanged in NOT_APPLIED
    assert MemberDetailsChanged not in APPLIED
