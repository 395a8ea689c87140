"""Service layer of lifecycle, facilitators, contacts, consent and CSV import, on SQLite and
PostgreSQL, without NATS: state, history and the events staged in the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import insert, select

import services.groups
from services.groups import handlers, views
from services.groups.commands import (
    AddContact,
    AddMember,
    AssignFacilitator,
    CreateGroup,
    ErasePerson,
    GiveConsent,
    ImportMembers,
    MemberLeaves,
    PauseMember,
    RejoinMember,
    RemoveFacilitator,
    WithdrawConsent,
)
from services.groups.orm import TABLES, Base, ConsentHistoryRow, GroupRow, MemberRow, PersonRow
from services.groups.repository import GroupRepository
from shared.contracts import (
    ConsentGiven,
    ConsentWithdrawn,
    DecodedEvent,
    FacilitatorAssigned,
    FacilitatorRemoved,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    MemberRejoined,
    PersonErased,
    PersonRegistered,
    decode,
)
from shared.errors import DomainError
from shared.errors.csv_import import InvalidCsv
from shared.errors.groups import (
    AlreadyActiveMember,
    GroupNotFound,
    MemberAlreadyActive,
    MemberAlreadyLeft,
    MemberNotFound,
)
from shared.errors.people import (
    ConsentNotGiven,
    FacilitatorNotFound,
    InvalidEmail,
    PersonAlreadyErased,
    PersonNotFound,
)
from shared.runtime import UnitOfWork
from shared.storage import create_engine, create_schema, session_factory
from shared.storage.migrations import migrate, version_table

REGION = "oulu"
FOUNDED = date(2016, 3, 1)
T0 = datetime(2017, 1, 10, 18, 0, tzinfo=UTC)
PERSONAL = ("Maija", "maija@paja.fi", "040 123 4567", "Liisa", "liisa@oulu.fi", "Paja")


class Node:
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

    async def bodies(self) -> list[bytes]:
        async with self.sessions() as session:
            return list(await session.scalars(select(TABLES.outbox.c.body)))


@pytest.fixture
async def node(database_url: str) -> AsyncIterator[Node]:
    node = Node(database_url)
    await create_schema(node.engine, Base.metadata)
    yield node
    await node.engine.dispose()


async def new_group(node: Node):
    cmd = CreateGroup(name="Oulu core group", founded_on=FOUNDED, municipality="Oulu")
    return await handlers.create_group(cmd, node.uow(), region=REGION)


async def new_member(node: Node, group_id: UUID, business_id: str | None = "0112038-9"):
    cmd = AddMember(group_id, "Paja Oy", 3, FOUNDED, business_id=business_id, turnover_eur=400_000)
    return await handlers.add_member(cmd, node.uow(), region=REGION)


async def new_person(node: Node, member_id: UUID):
    cmd = AddContact(member_id, "Maija", "maija@paja.fi", "040 123 4567", "fi")
    return await handlers.add_contact(cmd, node.uow(), region=REGION)


def since(events: list[DecodedEvent], count: int) -> list[tuple[type, UUID, int]]:
    return [(type(e.event), e.envelope.aggregate_id, e.envelope.sequence) for e in events[count:]]


async def test_lifecycle_changes_are_saved_with_history_and_sequenced_events(node):
    group = await new_group(node)
    member = await new_member(node, group.id)
    run = node.uow
    await handlers.pause_member(
        PauseMember(member.id, date(2017, 1, 1), "leave"), run(), region=REGION
    )
    await handlers.rejoin_member(RejoinMember(member.id, date(2017, 6, 1)), run(), region=REGION)
    await handlers.member_leaves(MemberLeaves(member.id, date(2018, 1, 1)), run(), region=REGION)
    back = await handlers.rejoin_member(
        RejoinMember(member.id, date(2019, 1, 1)), run(), region=REGION
    )
    assert (back.status, back.version) == ("active", 5)

    loaded = await views.member(node.sessions, member.id)
    assert loaded is not None
    assert [(c.kind, c.on, c.reason) for c in loaded.history] == [
        ("joined", FOUNDED, ""),
        ("paused", date(2017, 1, 1), "leave"),
        ("rejoined", date(2017, 6, 1), ""),
        ("left", date(2018, 1, 1), ""),
        ("rejoined", date(2019, 1, 1), ""),
    ]
    assert since(await node.outbox(), 1) == [
        (MemberJoined, member.id, 1),
        (MemberPaused, member.id, 2),
        (MemberRejoined, member.id, 3),
        (MemberLeft, member.id, 4),
        (MemberRejoined, member.id, 5),
    ]


async def test_active_only_excludes_paused_members(node):
    group = await new_group(node)
    member = await new_member(node, group.id)
    await handlers.pause_member(PauseMember(member.id, FOUNDED), node.uow(), region=REGION)
    assert await views.members(node.sessions, group.id, active_only=True) == []
    [paused] = await views.members(node.sessions, group.id, active_only=False)
    assert paused.status == "paused"


async def test_lifecycle_refusals_stage_nothing(node):
    group = await new_group(node)
    member = await new_member(node, group.id)
    await handlers.member_leaves(MemberLeaves(member.id, FOUNDED), node.uow(), region=REGION)
    count = len(await node.outbox())
    with pytest.raises(MemberAlreadyLeft):
        await handlers.pause_member(PauseMember(member.id, FOUNDED), node.uow(), region=REGION)
    other = await new_member(node, group.id, business_id=None)
    with pytest.raises(MemberAlreadyActive):
        await handlers.rejoin_member(RejoinMember(other.id, FOUNDED), node.uow(), region=REGION)
    with pytest.raises(MemberNotFound):
        await handlers.pause_member(PauseMember(uuid4(), FOUNDED), node.uow(), region=REGION)
    assert len(await node.outbox()) == count + 1  # the other member's MemberJoined only


async def test_a_departed_company_cannot_rejoin_while_it_is_a_member_again(node):
    group = await new_group(node)
    first = await new_member(node, group.id)
    await handlers.member_leaves(MemberLeaves(first.id, FOUNDED), node.uow(), region=REGION)
    await new_member(node, group.id)  # joined again as a new member
    with pytest.raises(AlreadyActiveMember):
        await handlers.rejoin_member(RejoinMember(first.id, FOUNDED), node.uow(), region=REGION)


async def test_concurrent_pauses_of_one_member_record_one_pause(node):
    group = await new_group(node)
    member = await new_member(node, group.id)
    results = await asyncio.gather(
        *(
            handlers.pause_member(PauseMember(member.id, FOUNDED), node.uow(), region=REGION)
            for _ in range(3)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 2
    assert all(isinstance(r, DomainError) for r in refused), refused
    loaded = await views.member(node.sessions, member.id)
    assert loaded is not None
    assert [c.kind for c in loaded.history] == ["joined", "paused"]


async def test_facilitators_are_saved_and_keep_one_pseudonym_per_email(node):
    group, other = await new_group(node), await new_group(node)
    assign = AssignFacilitator(group.id, "Liisa", "liisa@oulu.fi", "agency_agent", FOUNDED)
    saved = await handlers.assign_facilitator(assign, node.uow(), region=REGION)
    [liisa] = saved.facilitators
    elsewhere = await handlers.assign_facilitator(
        AssignFacilitator(other.id, "Liisa L", "liisa@oulu.fi", "researcher"),
        node.uow(),
        region=REGION,
    )
    assert elsewhere.facilitators[0].id == liisa.id
    assert elsewhere.facilitators[0].assigned_on == datetime.now(UTC).date()
    loaded = await views.group(node.sessions, group.id)
    assert loaded is not None
    assert loaded.facilitators == [liisa]

    removed = await handlers.remove_facilitator(
        RemoveFacilitator(group.id, liisa.id), node.uow(), region=REGION
    )
    assert (removed.facilitators, removed.version) == ([], 3)
    with pytest.raises(FacilitatorNotFound):
        await handlers.remove_facilitator(
            RemoveFacilitator(group.id, liisa.id), node.uow(), region=REGION
        )
    with pytest.raises(GroupNotFound):
        await handlers.assign_facilitator(
            AssignFacilitator(uuid4(), "A", "a@b.fi", "researcher"), node.uow(), region=REGION
        )
    assert since(await node.outbox(), 2) == [
        (FacilitatorAssigned, group.id, 2),
        (FacilitatorAssigned, other.id, 2),
        (FacilitatorRemoved, group.id, 3),
    ]
    assert not any(b"Liisa" in body or b"liisa@" in body for body in await node.bodies())


async def test_concurrent_assignments_of_one_facilitator_record_one(node):
    group = await new_group(node)
    results = await asyncio.gather(
        *(
            handlers.assign_facilitator(
                AssignFacilitator(group.id, "Liisa", f"{case}@oulu.fi", "researcher"),
                node.uow(),
                region=REGION,
            )
            for case in ("liisa", "LIISA", "Liisa")
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 2
    assert all(isinstance(r, DomainError) for r in refused), refused
    loaded = await views.group(node.sessions, group.id)
    assert loaded is not None
    assert (len(loaded.facilitators), loaded.version) == (1, 2)


async def test_contacts_consents_and_erasure(node):
    group = await new_group(node)
    member = await new_member(node, group.id)
    person = await new_person(node, member.id)
    run = node.uow
    await handlers.give_consent(GiveConsent(person.id, "audio_recording", T0), run(), region=REGION)
    await handlers.give_consent(GiveConsent(person.id, "research_use", T0), run(), region=REGION)
    await handlers.withdraw_consent(
        WithdrawConsent(person.id, "research_use", T0), run(), region=REGION
    )
    loaded = await views.person(node.sessions, person.id)
    assert loaded is not None
    assert [(c.purpose, c.action, c.at) for c in loaded.consent_history] == [
        ("audio_recording", "given", T0),
        ("research_use", "given", T0),
        ("research_use", "withdrawn", T0),
    ]
    assert [s.purpose for s in loaded.consents() if s.given] == ["audio_recording"]

    erased = await handlers.erase_person(ErasePerson(person.id), run(), region=REGION)
    assert (erased.erased, erased.version) == (True, 6)
    with pytest.raises(PersonAlreadyErased):
        await handlers.erase_person(ErasePerson(person.id), run(), region=REGION)
    with pytest.raises(PersonNotFound):
        await handlers.give_consent(GiveConsent(uuid4(), "research_use"), run(), region=REGION)

    async with node.sessions() as session:
        row = await session.get(PersonRow, person.id)
        assert row is not None
        assert (row.name, row.email, row.phone, row.erased_at is not None) == ("", "", "", True)
        kept = list(await session.scalars(select(ConsentHistoryRow.action)))
        assert kept == ["given", "given", "withdrawn", "withdrawn"]
    [contact] = (await views.contacts_by_member(node.sessions, [member.id]))[0]
    assert contact.erased

    assert since(await node.outbox(), 2) == [
        (PersonRegistered, person.id, 1),
        (ConsentGiven, person.id, 2),
        (ConsentGiven, person.id, 3),
        (ConsentWithdrawn, person.id, 4),
        (ConsentWithdrawn, person.id, 5),
        (PersonErased, person.id, 6),
    ]
    for body in await node.bodies():
        assert not any(word.encode() in body for word in PERSONAL), body


async def test_contact_and_consent_refusals_stage_nothing(node):
    group = await new_group(node)
    member = await new_member(node, group.id)
    person = await new_person(node, member.id)
    count = len(await node.outbox())
    with pytest.raises(InvalidEmail):
        await handlers.add_contact(AddContact(member.id, "A", "a.b.fi"), node.uow(), region=REGION)
    with pytest.raises(MemberNotFound):
        await handlers.add_contact(AddContact(uuid4(), "A", "a@b.fi"), node.uow(), region=REGION)
    with pytest.raises(ConsentNotGiven):
        await handlers.withdraw_consent(
            WithdrawConsent(person.id, "contact_sharing"), node.uow(), region=REGION
        )
    assert len(await node.outbox()) == count


CSV = """\
company_name,business_id,employees,turnover_eur,joined_on,contact_name,contact_email,language
Paja Oy,0112038-9,3,400000,2016-04-01,Maija,maija@paja.fi,fi
Verstas Oy,,2,150000,2016-05-01,,,
"""


async def test_an_import_adds_every_row_in_one_transaction_with_its_events(node):
    group = await new_group(node)
    result = await handlers.import_members(ImportMembers(group.id, CSV), node.uow(), region=REGION)
    assert (result.imported, result.errors) == (2, [])
    members = await views.members(node.sessions, group.id, active_only=True)
    assert [m.enterprise.company_name for m in members] == ["Paja Oy", "Verstas Oy"]
    contacts = await views.contacts_by_member(node.sessions, [m.id for m in members])
    assert [[p.email for p in c] for c in contacts] == [["maija@paja.fi"], []]
    assert [type(e.event) for e in (await node.outbox())[1:]] == [
        MemberJoined,
        PersonRegistered,
        MemberJoined,
    ]
    for body in await node.bodies():
        assert not any(word.encode() in body for word in PERSONAL), body

    # importing the same file again: every company is already a member
    again = await handlers.import_members(ImportMembers(group.id, CSV), node.uow(), region=REGION)
    assert (again.imported, [e.line for e in again.errors]) == (0, [2])


async def test_a_dry_run_answers_the_rows_and_saves_nothing(node):
    group = await new_group(node)
    cmd = ImportMembers(group.id, CSV, dry_run=True)
    result = await handlers.import_members(cmd, node.uow(), region=REGION)
    assert (result.imported, result.errors, result.dry_run) == (0, [], True)
    assert [(r.line, r.member.enterprise.company_name) for r in result.rows] == [
        (2, "Paja Oy"),
        (3, "Verstas Oy"),
    ]
    assert [r.person.email if r.person else None for r in result.rows] == ["maija@paja.fi", None]
    assert await views.members(node.sessions, group.id, active_only=False) == []
    assert len(await node.outbox()) == 1  # GroupCreated only
    bad = CSV + "Iso Oy,,12,100,2016-04-01,,,\n"
    cmd = ImportMembers(group.id, bad, dry_run=True)
    checked = await handlers.import_members(cmd, node.uow(), region=REGION)
    assert ([e.line for e in checked.errors], checked.rows) == ([4], [])


async def test_an_import_with_an_invalid_row_adds_nothing(node):
    group = await new_group(node)
    bad = CSV + "Iso Oy,,12,100,2016-04-01,,,\nVäärä Oy,,1,100,2016-04-01,A,not-an-email,fi\n"
    result = await handlers.import_members(ImportMembers(group.id, bad), node.uow(), region=REGION)
    assert result.imported == 0
    assert [e.line for e in result.errors] == [4, 5]
    assert await views.members(node.sessions, group.id, active_only=False) == []
    assert len(await node.outbox()) == 1
    with pytest.raises(InvalidCsv):
        await handlers.import_members(
            ImportMembers(group.id, "name\nx\n"), node.uow(), region=REGION
        )
    with pytest.raises(GroupNotFound):
        await handlers.import_members(ImportMembers(uuid4(), CSV), node.uow(), region=REGION)


async def test_an_import_racing_an_add_of_the_same_company_adds_nothing(node, monkeypatch):
    group = await new_group(node)
    plan_members = GroupRepository.current_members

    async def current_then_lose_the_race(self, group_id):
        found = await plan_members(self, group_id)
        monkeypatch.setattr(GroupRepository, "current_members", plan_members)
        await new_member(node, group_id)  # commits between our check and our insert
        return found

    if node.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers from their first read (BEGIN IMMEDIATE)")
    monkeypatch.setattr(GroupRepository, "current_members", current_then_lose_the_race)
    with pytest.raises(AlreadyActiveMember):
        await handlers.import_members(ImportMembers(group.id, CSV), node.uow(), region=REGION)
    members = await views.members(node.sessions, group.id, active_only=False)
    assert [m.enterprise.company_name for m in members] == ["Paja Oy"]  # the rival's only


async def test_concurrent_consents_record_one(node):
    group = await new_group(node)
    person = await new_person(node, (await new_member(node, group.id)).id)
    results = await asyncio.gather(
        *(
            handlers.give_consent(
                GiveConsent(person.id, "research_use", T0), node.uow(), region=REGION
            )
            for _ in range(3)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 2
    assert all(isinstance(r, DomainError) for r in refused), refused
    loaded = await views.person(node.sessions, person.id)
    assert loaded is not None
    assert len(loaded.consent_history) == 1


async def test_the_migration_backfills_the_history_of_existing_memberships(database_url):
    engine = create_engine(database_url)
    location = Path(services.groups.__file__).parent / "migrations"
    table = version_table("groups")
    try:
        await migrate(engine, location, version_table=table, revision="0001")
        group_id, stayed, left = uuid4(), uuid4(), uuid4()
        async with engine.begin() as conn:
            # through the tables, not the ORM: orm.py already has the newer columns
            await conn.execute(
                insert(GroupRow).values(
                    id=group_id, name="Oulu", municipality="", founded_on=FOUNDED, version=1
                )
            )
            for member_id, left_on in ((stayed, None), (left, date(2018, 1, 1))):
                await conn.execute(
                    insert(MemberRow).values(
                        id=member_id,
                        group_id=group_id,
                        company_name="Paja Oy",
                        employees=1,
                        joined_on=FOUNDED,
                        left_on=left_on,
                        leave_reason="moved" if left_on else "",
                        version=2 if left_on else 1,
                    )
                )
        await migrate(engine, location, version_table=table)
        sessions = session_factory(engine)
        loaded = {m.id: m for m in await views.members(sessions, group_id, active_only=False)}
        assert [(c.kind, c.on) for c in loaded[stayed].history] == [("joined", FOUNDED)]
        assert [(c.kind, c.on, c.reason) for c in loaded[left].history] == [
            ("joined", FOUNDED, ""),
            ("left", date(2018, 1, 1), "moved"),
        ]
        assert loaded[left].status == "left"
    finally:
        await engine.dispose()
