"""What a user can ask the groups service to do (built by the API, run by the handlers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class CreateGroup:
    name: str
    founded_on: date
    municipality: str = ""


@dataclass(frozen=True, slots=True)
class AddMember:
    group_id: UUID
    company_name: str
    employees: int
    joined_on: date
    business_id: str | None = None
    industry_code: str | None = None
    turnover_eur: int | None = None
    balance_sheet_eur: int | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateMember:
    """Edit a member's details; ``None``: unchanged (an empty text clears an optional one)."""

    member_id: UUID
    company_name: str | None = None
    business_id: str | None = None
    industry_code: str | None = None
    address: str | None = None
    employees: int | None = None
    turnover_eur: int | None = None
    balance_sheet_eur: int | None = None


@dataclass(frozen=True, slots=True)
class MemberLeaves:
    member_id: UUID
    left_on: date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AnnounceRegion:
    display_name: str
    agency: str = ""
    software_version: str = ""


@dataclass(frozen=True, slots=True)
class PauseMember:
    member_id: UUID
    paused_on: date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RejoinMember:
    member_id: UUID
    rejoined_on: date


@dataclass(frozen=True, slots=True)
class AssignFacilitator:
    group_id: UUID
    name: str
    email: str
    role: str
    assigned_on: date | None = None  # None: today


@dataclass(frozen=True, slots=True)
class RemoveFacilitator:
    group_id: UUID
    facilitator_id: UUID


@dataclass(frozen=True, slots=True)
class AddContact:
    member_id: UUID
    name: str
    email: str
    phone: str = ""
    language: str = "fi"


@dataclass(frozen=True, slots=True)
class GiveConsent:
    person_id: UUID
    purpose: str
    at: datetime | None = None  # None: now


@dataclass(frozen=True, slots=True)
class WithdrawConsent:
    person_id: UUID
    purpose: str
    at: datetime | None = None  # None: now


@dataclass(frozen=True, slots=True)
class ErasePerson:
    person_id: UUID


@dataclass(frozen=True, slots=True)
class ImportMembers:
    group_id: UUID
    csv: str
    dry_run: bool = False  # validate and answer the rows that would be added; save nothing


@dataclass(frozen=True, slots=True)
class CheckMember:
    """A member form's fields to check before saving; ``None``: not filled in yet."""

    group_id: UUID | None = None
    member_id: UUID | None = None  # editing this member: it is no duplicate of itself
    company_name: str | None = None
    business_id: str | None = None
    industry_code: str | None = None
    employees: int | None = None
    turnover_eur: int | None = None
    balance_sheet_eur: int | None = None
    joined_on: date | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class SearchMembers:
    text: str = ""
    group_id: UUID | None = None
    status: str | None = None  # active, paused, left
    first: int = 50
    offset: int = 0
    group_ids: tuple[UUID, ...] | None = None  # any of these groups (a facilitator's)
