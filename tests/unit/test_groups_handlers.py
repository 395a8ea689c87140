"""The groups service layer on a real database (SQLite and PostgreSQL), without NATS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from uuid import uuid4

import pytest
from sqlalchemy import select

from services.groups import handlers
from services.groups.commands import AddMember, CreateGroup, MemberLeaves
from services.groups.orm import TABLES, Base
from services.groups.repository import GroupRepository
from shared.contracts import DecodedEvent, GroupCreated, MemberJoined, MemberLeft, decode
from shared.errors import ConcurrentChange, DomainError
from shared.errors.groups import (
    AlreadyActiveMember,
    GroupNotFound,
    MemberAlreadyLeft,
    MemberNotFound,
    TooManyEmployees,
)
from shared.runtime import UnitOfWork
from shared.storage import create_engine, create_schema, session_factory

REGION = "oulu"
FOUNDED = date(2016, 3, 1)


class Node:
    """The database half of a groups node: sessions and a unit-of-work factory."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)
        self.sessions = session_factory(self.engine)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, TABLES.outbox)

    async def outbox(self) -> list[DecodedEvent]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(TABLES.outbox.c.subject, TABLES.outbox.c.body).order_by(TABLES.outbox.c.id)
            )
            return [decode(row.body, row.subject) for row in rows]


@pytest.fixture
async def node(database_url: str) -> AsyncIterator[Node]:
    node = Node(database_url)
    await create_schema(node.engine, Base.metadata)
    yield node
    await node.engine.dispose()


def add(group_id, **changes) -> AddMember:
    fields = {
        "group_id": group_id,
        "company_name": "Paja Oy",
        "employees": 3,
        "joined_on": FOUNDED,
        "turnover_eur": 500_000,
        "business_id": "0112038-9",
    }
    return AddMember(**{**fields, **changes})


async def new_group(node: Node):
    cmd = CreateGroup(name="Oulu core group", founded_on=FOUNDED, municipality="Oulu")
    return await handlers.create_group(cmd, node.uow(), region=REGION)


async def test_each_change_stages_its_event_with_the_aggregate_sequence(node):
    group = await new_group(node)
    member = await handlers.add_member(add(group.id), node.uow(), region=REGION)
    left = await handlers.member_leaves(
        MemberLeaves(member.id, date(2018, 6, 30), "retired"), node.uow(), region=REGION
    )
    assert (left.active, left.version) == (False, 2)

    events = await node.outbox()
    assert [type(e.event) for e in events] == [GroupCreated, MemberJoined, MemberLeft]
    assert [(e.envelope.aggregate_id, e.envelope.sequence) for e in events] == [
        (group.id, 1),
        (member.id, 1),
        (member.id, 2),
    ]
    assert {e.envelope.region for e in events} == {REGION}


async def test_refusals_change_nothing_and_stage_nothing(node):
    group = await new_group(node)
    with pytest.raises(TooManyEmployees):
        await handlers.add_member(add(group.id, employees=11), node.uow(), region=REGION)
    with pytest.raises(GroupNotFound):
        await handlers.add_member(add(uuid4()), node.uow(), region=REGION)
    with pytest.raises(MemberNotFound):
        await handlers.member_leaves(MemberLeaves(uuid4(), FOUNDED), node.uow(), region=REGION)
    assert len(await node.outbox()) == 1  # GroupCreated only


async def test_a_business_id_is_an_active_member_once_per_group(node):
    group, other = await new_group(node), await new_group(node)
    first = await handlers.add_member(add(group.id), node.uow(), region=REGION)
    with pytest.raises(AlreadyActiveMember):
        await handlers.add_member(add(group.id), node.uow(), region=REGION)
    await handlers.add_member(add(other.id), node.uow(), region=REGION)  # another group: fine
    await handlers.member_leaves(MemberLeaves(first.id, FOUNDED), node.uow(), region=REGION)
    await handlers.add_member(add(group.id), node.uow(), region=REGION)  # rejoining: fine


async def test_concurrent_joins_of_one_company_admit_it_once(node):
    group = await new_group(node)
    results = await asyncio.gather(
        *(handlers.add_member(add(group.id), node.uow(), region=REGION) for _ in range(4)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 3
    assert all(isinstance(r, AlreadyActiveMember) for r in refused), refused
    assert [type(e.event) for e in await node.outbox()] == [GroupCreated, MemberJoined]


async def test_concurrent_leaves_of_one_member_record_one_leave(node):
    group = await new_group(node)
    member = await handlers.add_member(add(group.id), node.uow(), region=REGION)
    results = await asyncio.gather(
        *(
            handlers.member_leaves(MemberLeaves(member.id, FOUNDED), node.uow(), region=REGION)
            for _ in range(3)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 2
    assert all(isinstance(r, MemberAlreadyLeft | ConcurrentChange) for r in refused), refused
    assert all(isinstance(r, DomainError) for r in refused)
    events = await node.outbox()
    assert [e.envelope.sequence for e in events if isinstance(e.event, MemberLeft)] == [2]


async def test_a_leave_decided_on_a_stale_read_is_refused(node, database_url, monkeypatch):
    """The UPDATE checks the version the leave was decided on, not the one found when saving.

    Deterministic form of the race above: another request records a leave and commits after
    this one has loaded the member and before it saves.
    """
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers from their first read (BEGIN IMMEDIATE)")
    group = await new_group(node)
    member = await handlers.add_member(add(group.id), node.uow(), region=REGION)
    load = GroupRepository.get_member

    async def load_then_lose_the_race(self, member_id):
        loaded = await load(self, member_id)
        monkeypatch.setattr(GroupRepository, "get_member", load)  # the rival loads normally
        await handlers.member_leaves(MemberLeaves(member_id, FOUNDED), node.uow(), region=REGION)
        return loaded

    monkeypatch.setattr(GroupRepository, "get_member", load_then_lose_the_race)
    with pytest.raises(ConcurrentChange):
        await handlers.member_leaves(
            MemberLeaves(member.id, date(2019, 1, 31), "late"), node.uow(), region=REGION
        )

    async with node.uow() as uow:
        saved = await GroupRepository(uow.session).get_member(member.id)
    assert saved is not None
    assert (saved.left_on, saved.leave_reason, saved.version) == (FOUNDED, "", 2)
    events = await node.outbox()
    assert [e.envelope.sequence for e in events if isinstance(e.event, MemberLeft)] == [2]
