"""Read side: what the queries show, read in one short session per call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.groups import queries
from services.groups.commands import CheckMember, SearchMembers
from services.groups.domain import Group, Member, Person
from services.groups.domain.enterprise import duplicate_warnings, field_problems
from services.groups.domain.model import MembershipStatus
from services.groups.domain.names import MaskedText, NameMask, fold, region_salt
from services.groups.handlers import today
from services.groups.repository import GroupRepository
from shared.errors import DomainError
from shared.errors.groups import (
    GroupNotFound,
    MemberWarning,
    TextTooLongToMask,
    TooManyMemberIds,
)

Sessions = async_sessionmaker[AsyncSession]
PAGE_MAX = 500
MASK_TEXT_MAX = 100_000
SEARCH_TERMS_MAX = 8


async def groups(sessions: Sessions) -> list[Group]:
    async with sessions() as session:
        return await GroupRepository(session).list_groups()


async def group(sessions: Sessions, group_id: UUID) -> Group | None:
    async with sessions() as session:
        return await GroupRepository(session).get_group(group_id)


async def member(sessions: Sessions, member_id: UUID) -> Member | None:
    async with sessions() as session:
        return await GroupRepository(session).get_member(member_id)


async def members_by_id(sessions: Sessions, member_ids: Sequence[UUID]) -> list[Member | None]:
    """Each member of ``member_ids`` (None if unknown), in their order (a DataLoader batch:
    every ``member`` and ``membersByIds`` of one request in one query)."""
    async with sessions() as session:
        found = await GroupRepository(session).get_members(member_ids)
    return [found.get(member_id) for member_id in member_ids]


async def companies(sessions: Sessions, member_ids: Sequence[UUID]) -> list[queries.Company]:
    """The companies of ``member_ids`` (at most ``PAGE_MAX``), in their order, each once;
    unknown ids left out."""
    ids = check_member_ids(member_ids)
    async with sessions() as session:
        found = await queries.companies(session, ids)
    return [found[member_id] for member_id in ids if member_id in found]


def check_member_ids(member_ids: Sequence[UUID]) -> list[UUID]:
    """``member_ids`` without repeats, refused when more than ``PAGE_MAX``."""
    ids = list(dict.fromkeys(member_ids))
    if len(ids) > PAGE_MAX:
        raise TooManyMemberIds(count=len(ids), max=PAGE_MAX)
    return ids


async def members(sessions: Sessions, group_id: UUID, *, active_only: bool) -> list[Member]:
    """One group's members; raises ``GroupNotFound`` for an unknown group."""
    async with sessions() as session:
        repo = GroupRepository(session)
        if await repo.get_group(group_id) is None:
            raise GroupNotFound(group_id)
        return (await repo.members_of([group_id], active_only=active_only))[group_id]


async def members_by_group(sessions: Sessions, group_ids: Sequence[UUID]) -> list[list[Member]]:
    """All members of each group, in the order of ``group_ids`` (a DataLoader batch)."""
    async with sessions() as session:
        found = await GroupRepository(session).members_of(group_ids)
    return [found[group_id] for group_id in group_ids]


async def person(sessions: Sessions, person_id: UUID) -> Person | None:
    async with sessions() as session:
        return await GroupRepository(session).get_person(person_id)


async def contacts_by_member(sessions: Sessions, member_ids: Sequence[UUID]) -> list[list[Person]]:
    """The contacts of each member, in the order of ``member_ids`` (a DataLoader batch)."""
    async with sessions() as session:
        found = await GroupRepository(session).contacts_of(member_ids)
    return [found[member_id] for member_id in member_ids]


@dataclass(frozen=True, slots=True)
class MemberPage:
    total: int
    members: list[Member]


async def search_members(sessions: Sessions, cmd: SearchMembers) -> MemberPage:
    """Members by company name, business ID or a contact's name or email (every word must
    match one of them; case and accents ignored), by company name, one page."""
    terms = fold(cmd.text).split()[:SEARCH_TERMS_MAX]
    status: MembershipStatus | None = None
    if cmd.status in get_args(MembershipStatus):
        status = cmd.status  # type: ignore[assignment]  # checked against the literal
    async with sessions() as session:
        if (
            cmd.group_id is not None
            and await GroupRepository(session).get_group(cmd.group_id) is None
        ):
            raise GroupNotFound(cmd.group_id)
        total, found = await queries.search_members(
            session,
            [term[:100] for term in terms],
            group_id=cmd.group_id,
            group_ids=cmd.group_ids,
            status=status,
            limit=max(0, min(cmd.first, PAGE_MAX)),
            offset=max(0, cmd.offset),
        )
    return MemberPage(total, found)


@dataclass(frozen=True, slots=True)
class MemberCheck:
    problems: list[DomainError]
    warnings: list[MemberWarning]


async def check_member(sessions: Sessions, cmd: CheckMember) -> MemberCheck:
    """The refusals and duplicate warnings a member form would get, field by field, without
    saving anything (only the fields given are checked)."""
    figures = None
    if cmd.employees is not None:
        figures = (cmd.employees, cmd.turnover_eur, cmd.balance_sheet_eur)
    problems = field_problems(
        company_name=cmd.company_name,
        business_id=cmd.business_id,
        industry_code=cmd.industry_code,
        figures=figures,
        address=cmd.address,
    )
    async with sessions() as session:
        if cmd.group_id is not None and cmd.joined_on is not None:
            found = await GroupRepository(session).get_group(cmd.group_id)
            if found is None:
                raise GroupNotFound(cmd.group_id)
            problems += found.joining_problems(cmd.joined_on, today=today())
        business_id = (cmd.business_id or "").strip() or None
        name = (cmd.company_name or "").strip()
        namesakes = await queries.namesakes(
            session, business_id=business_id, company_name=name, exclude=cmd.member_id
        )
    return MemberCheck(problems, duplicate_warnings(name, business_id, namesakes))


async def likely_duplicates(sessions: Sessions, member: Member) -> list[MemberWarning]:
    """Other members of the region that may be the same company as ``member``."""
    company = member.enterprise
    async with sessions() as session:
        namesakes = await queries.namesakes(
            session,
            business_id=company.business_id,
            company_name=company.company_name,
            exclude=member.id,
        )
    return duplicate_warnings(company.company_name, company.business_id, namesakes)


async def mask_names(sessions: Sessions, region: str, text: str) -> MaskedText:
    """``text`` with the region's person and company names masked (domain.names)."""
    if len(text) > MASK_TEXT_MAX:
        raise TextTooLongToMask(length=len(text), max=MASK_TEXT_MAX)
    async with sessions() as session:
        names = await queries.known_names(session)
        erased = await queries.erased_digests(session)
    return NameMask(names, erased=erased, salt=region_salt(region)).apply(text)
