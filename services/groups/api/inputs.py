"""GraphQL input types of the mutations; each builds its service-layer command."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import strawberry

from services.groups.api.types import ConsentPurpose, FacilitatorRole
from services.groups.commands import (
    AddMember,
    AssignFacilitator,
    CheckMember,
    CreateGroup,
    GiveConsent,
    MemberLeaves,
    PauseMember,
    RejoinMember,
    RemoveFacilitator,
    UpdateMember,
    WithdrawConsent,
)


@strawberry.input
class CreateGroupInput:
    name: str
    founded_on: date
    municipality: str = ""

    def command(self) -> CreateGroup:
        return CreateGroup(
            name=self.name, founded_on=self.founded_on, municipality=self.municipality
        )


@strawberry.input
class AddMemberInput:
    group_id: UUID
    company_name: str
    employees: int
    joined_on: date
    business_id: str | None = None
    industry_code: str | None = None
    turnover_eur: int | None = None
    balance_sheet_eur: int | None = None
    address: str | None = strawberry.field(
        default=None, description="The premises: street, postal code and town (the venue)."
    )

    def command(self) -> AddMember:
        return AddMember(
            group_id=self.group_id,
            company_name=self.company_name,
            employees=self.employees,
            joined_on=self.joined_on,
            business_id=self.business_id,
            industry_code=self.industry_code,
            turnover_eur=self.turnover_eur,
            balance_sheet_eur=self.balance_sheet_eur,
            address=self.address,
        )


@strawberry.input(
    description="A member's details to change, checked as when it was added; a field left "
    "out (null) stays as it is, an empty text clears businessId, industryCode or address."
)
class UpdateMemberInput:
    member_id: UUID
    company_name: str | None = None
    business_id: str | None = None
    industry_code: str | None = None
    address: str | None = None
    employees: int | None = None
    turnover_eur: int | None = None
    balance_sheet_eur: int | None = None

    def command(self) -> UpdateMember:
        return UpdateMember(
            member_id=self.member_id,
            company_name=self.company_name,
            business_id=self.business_id,
            industry_code=self.industry_code,
            address=self.address,
            employees=self.employees,
            turnover_eur=self.turnover_eur,
            balance_sheet_eur=self.balance_sheet_eur,
        )


@strawberry.input
class MemberLeavesInput:
    member_id: UUID
    left_on: date
    reason: str | None = None

    def command(self) -> MemberLeaves:
        return MemberLeaves(
            member_id=self.member_id, left_on=self.left_on, reason=self.reason or ""
        )


@strawberry.input
class PauseMemberInput:
    member_id: UUID
    paused_on: date
    reason: str | None = None

    def command(self) -> PauseMember:
        return PauseMember(
            member_id=self.member_id, paused_on=self.paused_on, reason=self.reason or ""
        )


@strawberry.input
class RejoinMemberInput:
    member_id: UUID
    rejoined_on: date

    def command(self) -> RejoinMember:
        return RejoinMember(member_id=self.member_id, rejoined_on=self.rejoined_on)


@strawberry.input
class AssignFacilitatorInput:
    group_id: UUID
    name: str
    email: str
    role: FacilitatorRole
    assigned_on: date | None = strawberry.field(default=None, description="Default: today.")

    def command(self) -> AssignFacilitator:
        return AssignFacilitator(
            group_id=self.group_id,
            name=self.name,
            email=self.email,
            role=self.role.value,
            assigned_on=self.assigned_on,
        )


@strawberry.input
class RemoveFacilitatorInput:
    group_id: UUID
    facilitator_id: UUID

    def command(self) -> RemoveFacilitator:
        return RemoveFacilitator(group_id=self.group_id, facilitator_id=self.facilitator_id)


@strawberry.input
class ConsentInput:
    person_id: UUID
    purpose: ConsentPurpose
    at: datetime | None = strawberry.field(
        default=None, description="When it was given or withdrawn (with a time zone); default: now."
    )

    def give(self) -> GiveConsent:
        return GiveConsent(person_id=self.person_id, purpose=self.purpose.value, at=self.at)

    def withdraw(self) -> WithdrawConsent:
        return WithdrawConsent(person_id=self.person_id, purpose=self.purpose.value, at=self.at)


@strawberry.input(description="A member form's fields as typed so far; leave out what is empty.")
class ValidateMemberInput:
    group_id: UUID | None = strawberry.field(
        default=None, description="With joinedOn: checks the date against the group."
    )
    member_id: UUID | None = strawberry.field(
        default=None, description="When editing a member: it is not its own duplicate."
    )
    company_name: str | None = None
    business_id: str | None = None
    industry_code: str | None = None
    employees: int | None = strawberry.field(
        default=None, description="With it the figures and the micro-enterprise size are checked."
    )
    turnover_eur: int | None = None
    balance_sheet_eur: int | None = None
    joined_on: date | None = None
    address: str | None = None

    def command(self) -> CheckMember:
        return CheckMember(
            group_id=self.group_id,
            member_id=self.member_id,
            company_name=self.company_name,
            business_id=self.business_id,
            industry_code=self.industry_code,
            employees=self.employees,
            turnover_eur=self.turnover_eur,
            balance_sheet_eur=self.balance_sheet_eur,
            joined_on=self.joined_on,
            address=self.address,
        )
