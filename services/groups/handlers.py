"""The service layer: one coroutine per command, each one transaction with its events.

Every handler opens the unit of work, loads what it needs, lets the domain decide, saves,
stages the event in the outbox (``uow.emit``) and commits: the state change and its event
are stored together or not at all. Domain refusals propagate as ``DomainError``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

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
    UpdateMember,
    WithdrawConsent,
)
from services.groups.domain import (
    Contact,
    Enterprise,
    Group,
    ImportedMember,
    Member,
    Person,
    RowError,
    plan_import,
)
from services.groups.domain.names import erased_digests, region_salt
from services.groups.repository import GroupRepository
from shared.contracts import Event, make_envelope
from shared.errors import ConcurrentChange
from shared.errors.groups import (
    AlreadyActiveMember,
    GroupNotFound,
    MemberNotFound,
)
from shared.errors.people import PersonNotFound
from shared.i18n.formats import HELSINKI
from shared.runtime import UnitOfWork


def today() -> date:
    """The agency's today: the date in Helsinki."""
    return datetime.now(HELSINKI).date()


def _emit(uow: UnitOfWork, region: str, aggregate_id: UUID, first: int, *events: Event) -> None:
    """Stage ``events`` of one aggregate with sequences ``first``, ``first + 1``, ..."""
    for offset, event in enumerate(events):
        uow.emit(
            make_envelope(event, region=region, aggregate_id=aggregate_id, sequence=first + offset)
        )


async def _saving(save: Awaitable[None], aggregate_id: UUID) -> None:
    try:
        await save
    except StaleDataError as exc:
        raise ConcurrentChange(aggregate_id=aggregate_id) from exc


async def create_group(cmd: CreateGroup, uow: UnitOfWork, *, region: str) -> Group:
    group, event = Group.found(
        name=cmd.name, municipality=cmd.municipality, founded_on=cmd.founded_on
    )
    async with uow:
        await GroupRepository(uow.session).add_group(group)
        uow.emit(make_envelope(event, region=region, aggregate_id=group.id, sequence=group.version))
        await uow.commit()
    return group


async def add_member(cmd: AddMember, uow: UnitOfWork, *, region: str) -> Member:
    enterprise = Enterprise(
        company_name=cmd.company_name,
        employees=cmd.employees,
        turnover_eur=cmd.turnover_eur,
        balance_sheet_eur=cmd.balance_sheet_eur,
        business_id=cmd.business_id,
        industry_code=cmd.industry_code,
        address=cmd.address,
    )
    async with uow:
        repo = GroupRepository(uow.session)
        group = await repo.get_group(cmd.group_id)
        if group is None:
            raise GroupNotFound(cmd.group_id)
        company = enterprise.validated()  # the business ID as stored, to check it against
        member, event = group.admit(
            company,
            joined_on=cmd.joined_on,
            today=today(),
            active_members=await repo.current_holders(group.id, company.business_id),
        )
        try:
            await repo.add_member(member)
        except IntegrityError as exc:
            # Only the active-membership index can fail here: a concurrent request added
            # the same company between our check and our insert.
            company = member.enterprise
            if company.business_id is None:
                raise
            raise AlreadyActiveMember(
                company=company.company_name, business_id=company.business_id, group=group.name
            ) from exc
        uow.emit(
            make_envelope(event, region=region, aggregate_id=member.id, sequence=member.version)
        )
        await uow.commit()
    return member


async def update_member(cmd: UpdateMember, uow: UnitOfWork, *, region: str) -> Member:
    """Edit a member's details by the rules of adding it; emits MemberDetailsChanged."""
    async with uow:
        repo = GroupRepository(uow.session)
        member = await repo.get_member(cmd.member_id)
        if member is None:
            raise MemberNotFound(cmd.member_id)
        now = member.enterprise
        changed = Enterprise(
            company_name=now.company_name if cmd.company_name is None else cmd.company_name,
            employees=now.employees if cmd.employees is None else cmd.employees,
            turnover_eur=now.turnover_eur if cmd.turnover_eur is None else cmd.turnover_eur,
            balance_sheet_eur=(
                now.balance_sheet_eur if cmd.balance_sheet_eur is None else cmd.balance_sheet_eur
            ),
            business_id=now.business_id if cmd.business_id is None else cmd.business_id,
            industry_code=now.industry_code if cmd.industry_code is None else cmd.industry_code,
            address=now.address if cmd.address is None else cmd.address,
        )
        group = await repo.get_group(member.group_id)
        group_name = group.name if group else str(member.group_id)
        event = member.change_details(
            changed, group=group_name, active_members=await repo.current_members(member.group_id)
        )
        try:
            await _saving(repo.save_member(member), member.id)
        except IntegrityError as exc:  # the same business ID was added concurrently
            raise AlreadyActiveMember(
                company=member.enterprise.company_name,
                business_id=member.enterprise.business_id or "",
                group=group_name,
            ) from exc
        _emit(uow, region, member.id, member.version, event)
        await uow.commit()
    return member


async def member_leaves(cmd: MemberLeaves, uow: UnitOfWork, *, region: str) -> Member:
    async with uow:
        repo = GroupRepository(uow.session)
        member = await repo.get_member(cmd.member_id)
        if member is None:
            raise MemberNotFound(cmd.member_id)
        event = member.leave(left_on=cmd.left_on, today=today(), reason=cmd.reason)
        await _saving(repo.save_member(member), member.id)
        _emit(uow, region, member.id, member.version, event)
        await uow.commit()
    return member


async def _load_member(repo: GroupRepository, member_id: UUID) -> Member:
    member = await repo.get_member(member_id)
    if member is None:
        raise MemberNotFound(member_id)
    return member


async def pause_member(cmd: PauseMember, uow: UnitOfWork, *, region: str) -> Member:
    async with uow:
        repo = GroupRepository(uow.session)
        member = await _load_member(repo, cmd.member_id)
        event = member.pause(paused_on=cmd.paused_on, today=today(), reason=cmd.reason)
        await _saving(repo.save_member(member), member.id)
        _emit(uow, region, member.id, member.version, event)
        await uow.commit()
    return member


async def rejoin_member(cmd: RejoinMember, uow: UnitOfWork, *, region: str) -> Member:
    async with uow:
        repo = GroupRepository(uow.session)
        member = await _load_member(repo, cmd.member_id)
        company = member.enterprise
        if member.status == "left" and company.business_id is not None:
            for other in await repo.current_members(member.group_id):
                if other.enterprise.business_id == company.business_id:
                    group = await repo.get_group(member.group_id)
                    raise AlreadyActiveMember(
                        company=company.company_name,
                        business_id=company.business_id,
                        group=group.name if group else str(member.group_id),
                        member_id=other.id,
                    )
        event = member.rejoin(rejoined_on=cmd.rejoined_on, today=today())
        try:
            await _saving(repo.save_member(member), member.id)
        except IntegrityError as exc:  # the same company was added again concurrently
            raise AlreadyActiveMember(
                company=company.company_name,
                business_id=company.business_id or "",
                group=str(member.group_id),
            ) from exc
        _emit(uow, region, member.id, member.version, event)
        await uow.commit()
    return member


async def _load_group(repo: GroupRepository, group_id: UUID) -> Group:
    group = await repo.get_group(group_id)
    if group is None:
        raise GroupNotFound(group_id)
    return group


async def assign_facilitator(cmd: AssignFacilitator, uow: UnitOfWork, *, region: str) -> Group:
    async with uow:
        repo = GroupRepository(uow.session)
        group = await _load_group(repo, cmd.group_id)
        _, event = group.assign_facilitator(
            name=cmd.name,
            email=cmd.email,
            role=cmd.role,
            assigned_on=cmd.assigned_on or datetime.now(UTC).date(),
            facilitator_id=await repo.facilitator_id_for(cmd.email),
        )
        await _saving(repo.save_group(group), group.id)
        _emit(uow, region, group.id, group.version, event)
        await uow.commit()
    return group


async def remove_facilitator(cmd: RemoveFacilitator, uow: UnitOfWork, *, region: str) -> Group:
    async with uow:
        repo = GroupRepository(uow.session)
        group = await _load_group(repo, cmd.group_id)
        event = group.remove_facilitator(cmd.facilitator_id)
        await _saving(repo.save_group(group), group.id)
        _emit(uow, region, group.id, group.version, event)
        await uow.commit()
    return group


async def add_contact(cmd: AddContact, uow: UnitOfWork, *, region: str) -> Person:
    contact = Contact(cmd.name, cmd.email, cmd.phone, cmd.language)
    async with uow:
        repo = GroupRepository(uow.session)
        member = await _load_member(repo, cmd.member_id)
        person, event = Person.register(
            member_id=member.id,
            contact=contact,
            company=member.enterprise.company_name,
            existing=(await repo.contacts_of([member.id]))[member.id],
        )
        await repo.add_person(person)
        _emit(uow, region, person.id, person.version, event)
        await uow.commit()
    return person


async def _load_person(repo: GroupRepository, person_id: UUID) -> Person:
    person = await repo.get_person(person_id)
    if person is None:
        raise PersonNotFound(person_id)
    return person


async def give_consent(cmd: GiveConsent, uow: UnitOfWork, *, region: str) -> Person:
    async with uow:
        repo = GroupRepository(uow.session)
        person = await _load_person(repo, cmd.person_id)
        event = person.give_consent(cmd.purpose, at=cmd.at)
        await _saving(repo.save_person(person), person.id)
        _emit(uow, region, person.id, person.version, event)
        await uow.commit()
    return person


async def withdraw_consent(cmd: WithdrawConsent, uow: UnitOfWork, *, region: str) -> Person:
    async with uow:
        repo = GroupRepository(uow.session)
        person = await _load_person(repo, cmd.person_id)
        event = person.withdraw_consent(cmd.purpose, at=cmd.at)
        await _saving(repo.save_person(person), person.id)
        _emit(uow, region, person.id, person.version, event)
        await uow.commit()
    return person


async def erase_person(cmd: ErasePerson, uow: UnitOfWork, *, region: str) -> Person:
    async with uow:
        repo = GroupRepository(uow.session)
        person = await _load_person(repo, cmd.person_id)
        loaded = person.version
        # what a memo written later may still say of them is masked (domain.names)
        await repo.add_erased_digests(erased_digests(person.name, region_salt(region)))
        events = person.erase()
        await _saving(repo.save_person(person), person.id)
        _emit(uow, region, person.id, loaded + 1, *events)
        await uow.commit()
    return person


@dataclass(frozen=True, slots=True)
class ImportResult:
    """``imported`` members (all rows) or ``errors`` (every invalid row), never both.

    ``rows``: every row added, or, in a dry run, every row that would be (nothing saved,
    ``imported`` 0)."""

    imported: int
    errors: list[RowError] = field(default_factory=list)
    rows: list[ImportedMember] = field(default_factory=list)
    dry_run: bool = False

    @property
    def members(self) -> list[Member]:
        return [row.member for row in self.rows]


async def import_members(cmd: ImportMembers, uow: UnitOfWork, *, region: str) -> ImportResult:
    """Validate the whole CSV; if every row is valid, add all of them in one transaction
    (with their contacts and events), else add nothing and report every invalid row.
    A dry run validates the same way and answers the rows that would be added."""
    async with uow:
        repo = GroupRepository(uow.session)
        group = await _load_group(repo, cmd.group_id)
        plan = plan_import(group, cmd.csv, await repo.current_members(group.id), today=today())
        if plan.errors:
            return ImportResult(0, plan.errors, dry_run=cmd.dry_run)
        if cmd.dry_run:
            return ImportResult(0, [], plan.members, dry_run=True)
        for row in plan.members:
            try:
                await repo.add_member(row.member)
            except IntegrityError as exc:  # the same company was added concurrently
                company = row.member.enterprise
                raise AlreadyActiveMember(
                    company=company.company_name,
                    business_id=company.business_id or "",
                    group=group.name,
                ) from exc
            _emit(uow, region, row.member.id, row.member.version, row.joined)
            if row.person is not None and row.registered is not None:
                await repo.add_person(row.person)
                _emit(uow, region, row.person.id, row.person.version, row.registered)
        await uow.commit()
    return ImportResult(len(plan.members), [], plan.members)
