"""GraphQL output types, built from domain objects (ORM rows are never exposed)."""

# strawberry.field(description=...) is typed as returning Any:
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from services.groups import domain, queries, views
from services.groups.api.context import GroupsContext
from services.groups.api.notes import FieldProblem, IndustryCode
from services.groups.domain.industry import lookup


@strawberry.enum(description="Where a membership stands.")
class MembershipStatus(Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"


@strawberry.enum(description="A step of a membership.")
class MembershipChangeKind(Enum):
    JOINED = "joined"
    PAUSED = "paused"
    LEFT = "left"
    REJOINED = "rejoined"


@strawberry.enum(description="Who facilitates: a PBAS business-development agent or a researcher.")
class FacilitatorRole(Enum):
    AGENCY_AGENT = "agency_agent"
    RESEARCHER = "researcher"


@strawberry.enum(description="What a person consents to.")
class ConsentPurpose(Enum):
    RESEARCH_USE = "research_use"
    AUDIO_RECORDING = "audio_recording"
    CONTACT_SHARING = "contact_sharing"


@strawberry.enum(description="A person's preferred language.")
class Language(Enum):
    FI = "fi"
    SV = "sv"
    EN = "en"


@strawberry.enum
class ConsentAction(Enum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"


@strawberry.type(description="One dated step of a membership's history.")
class MembershipChange:
    kind: MembershipChangeKind
    on: date
    reason: str | None

    @classmethod
    def from_domain(cls, change: domain.MembershipChange) -> MembershipChange:
        return cls(
            kind=MembershipChangeKind(change.kind), on=change.on, reason=change.reason or None
        )


@strawberry.type(description="A consent given or withdrawn, with its time.")
class ConsentChange:
    purpose: ConsentPurpose
    action: ConsentAction
    at: datetime


@strawberry.type(description="Where a person's consent for one purpose stands.")
class Consent:
    purpose: ConsentPurpose
    given: bool
    given_at: datetime | None
    withdrawn_at: datetime | None


@strawberry.type(
    description="A contact entrepreneur of a member. Personal data stays in the region; "
    "after erasure name, email and phone are null."
)
class Person:
    id: UUID
    member_id: UUID
    name: str | None
    email: str | None
    phone: str | None
    language: Language
    erased: bool
    erased_at: datetime | None
    consents: list[Consent] = strawberry.field(description="Every purpose and its state.")
    consent_history: list[ConsentChange]

    @classmethod
    def from_domain(cls, person: domain.Person) -> Person:
        return cls(
            id=person.id,
            member_id=person.member_id,
            name=person.name or None,
            email=person.email or None,
            phone=person.phone or None,
            language=Language(person.language),
            erased=person.erased,
            erased_at=person.erased_at,
            consents=[
                Consent(
                    purpose=ConsentPurpose(c.purpose),
                    given=c.given,
                    given_at=c.given_at,
                    withdrawn_at=c.withdrawn_at,
                )
                for c in person.consents()
            ],
            consent_history=[
                ConsentChange(
                    purpose=ConsentPurpose(c.purpose), action=ConsentAction(c.action), at=c.at
                )
                for c in person.consent_history
            ],
        )


@strawberry.type(description="A facilitator of a group (events know only the id).")
class Facilitator:
    id: UUID
    name: str
    email: str
    role: FacilitatorRole
    assigned_on: date

    @classmethod
    def from_domain(cls, facilitator: domain.Facilitator) -> Facilitator:
        return cls(
            id=facilitator.id,
            name=facilitator.name,
            email=facilitator.email,
            role=FacilitatorRole(facilitator.role),
            assigned_on=facilitator.assigned_on,
        )


@strawberry.type(description="A member's company name and premises, nothing else.")
class MemberCompany:
    id: UUID
    company_name: str
    address: str | None = strawberry.field(
        description="The premises (street, postal code and town): the venue when it hosts."
    )

    @classmethod
    def of(cls, company: queries.Company) -> MemberCompany:
        return cls(id=company.member_id, company_name=company.company_name, address=company.address)


@strawberry.type(description="A member enterprise's membership of one core group.")
class Member:
    id: UUID
    group_id: UUID
    company_name: str
    business_id: str | None = strawberry.field(description="Finnish business ID (Y-tunnus).")
    industry_code: str | None = strawberry.field(description="TOL 2008 industry code.")
    address: str | None = strawberry.field(
        description="The premises (street, postal code and town): the venue when it hosts."
    )
    employees: int
    turnover_eur: int | None
    balance_sheet_eur: int | None
    joined_on: date
    left_on: date | None
    leave_reason: str | None
    active: bool
    status: MembershipStatus
    paused_on: date | None
    history: list[MembershipChange] = strawberry.field(
        description="Every change of the membership with its date, oldest first."
    )

    @strawberry.field(description="The member's contact entrepreneurs (erased ones included).")
    async def contacts(self, info: strawberry.Info[GroupsContext, None]) -> list[Person]:
        found = await info.context.contacts_by_member.load(self.id)
        return [Person.from_domain(p) for p in found]

    @strawberry.field(description="The industry code's class and name (null: none given).")
    def industry(self) -> IndustryCode | None:
        found = lookup(self.industry_code) if self.industry_code else None
        return IndustryCode.from_domain(found) if found is not None else None

    @strawberry.field(
        description="Other members of the region that may be the same company: the same "
        "business ID, or the same name where one has no business ID (one query per member: "
        "ask on a member's page, not in long lists)."
    )
    async def likely_duplicates(
        self, info: strawberry.Info[GroupsContext, None]
    ) -> list[FieldProblem]:
        found = await info.context.member_by_id.load(self.id)  # the request's, if read
        if found is None:
            return []
        warnings = await views.likely_duplicates(info.context.sessions, found)
        return [FieldProblem.from_error(w) for w in warnings]

    @classmethod
    def from_domain(cls, member: domain.Member) -> Member:
        company = member.enterprise
        return cls(
            id=member.id,
            group_id=member.group_id,
            company_name=company.company_name,
            business_id=company.business_id,
            industry_code=company.industry_code,
            address=company.address,
            employees=company.employees,
            turnover_eur=company.turnover_eur,
            balance_sheet_eur=company.balance_sheet_eur,
            joined_on=member.joined_on,
            left_on=member.left_on,
            leave_reason=member.leave_reason or None,
            active=member.active,
            status=MembershipStatus(member.status),
            paused_on=member.paused_on,
            history=[MembershipChange.from_domain(c) for c in member.history],
        )


@strawberry.type(description="A regional core group of micro-entrepreneurs.")
class Group:
    id: UUID
    name: str
    municipality: str
    founded_on: date
    facilitators: list[Facilitator]

    @strawberry.field(description="The group's members in order of joining.")
    async def members(
        self, info: strawberry.Info[GroupsContext, None], active_only: bool = False
    ) -> list[Member]:
        found = await info.context.members_by_group.load(self.id)
        return [Member.from_domain(m) for m in found if m.active or not active_only]

    @classmethod
    def from_domain(cls, group: domain.Group) -> Group:
        return cls(
            id=group.id,
            name=group.name,
            municipality=group.municipality,
            founded_on=group.founded_on,
            facilitators=[Facilitator.from_domain(f) for f in group.facilitators],
        )


@strawberry.type(description="An invalid row of an imported CSV.")
class ImportRowError:
    line: int = strawberry.field(description="Line number in the file; the header is line 1.")
    reason: str = strawberry.field(description="What is wrong, in the caller's language.")
    code: str
    field: str | None = strawberry.field(description="The column at fault, if one is.")
    params: JSON

    @classmethod
    def from_domain(cls, row: domain.RowError) -> ImportRowError:
        problem = FieldProblem.from_error(row.error)
        return cls(
            line=row.line,
            reason=problem.message,
            code=problem.code,
            field=row.error.field,  # the CSV's own column name
            params=problem.params,
        )


@strawberry.type(description="A valid row of an imported CSV: the member it adds.")
class ImportRow:
    line: int = strawberry.field(description="Line number in the file; the header is line 1.")
    company_name: str
    business_id: str | None
    industry_code: str | None
    employees: int
    joined_on: date
    contact_name: str | None
    contact_email: str | None

    @classmethod
    def from_domain(cls, row: domain.ImportedMember) -> ImportRow:
        company = row.member.enterprise
        return cls(
            line=row.line,
            company_name=company.company_name,
            business_id=company.business_id,
            industry_code=company.industry_code,
            employees=company.employees,
            joined_on=row.member.joined_on,
            contact_name=row.person.name if row.person else None,
            contact_email=row.person.email if row.person else None,
        )


@strawberry.type(
    description="An import's outcome: all rows imported, or none and every invalid row listed."
)
class ImportResult:
    imported: int
    errors: list[ImportRowError]
    dry_run: bool = strawberry.field(description="Only checked: nothing was saved.")
    rows: list[ImportRow] = strawberry.field(
        description="The rows added, or in a dry run those that would be (empty when a row "
        "is invalid)."
    )


@strawberry.type(description="One page of members found.")
class MemberPage:
    total: int = strawberry.field(description="How many members match, on every page.")
    members: list[Member]
    has_more: bool


@strawberry.type(description="What a member form would be told, before anything is saved.")
class MemberCheck:
    valid: bool = strawberry.field(description="No field breaks a rule (warnings allowed).")
    problems: list[FieldProblem] = strawberry.field(
        description="Rules broken, at most one per field: saving would be refused."
    )
    warnings: list[FieldProblem] = strawberry.field(
        description="Likely duplicates: saving is allowed, but have a look first."
    )
    industry: IndustryCode | None = strawberry.field(
        description="The industry code's class and name, when it is a valid one."
    )
