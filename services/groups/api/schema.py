"""Query and Mutation of the groups service: parse input, call a handler, map the result."""

# strawberry.field(description=...) is typed as returning Any:
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from uuid import UUID

import strawberry

from services.groups import handlers, views
from services.groups.api.context import GroupsContext
from services.groups.api.inputs import (
    AddMemberInput,
    AssignFacilitatorInput,
    ConsentInput,
    CreateGroupInput,
    MemberLeavesInput,
    PauseMemberInput,
    RejoinMemberInput,
    RemoveFacilitatorInput,
    UpdateMemberInput,
    ValidateMemberInput,
)
from services.groups.api.notes import FieldProblem, IndustryCode, MaskedText
from services.groups.api.types import (
    Group,
    ImportResult,
    ImportRow,
    ImportRowError,
    Language,
    Member,
    MemberCheck,
    MemberCompany,
    MemberPage,
    MembershipStatus,
    Person,
)
from services.groups.commands import AddContact, ErasePerson, ImportMembers, SearchMembers
from services.groups.domain import industry
from shared.i18n import current_language
from shared.runtime.graphql_errors import Schema
from shared.runtime.scalars import SCALARS

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
        found = await views.members(info.context.sessions, group_id, active_only=active_only)
        return [Member.from_domain(m) for m in found]

    @strawberry.field(description="One member, or null if there is none with this id.")
    async def member(self, info: Info, id: UUID) -> Member | None:
        found = await info.context.member_by_id.load(id)
        return Member.from_domain(found) if found is not None else None

    @strawberry.field(
        description="Several members in one query, in the order of ids (each once); ids "
        f"of no member are left out. At most {views.PAGE_MAX} ids."
    )
    async def members_by_ids(self, info: Info, ids: list[UUID]) -> list[Member]:
        found = await info.context.member_by_id.load_many(views.check_member_ids(ids))
        return [Member.from_domain(m) for m in found if m is not None]

    @strawberry.field(
        description="The company name and address of several members in one query, in the "
        "order of ids (each once; ids of no member left out): what other services show "
        f"beside member ids, without the members' histories. At most {views.PAGE_MAX} ids."
    )
    async def member_companies(self, info: Info, ids: list[UUID]) -> list[MemberCompany]:
        return [MemberCompany.of(c) for c in await views.companies(info.context.sessions, ids)]

    @strawberry.field(description="One contact person, or null if there is none with this id.")
    async def person(self, info: Info, id: UUID) -> Person | None:
        found = await views.person(info.context.sessions, id)
        return Person.from_domain(found) if found is not None else None

    @strawberry.field(
        description="Members found by company name, business ID (with or without the "
        "hyphen) or a contact's name or email: every word must match one of them, case and "
        "accents ignored (Oberg finds Öberg). In Finnish alphabetical order of company names "
        f"(Å, Ä, Ö after Z); at most {views.PAGE_MAX} a page. Without text: every member (of "
        "the group, in the status). groupIds: members of any of these groups."
    )
    async def search_members(
        self,
        info: Info,
        text: str = "",
        group_id: UUID | None = None,
        status: MembershipStatus | None = None,
        first: int = 50,
        offset: int = 0,
        group_ids: list[UUID] | None = None,
    ) -> MemberPage:
        cmd = SearchMembers(
            text,
            group_id,
            status.value if status else None,
            first,
            offset,
            tuple(group_ids) if group_ids is not None else None,
        )
        page = await views.search_members(info.context.sessions, cmd)
        return MemberPage(
            total=page.total,
            members=[Member.from_domain(m) for m in page.members],
            has_more=cmd.offset + len(page.members) < page.total,
        )

    @strawberry.field(
        description="Check a member form's fields without saving: the refusals addMember "
        "would give, field by field, and the likely duplicates (warnings) in the region."
    )
    async def validate_member(self, info: Info, input: ValidateMemberInput) -> MemberCheck:
        check = await views.check_member(info.context.sessions, input.command())
        found = industry.lookup(industry.normalised(input.industry_code or ""))
        return MemberCheck(
            valid=not check.problems,
            problems=[FieldProblem.from_error(p) for p in check.problems],
            warnings=[FieldProblem.from_error(w) for w in check.warnings],
            industry=IndustryCode.from_domain(found) if found is not None else None,
        )

    @strawberry.field(
        description="TOL 2008 industry codes starting with the text, or whose name in the "
        "caller's language contains it: codes first, then names starting with it; classes "
        "(4 digits) before the other levels."
    )
    def industry_codes(self, search: str, first: int = 20) -> list[IndustryCode]:
        found = industry.search(search, current_language(), limit=max(0, min(first, 200)))
        return [IndustryCode.from_domain(item) for item in found]

    @strawberry.field(description="One TOL 2008 industry code, or null if it is not one.")
    def industry_code(self, code: str) -> IndustryCode | None:
        found = industry.lookup(industry.normalised(code))
        return IndustryCode.from_domain(found) if found is not None else None

    @strawberry.field(
        description="The text with every name of the region's persons (contacts, "
        "facilitators, erased persons too) replaced by [name] and of its member companies by "
        "[company], and what was masked: for the copy of a memo that leaves the region."
    )
    async def mask_names(self, info: Info, text: str) -> MaskedText:
        ctx = info.context
        return MaskedText.from_domain(await views.mask_names(ctx.sessions, ctx.region, text))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Found a core group; emits GroupCreated.")
    async def create_group(self, info: Info, input: CreateGroupInput) -> Group:
        ctx = info.context
        group = await handlers.create_group(input.command(), ctx.unit_of_work(), region=ctx.region)
        return Group.from_domain(group)

    @strawberry.mutation(description="Admit a micro-enterprise to a group; emits MemberJoined.")
    async def add_member(self, info: Info, input: AddMemberInput) -> Member:
        ctx = info.context
        member = await handlers.add_member(input.command(), ctx.unit_of_work(), region=ctx.region)
        return Member.from_domain(member)

    @strawberry.mutation(
        description="Edit a member's details (company name, business ID, industry code, "
        "address, size) with the checks of adding it; emits MemberDetailsChanged (its names "
        "and address stay in the region). Likely duplicates: the answer's likelyDuplicates."
    )
    async def update_member(self, info: Info, input: UpdateMemberInput) -> Member:
        ctx = info.context
        member = await handlers.update_member(
            input.command(), ctx.unit_of_work(), region=ctx.region
        )
        return Member.from_domain(member)

    @strawberry.mutation(description="Record that a member left its group; emits MemberLeft.")
    async def member_leaves(self, info: Info, input: MemberLeavesInput) -> Member:
        ctx = info.context
        member = await handlers.member_leaves(
            input.command(), ctx.unit_of_work(), region=ctx.region
        )
        return Member.from_domain(member)

    @strawberry.mutation(description="An active member takes a break; emits MemberPaused.")
    async def pause_member(self, info: Info, input: PauseMemberInput) -> Member:
        ctx = info.context
        member = await handlers.pause_member(input.command(), ctx.unit_of_work(), region=ctx.region)
        return Member.from_domain(member)

    @strawberry.mutation(
        description="A paused or departed member is active again; emits MemberRejoined."
    )
    async def rejoin_member(self, info: Info, input: RejoinMemberInput) -> Member:
        ctx = info.context
        member = await handlers.rejoin_member(
            input.command(), ctx.unit_of_work(), region=ctx.region
        )
        return Member.from_domain(member)

    @strawberry.mutation(
        description="Assign a facilitator to a group; emits FacilitatorAssigned (id only)."
    )
    async def assign_facilitator(self, info: Info, input: AssignFacilitatorInput) -> Group:
        ctx = info.context
        group = await handlers.assign_facilitator(
            input.command(), ctx.unit_of_work(), region=ctx.region
        )
        return Group.from_domain(group)

    @strawberry.mutation(description="Remove a facilitator from a group; emits FacilitatorRemoved.")
    async def remove_facilitator(self, info: Info, input: RemoveFacilitatorInput) -> Group:
        ctx = info.context
        group = await handlers.remove_facilitator(
            input.command(), ctx.unit_of_work(), region=ctx.region
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
        person = await handlers.add_contact(cmd, ctx.unit_of_work(), region=ctx.region)
        return Person.from_domain(person)

    @strawberry.mutation(description="Record a person's consent for a purpose; emits ConsentGiven.")
    async def give_consent(self, info: Info, input: ConsentInput) -> Person:
        ctx = info.context
        person = await handlers.give_consent(input.give(), ctx.unit_of_work(), region=ctx.region)
        return Person.from_domain(person)

    @strawberry.mutation(
        description="Record that a person withdrew a consent; emits ConsentWithdrawn."
    )
    async def withdraw_consent(self, info: Info, input: ConsentInput) -> Person:
        ctx = info.context
        person = await handlers.withdraw_consent(
            input.withdraw(), ctx.unit_of_work(), region=ctx.region
        )
        return Person.from_domain(person)

    @strawberry.mutation(
        description="Erase a person's personal data on request: consents in force are "
        "withdrawn (ConsentWithdrawn), then PersonErased."
    )
    async def erase_person(self, info: Info, person_id: UUID) -> Person:
        ctx = info.context
        person = await handlers.erase_person(
            ErasePerson(person_id), ctx.unit_of_work(), region=ctx.region
        )
        return Person.from_domain(person)

    @strawberry.mutation(
        description="Import a member list from CSV: if every row is valid all are added in "
        "one transaction, otherwise none is and every invalid row is listed. With dryRun the "
        "file is only checked: the rows that would be added, or every invalid row; nothing "
        "is saved."
    )
    async def import_members(
        self, info: Info, group_id: UUID, csv: str, dry_run: bool = False
    ) -> ImportResult:
        ctx = info.context
        result = await handlers.import_members(
            ImportMembers(group_id, csv, dry_run=dry_run), ctx.unit_of_work(), region=ctx.region
        )
        return ImportResult(
            imported=result.imported,
            errors=[ImportRowError.from_domain(e) for e in result.errors],
            dry_run=result.dry_run,
            rows=[ImportRow.from_domain(row) for row in result.rows],
        )


schema = Schema(query=Query, mutation=Mutation, scalar_overrides=SCALARS)
