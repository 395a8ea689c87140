"""Read side: what the queries show, read in one short session per call."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.groups.domain import Group, GroupNotFound, Member, Person
from services.groups.repository import GroupRepository

Sessions = async_sessionmaker[AsyncSession]


async def groups(sessions: Sessions) -> list[Group]:
    async with sessions() as session:
        return await GroupRepository(session).list_groups()


async def group(sessions: Sessions, group_id: UUID) -> Group | None:
    async with sessions() as session:
        return await GroupRepository(session).get_group(group_id)


async def member(sessions: Sessions, member_id: UUID) -> Member | None:
    async with sessions() as session:
        return await GroupRepository(session).get_member(member_id)


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
