"""Events of the groups service: core groups and their member enterprises.

Members appear only by pseudonymous id: company names and entrepreneurs' personal data
stay in the region.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.contracts.base import Event


class GroupCreated(Event):
    """A regional core group was founded (aggregate: the group)."""

    TYPE = "groups.group.created"

    group_id: UUID
    name: str = Field(min_length=1, max_length=200)
    municipality: str = Field(default="", max_length=120)
    founded_on: date


class MemberJoined(Event):
    """A micro-enterprise joined a core group (aggregate: the member)."""

    TYPE = "groups.member.joined"

    member_id: UUID
    group_id: UUID
    joined_on: date
    employees: int = Field(ge=0)
    turnover_eur: int | None = Field(default=None, ge=0)
    balance_sheet_eur: int | None = Field(default=None, ge=0)
    industry_code: str = Field(default="", max_length=10)


class MemberDetailsChanged(Event):
    """A member company's details were edited in the region (aggregate: the member). It
    carries what ``MemberJoined`` carries, as now; of the fields that never leave the region
    (company name, business ID, address) only their names in ``changed_fields``."""

    TYPE = "groups.member.details_changed"
    VERSION = 1

    member_id: UUID
    group_id: UUID
    employees: int = Field(ge=0)
    turnover_eur: int | None = Field(default=None, ge=0)
    balance_sheet_eur: int | None = Field(default=None, ge=0)
    industry_code: str = Field(default="", max_length=10)
    changed_fields: tuple[str, ...] = ()


class MemberLeft(Event):
    """A member enterprise left its core group (aggregate: the member)."""

    TYPE = "groups.member.left"

    member_id: UUID
    group_id: UUID
    left_on: date
    reason: str = Field(default="", max_length=500)


FacilitatorRole = Literal["agency_agent", "researcher"]
ConsentPurpose = Literal["research_use", "audio_recording", "contact_sharing"]
Language = Literal["fi", "sv", "en"]


class FacilitatorAssigned(Event):
    """A PBAS agent or a university researcher facilitates a group (pseudonymous id)."""

    TYPE = "groups.group.facilitator_assigned"

    group_id: UUID
    facilitator_id: UUID
    role: FacilitatorRole


class FacilitatorRemoved(Event):
    TYPE = "groups.group.facilitator_removed"

    group_id: UUID
    facilitator_id: UUID


class MemberPaused(Event):
    """A member takes a break from its group; it is not active until it rejoins."""

    TYPE = "groups.member.paused"

    member_id: UUID
    group_id: UUID
    paused_on: date
    reason: str = Field(default="", max_length=500)


class MemberRejoined(Event):
    """A paused or departed member is active in its group again."""

    TYPE = "groups.member.rejoined"

    member_id: UUID
    group_id: UUID
    rejoined_on: date


class PersonRegistered(Event):
    """A contact entrepreneur of a member (aggregate: the person). Name, email and phone
    stay in the region; the network knows the person only by this id."""

    TYPE = "groups.person.registered"

    person_id: UUID
    member_id: UUID
    language: Language = "fi"


class ConsentGiven(Event):
    TYPE = "groups.consent.given"

    person_id: UUID
    member_id: UUID
    purpose: ConsentPurpose
    given_at: AwareDatetime


class ConsentWithdrawn(Event):
    TYPE = "groups.consent.withdrawn"

    person_id: UUID
    member_id: UUID
    purpose: ConsentPurpose
    withdrawn_at: AwareDatetime


class PersonErased(Event):
    """A person's personal data was erased in the region on request; consumers delete
    whatever they hold about ``person_id``."""

    TYPE = "groups.person.erased"

    person_id: UUID
    member_id: UUID
    erased_at: AwareDatetime
