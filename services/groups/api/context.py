"""The per-request GraphQL context: region, sessions, a unit-of-work factory, DataLoaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from services.groups import views
from services.groups.domain import Member, Person
from shared.runtime import UnitOfWork


@dataclass
class GroupsContext:
    """Built anew for every request, so the loaders' caches never outlive it."""

    region: str
    sessions: async_sessionmaker[AsyncSession]
    unit_of_work: Callable[[], UnitOfWork]
    members_by_group: DataLoader[UUID, list[Member]] = field(init=False)
    member_by_id: DataLoader[UUID, Member | None] = field(init=False)
    contacts_by_member: DataLoader[UUID, list[Person]] = field(init=False)

    def __post_init__(self) -> None:
        async def load(group_ids: list[UUID]) -> list[list[Member]]:
            return await views.members_by_group(self.sessions, group_ids)

        async def load_members(member_ids: list[UUID]) -> list[Member | None]:
            return await views.members_by_id(self.sessions, member_ids)

        async def load_contacts(member_ids: list[UUID]) -> list[list[Person]]:
            return await views.contacts_by_member(self.sessions, member_ids)

        self.members_by_group = DataLoader(load_fn=load)
        self.member_by_id = DataLoader(load_fn=load_members)
        self.contacts_by_member = DataLoader(load_fn=load_contacts)
