"""Query and Mutation of the groups service: parse input, call a handler, map the result."""

# strawberry.field(description=...) is typed as returning Any:
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from uuid import UUID

import strawberry

from services.groups import handlers, views
from services.groups.api.context import GroupsContext
from services.groups.api.errors import Schema, refusing
from services.groups.api.inputs import (
    AddMemberInput,
    AssignFacilitatorInput,
    ConsentInput,
    CreateGroupInput,
    MemberLeavesInput,
    PauseMemberInput,
    RejoinMemberInput,
    RemoveFacilitatorInput,
)
from services.groups.api.types import (
    Group,
    ImportResult,
    ImportRowError,
    Language,
    Member,
    Person,
)
from services.groups.commands import AddContact, ErasePerson, ImportMembers

Info = strawberry.Info[GroupsContext, None]


@strawberry.type
class Query:
    @strawberry.field(description="The region's core groups, by name.")
    async def groups(self, info: Info) -> list[Group]:
        return [Group.from_domain(g) for g in await views.groups(info.context.sessions)]

    @strawberry.field(description="One core group, or null if there is none with this id.")
    async def group(self, info: Info, id: UUID) -> Group | None:
        found = await views.group(info.context.sessions, id)
        return Group.from_domain(found) if found is not None else None

    @strawberry.field(description="A group's members in order of joining.")
    async def members(self, info: Info, group_id: UUID, active_only: bool = False) -> list[Member]:
        found = await refusing(
            views.members(info.context.sessions, group_id, active_only=active_only)
        )
        return [Member.from_domain(m) for m in found]

    @strawberry.field(description="One member, or null if there is none with this id.")
    async def member(self, info: Info, id: UUID) -> Member | None:
        found = await views.member(info.context.sessions, id)
        return Member.from_domain(found) if found is not None else None

    @strawberry.field(description="One contact person, or null if there is none with this id.")
    async def person(self, info: Info, id: UUID) -> Person | None:
        found = await views.person(info.context.sessions, id)
        return Person.from_domain(found) if found is not None else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Found a core group; emits GroupCreated.")
    async def create_group(self, info: Info, input: CreateGroupInput) -> Group:
        ctx = info.context
        group = await refusing(
            handlers.create_group(input.command(), ctx.unit_of_work(), region=ctx.region)
        )
        return Group.from_domain(group)

    @strawberry.mutation(description="Admit a micro-enterprise to a group; emits MemberJoined.")
    async def add_member(self, info: Info, input: AddMemberInput) -> Member:
        ctx = info.context
        member = await refusing(
            handlers.add_member(input.command(), ctx.unit_of_work(), region=ctx.region)
        )
        return Member.from_domain(member)

    @strawberry.mutation(description="Record that a member left its group; emits MemberLeft.")
    async def member_leaves(self, info: Info, input: MemberLeavesInput) -> Member:
        ctx = info.context
        member = await refusing(
            handlers.member_leaves(input.command(), ctx.unit_of_work(), region=ctx.region)
        )
        return Member.from_domain(member)

    @strawberry.mutation(description="An active member takes a break; emits MemberPaused.")
    async def pause_member(self, info: Info, input: PauseMemberInput) -> Member:
        ctx = info.context
        member = await refusing(
            handlers.pause_member(input.command(), ctx.unit_of_work(), region=ctx.region)
        )
        return Member.from_domain(member)

    @strawberry.mutation(
        description="A paused or departed member is active again; emits MemberRejoined."
    )
    async def rejoin_member(self, info: Info, input: RejoinMemberInput) -> Member:
        ctx = info.context
        member = await refusing(
            handlers.rejoin_member(input.command(), ctx.unit_of_work(), region=ctx.region)
        )
        return Member.from_domain(member)

    @strawberry.mutation(
        description="Assign a facilitator to a group; emits FacilitatorAssigned (id only)."
    )
    async def assign_facilitator(self, info: Info, input: AssignFacilitatorInput) -> Group:
        ctx = info.context
        group = await refusing(
            handlers.assign_facilitator(input.command(), ctx.unit_of_work(), region=ctx.region)
        )
        return Group.from_domain(group)

    @strawberry.mutation(description="Remove a facilitator from a group; emits FacilitatorRemoved.")
    async def remove_facilitator(self, info: Info, input: RemoveFacilitatorInput) -> Group:
        ctx = info.context
        group = await refusing(
            handlers.remove_facilitator(input.command(), ctx.unit_of_work(), region=ctx.region)
        )
        return Group.from_domain(group)

    @strawberry.mutation(
        description="Register a member's contact entrepreneur; emits PersonRegistered "
        "(no personal data in the event)."
    )
    async def add_contact(
        self,
        info: Info,
        member_id: UUID,
        name: str,
        email: str,
        phone: str = "",
        language: Language = Language.FI,
    ) -> Person:
        ctx = info.context
        cmd = AddContact(member_id, name, email, phone, language.value)
        person = await refusing(handlers.add_contact(cmd, ctx.unit_of_work(), region=ctx.region))
        return Person.from_domain(person)

    @strawberry.mutation(description="Record a person's consent for a purpose; emits ConsentGiven.")
    async def give_consent(self, info: Info, input: ConsentInput) -> Person:
        ctx = info.context
        person = await refusing(
            handlers.give_consent(input.give(), ctx.unit_of_work(), region=ctx.region)
        )
        return Person.from_domain(person)

    @strawberry.mutation(
        description="Record that a person withdrew a consent; emits ConsentWithdrawn."
    )
    async def withdraw_consent(self, info: Info, input: ConsentInput) -> Person:
        ctx = info.context
        person = await refusing(
            handlers.withdraw_consent(input.withdraw(), ctx.unit_of_work(), region=ctx.region)
        )
        return Person.from_domain(person)

    @strawberry.mutation(
        description="Erase a person's personal data on request: consents in force are "
        "withdrawn (ConsentWithdrawn), then PersonErased."
    )
    async def erase_person(self, info: Info, person_id: UUID) -> Person:
        ctx = info.context
        person = await refusing(
            handlers.erase_person(ErasePerson(person_id), ctx.unit_of_work(), region=ctx.region)
        )
        return Person.from_domain(person)

    @strawberry.mutation(
        description="Import a member list from CSV: if every row is valid all are added in "
        "one transaction, otherwise none is and every invalid row is listed."
    )
    async def import_members(self, info: Info, group_id: UUID, csv: str) -> ImportResult:
        ctx = info.context
        result = await refusing(
            handlers.import_members(
                ImportMembers(group_id, csv), ctx.unit_of_work(), region=ctx.region
            )
        )
        return ImportResult(
            imported=result.imported,
            errors=[ImportRowError(line=e.line, reason=e.reason) for e in result.errors],
        )


schema = Schema(query=Query, mutation=Mutation)
