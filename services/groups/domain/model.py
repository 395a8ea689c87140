"""The aggregates: a core group, and a member enterprise of one group.

Each aggregate counts its events in ``version`` (the envelope's ``sequence``): a group has
1 once founded and one more per facilitator assigned or removed; a member has 1 once joined
and one more per pause, leave, rejoin or edit of its details. Methods that change state
return the contract event they raise; the service layer puts it in the outbox.

A membership's lifecycle: joined -> active; active -> paused | left; paused -> left | active
(rejoined); left -> active (rejoined). Every change is kept in ``Member.history`` with its
date; dates never go backwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args
from uuid import UUID, uuid4

from services.groups.domain.enterprise import DETAIL_FIELDS, Enterprise
from services.groups.domain.rules import check_email
from shared.contracts import (
    FacilitatorAssigned,
    FacilitatorRemoved,
    GroupCreated,
    MemberDetailsChanged,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    MemberRejoined,
)
from shared.contracts.groups import FacilitatorRole
from shared.errors import DomainError
from shared.errors.groups import (
    AlreadyActiveMember,
    DateBeforeLastChange,
    DateInFuture,
    InvalidGroupName,
    InvalidMunicipality,
    InvalidReason,
    JoinDateInFuture,
    JoinedBeforeFounding,
    LeaveDateInFuture,
    LeftBeforeJoined,
    LeftBeforeLastChange,
    MemberAlreadyActive,
    MemberAlreadyLeft,
    MemberAlreadyPaused,
    MemberDetailsUnchanged,
    PauseDateInFuture,
    PausedBeforeLastChange,
    RejoinDateInFuture,
    RejoinedBeforeLastChange,
)
from shared.errors.people import (
    FacilitatorAlreadyAssigned,
    FacilitatorNotFound,
    InvalidFacilitatorName,
    InvalidFacilitatorRole,
)

GROUP_NAME_MAX = 200
MUNICIPALITY_MAX = 120
REASON_MAX = 500
PERSON_NAME_MAX = 200

MembershipStatus = Literal["active", "paused", "left"]
ChangeKind = Literal["joined", "paused", "left", "rejoined"]
FACILITATOR_ROLES: tuple[str, ...] = get_args(FacilitatorRole)


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """One step of a membership's history."""

    kind: ChangeKind
    on: date
    reason: str = ""


def _reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise InvalidReason(length=len(reason), max=REASON_MAX)
    return reason


def _not_after(on: date, today: date, refusal: type[DateInFuture]) -> None:
    if on > today:
        raise refusal(on=on, today=today)


@dataclass(slots=True)
class Member:
    """A company's membership of one core group (aggregate)."""

    id: UUID
    group_id: UUID
    enterprise: Enterprise
    joined_on: date
    left_on: date | None = None
    leave_reason: str = ""
    version: int = 0
    paused_on: date | None = None
    history: list[MembershipChange] = field(default_factory=list)

    @property
    def status(self) -> MembershipStatus:
        if self.left_on is not None:
            return "left"
        if self.paused_on is not None:
            return "paused"
        return "active"

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def last_change_on(self) -> date:
        return max([self.joined_on, *(change.on for change in self.history)])

    def _check_date(self, on: date, refusal: type[DateBeforeLastChange]) -> None:
        last = self.last_change_on
        if on < last:
            raise refusal(company=self.enterprise.company_name, on=on, last=last)

    def _record(self, change: MembershipChange) -> None:
        self.history.append(change)
        self.version += 1

    def leave(self, *, left_on: date, today: date, reason: str = "") -> MemberLeft:
        company = self.enterprise.company_name
        if self.left_on is not None:
            raise MemberAlreadyLeft(company=company, left_on=self.left_on)
        if left_on < self.joined_on:
            raise LeftBeforeJoined(company=company, left_on=left_on, joined_on=self.joined_on)
        self._check_date(left_on, LeftBeforeLastChange)
        _not_after(left_on, today, LeaveDateInFuture)
        reason = _reason(reason)
        self.left_on, self.leave_reason, self.paused_on = left_on, reason, None
        self._record(MembershipChange("left", left_on, reason))
        return MemberLeft(member_id=self.id, group_id=self.group_id, left_on=left_on, reason=reason)

    def pause(self, *, paused_on: date, today: date, reason: str = "") -> MemberPaused:
        company = self.enterprise.company_name
        if self.left_on is not None:
            raise MemberAlreadyLeft(company=company, left_on=self.left_on)
        if self.paused_on is not None:
            raise MemberAlreadyPaused(company=company, paused_on=self.paused_on)
        self._check_date(paused_on, PausedBeforeLastChange)
        _not_after(paused_on, today, PauseDateInFuture)
        reason = _reason(reason)
        self.paused_on = paused_on
        self._record(MembershipChange("paused", paused_on, reason))
        return MemberPaused(
            member_id=self.id, group_id=self.group_id, paused_on=paused_on, reason=reason
        )

    def change_details(
        self, changed: Enterprise, *, group: str, active_members: Iterable[Member] = ()
    ) -> MemberDetailsChanged:
        """Edit the company's details with the rules of admitting it (``active_members``:
        the group's current members, for the one-membership-per-business-ID rule)."""
        company = changed.validated()
        before = self.enterprise
        fields = tuple(f for f in DETAIL_FIELDS if getattr(company, f) != getattr(before, f))
        if not fields:
            raise MemberDetailsUnchanged(company=company.company_name, member_id=self.id)
        if company.business_id is not None and self.status != "left":
            for other in active_members:
                if (
                    other.id != self.id
                    and other.status != "left"
                    and other.enterprise.business_id == company.business_id
                ):
                    raise AlreadyActiveMember(
                        company=company.company_name,
                        business_id=company.business_id,
                        group=group,
                        member_id=other.id,
                    )
        self.enterprise = company
        self.version += 1
        return MemberDetailsChanged(
            member_id=self.id,
            group_id=self.group_id,
            employees=company.employees,
            turnover_eur=company.turnover_eur,
            balance_sheet_eur=company.balance_sheet_eur,
            industry_code=company.industry_code or "",
            changed_fields=fields,
        )

    def rejoin(self, *, rejoined_on: date, today: date) -> MemberRejoined:
        if self.active:
            raise MemberAlreadyActive(company=self.enterprise.company_name)
        self._check_date(rejoined_on, RejoinedBeforeLastChange)
        _not_after(rejoined_on, today, RejoinDateInFuture)
        self.left_on, self.leave_reason, self.paused_on = None, "", None
        self._record(MembershipChange("rejoined", rejoined_on))
        return MemberRejoined(member_id=self.id, group_id=self.group_id, rejoined_on=rejoined_on)


@dataclass(frozen=True, slots=True)
class Facilitator:
    """A PBAS agent or researcher facilitating a group; name and email stay in the region."""

    id: UUID
    name: str
    email: str
    role: FacilitatorRole
    assigned_on: date


@dataclass(slots=True)
class Group:
    """A regional core group of micro-entrepreneurs (aggregate)."""

    id: UUID
    name: str
    municipality: str
    founded_on: date
    version: int = 0
    facilitators: list[Facilitator] = field(default_factory=list)

    @classmethod
    def found(
        cls, *, name: str, municipality: str, founded_on: date, group_id: UUID | None = None
    ) -> tuple[Group, GroupCreated]:
        name, municipality = name.strip(), municipality.strip()
        if not name or len(name) > GROUP_NAME_MAX:
            raise InvalidGroupName(max=GROUP_NAME_MAX, length=len(name))
        if len(municipality) > MUNICIPALITY_MAX:
            raise InvalidMunicipality(max=MUNICIPALITY_MAX, length=len(municipality))
        group = cls(group_id or uuid4(), name, municipality, founded_on, version=1)
        event = GroupCreated(
            group_id=group.id, name=name, municipality=municipality, founded_on=founded_on
        )
        return group, event

    def joining_problems(self, joined_on: date, *, today: date) -> list[DomainError]:
        """What is wrong with joining this group on ``joined_on`` (empty: nothing)."""
        if joined_on < self.founded_on:
            return [
                JoinedBeforeFounding(
                    joined_on=joined_on, group=self.name, founded_on=self.founded_on
                )
            ]
        if joined_on > today:
            return [JoinDateInFuture(on=joined_on, today=today)]
        return []

    def admit(
        self,
        enterprise: Enterprise,
        *,
        joined_on: date,
        today: date,
        active_members: Iterable[Member] = (),
        member_id: UUID | None = None,
    ) -> tuple[Member, MemberJoined]:
        """Admit a micro-enterprise; ``active_members`` are this group's current members."""
        company = enterprise.validated()
        for problem in self.joining_problems(joined_on, today=today):
            raise problem
        if company.business_id is not None:
            for other in active_members:
                if other.status != "left" and other.enterprise.business_id == company.business_id:
                    raise AlreadyActiveMember(
                        company=company.company_name,
                        business_id=company.business_id,
                        group=self.name,
                        member_id=other.id,
                    )
        member = Member(
            member_id or uuid4(),
            self.id,
            company,
            joined_on,
            version=1,
            history=[MembershipChange("joined", joined_on)],
        )
        event = MemberJoined(
            member_id=member.id,
            group_id=self.id,
            joined_on=joined_on,
            employees=company.employees,
            turnover_eur=company.turnover_eur,
            balance_sheet_eur=company.balance_sheet_eur,
            industry_code=company.industry_code or "",
        )
        return member, event

    def assign_facilitator(
        self,
        *,
        name: str,
        email: str,
        role: str,
        assigned_on: date,
        facilitator_id: UUID | None = None,
    ) -> tuple[Facilitator, FacilitatorAssigned]:
        """Assign a facilitator; ``facilitator_id`` reuses the pseudonym the region already
        gave this person (same email) in another group."""
        name = name.strip()
        if not name or len(name) > PERSON_NAME_MAX:
            raise InvalidFacilitatorName(max=PERSON_NAME_MAX, length=len(name))
        email = check_email(email)
        if role not in FACILITATOR_ROLES:
            raise InvalidFacilitatorRole(role=role[:40], roles=FACILITATOR_ROLES)
        for existing in self.facilitators:
            if existing.email.lower() == email.lower():
                raise FacilitatorAlreadyAssigned(email=email, group=self.name)
        facilitator = Facilitator(
            facilitator_id or uuid4(),
            name,
            email,
            role,  # type: ignore[arg-type]  # checked against FACILITATOR_ROLES above
            assigned_on,
        )
        self.facilitators.append(facilitator)
        self.version += 1
        event = FacilitatorAssigned(
            group_id=self.id, facilitator_id=facilitator.id, role=facilitator.role
        )
        return facilitator, event

    def remove_facilitator(self, facilitator_id: UUID) -> FacilitatorRemoved:
        for index, existing in enumerate(self.facilitators):
            if existing.id == facilitator_id:
                del self.facilitators[index]
                self.version += 1
                return FacilitatorRemoved(group_id=self.id, facilitator_id=facilitator_id)
        raise FacilitatorNotFound(facilitator_id=facilitator_id, group=self.name)
