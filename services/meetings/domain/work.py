"""What a meeting leads to: follow-up actions, CoP activities and joint initiatives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, tzinfo
from enum import StrEnum
from uuid import UUID

from services.meetings.domain.meeting import (
    Meeting,
    check_members,
    clean_text,
    member_problem,
    require_held,
)
from services.meetings.domain.membership import Membership
from shared.contracts import (
    ACTIVITY_TYPES,
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    InitiativeStarted,
    InitiativeUpdated,
)
from shared.errors import meetings as errors
from shared.errors import meetings_work as work_errors

ACTION_MAX = 1000
EXAMPLE_MAX = 2000
TITLE_MAX = 300
OUTCOME_MAX = 2000
INITIATIVE_STATUSES: tuple[str, ...] = ("active", "paused", "completed", "abandoned")
FINISHED = ("completed", "abandoned")


class ActionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ActionItem:
    """Who (a member) does what by when, agreed in a held meeting; open until closed."""

    id: UUID
    meeting_id: UUID
    group_id: UUID
    owner_member_id: UUID
    description: str
    agreed_on: date
    due_on: date | None = None
    status: ActionStatus = ActionStatus.OPEN
    closed_on: date | None = None
    outcome: str = ""
    version: int = 1

    @classmethod
    def agree(
        cls,
        *,
        action_id: UUID,
        meeting: Meeting,
        owner_member_id: UUID,
        owner: Membership | None,
        description: str,
        due_on: date | None,
        tz: tzinfo,
    ) -> tuple[ActionItem, ActionItemAgreed]:
        require_held(meeting)
        text = clean_text(description, field="description", limit=ACTION_MAX)
        day = meeting.day(tz)
        why = member_problem(meeting.group_id, owner_member_id, owner, day)
        if why:
            raise errors.MemberNotInGroup(owner_member_id, why, field="owner_member_id")
        if due_on is not None and due_on < day:
            raise work_errors.DateBeforeStart("due_on", due_on, day)
        item = cls(
            id=action_id,
            meeting_id=meeting.id,
            group_id=meeting.group_id,
            owner_member_id=owner_member_id,
            description=text,
            agreed_on=day,
            due_on=due_on,
        )
        event = ActionItemAgreed(
            action_id=action_id,
            meeting_id=meeting.id,
            group_id=meeting.group_id,
            owner_member_id=owner_member_id,
            description=text,
            due_on=due_on,
        )
        return item, event

    def close(self, *, closed_on: date, outcome: str) -> tuple[ActionItem, ActionItemClosed]:
        if self.status is ActionStatus.CLOSED:
            raise work_errors.ActionAlreadyClosed(self.id, self.closed_on)
        if closed_on < self.agreed_on:
            raise work_errors.DateBeforeStart("closed_on", closed_on, self.agreed_on)
        text = outcome.strip()
        if len(text) > ACTION_MAX:
            raise work_errors.TextTooLong("outcome", len(text), ACTION_MAX)
        closed = replace(
            self,
            status=ActionStatus.CLOSED,
            closed_on=closed_on,
            outcome=text,
            version=self.version + 1,
        )
        event = ActionItemClosed(
            action_id=self.id, group_id=self.group_id, closed_on=closed_on, outcome=text
        )
        return closed, event


@dataclass(frozen=True, slots=True)
class Activity:
    """One CoP activity observed in a held meeting, classified by Wenger's 11 types."""

    id: UUID
    meeting_id: UUID
    group_id: UUID
    activity_type: str
    example: str
    member_ids: tuple[UUID, ...] = ()
    coder_id: UUID | None = None

    @classmethod
    def record(
        cls,
        *,
        activity_id: UUID,
        meeting: Meeting,
        activity_type: str,
        example: str,
        member_ids: Sequence[UUID],
        members: Mapping[UUID, Membership],
        coder_id: UUID | None,
    ) -> tuple[Activity, ActivityRecorded]:
        require_held(meeting)
        if activity_type not in ACTIVITY_TYPES:
            raise work_errors.UnknownActivityType(activity_type, ACTIVITY_TYPES)
        text = clean_text(example, field="example", limit=EXAMPLE_MAX)
        involved = check_members(meeting.group_id, member_ids, members)
        activity = cls(
            id=activity_id,
            meeting_id=meeting.id,
            group_id=meeting.group_id,
            activity_type=activity_type,
            example=text,
            member_ids=involved,
            coder_id=coder_id,
        )
        event = ActivityRecorded(
            activity_id=activity_id,
            meeting_id=meeting.id,
            group_id=meeting.group_id,
            activity_type=activity_type,  # type: ignore[arg-type]  # checked above
            example=text,
            member_ids=involved,
            coder_id=coder_id,
        )
        return activity, event


@dataclass(frozen=True, slots=True)
class InitiativeUpdate:
    """One entry of an initiative's history (sequence 1 is its start)."""

    sequence: int
    status: str
    outcome: str
    member_ids: tuple[UUID, ...]
    on: date


@dataclass(frozen=True, slots=True)
class Initiative:
    """Joint work that started in a meeting and went on after it; every change is kept."""

    id: UUID
    group_id: UUID
    origin_meeting_id: UUID | None
    title: str
    started_on: date
    status: str = "active"
    outcome: str = ""
    member_ids: tuple[UUID, ...] = ()
    version: int = 1
    history: tuple[InitiativeUpdate, ...] = field(default=())

    @classmethod
    def start(
        cls,
        *,
        initiative_id: UUID,
        meeting: Meeting,
        title: str,
        member_ids: Sequence[UUID],
        members: Mapping[UUID, Membership],
        started_on: date | None,
        tz: tzinfo,
    ) -> tuple[Initiative, InitiativeStarted]:
        require_held(meeting)
        text = clean_text(title, field="title", limit=TITLE_MAX)
        if not member_ids:
            raise work_errors.InitiativeNeedsMembers()
        involved = check_members(meeting.group_id, member_ids, members)
        day = meeting.day(tz)
        start = started_on or day
        if start < day:
            raise work_errors.DateBeforeStart("started_on", start, day)
        initiative = cls(
            id=initiative_id,
            group_id=meeting.group_id,
            origin_meeting_id=meeting.id,
            title=text,
            started_on=start,
            member_ids=involved,
            history=(InitiativeUpdate(1, "active", "", involved, start),),
        )
        event = InitiativeStarted(
            initiative_id=initiative_id,
            group_id=meeting.group_id,
            origin_meeting_id=meeting.id,
            title=text,
            member_ids=involved,
            started_on=start,
        )
        return initiative, event

    def update(
        self,
        *,
        status: str,
        outcome: str | None,
        member_ids: Sequence[UUID] | None,
        members: Mapping[UUID, Membership],
        updated_on: date,
    ) -> tuple[Initiative, InitiativeUpdated]:
        """A new status (and outcome, members); unchanged parts carry over."""
        if self.status in FINISHED:
            raise work_errors.InitiativeFinished(self.id, self.status)
        if status not in INITIATIVE_STATUSES:
            raise work_errors.UnknownInitiativeStatus(status, INITIATIVE_STATUSES)
        text = self.outcome if outcome is None else outcome.strip()
        if len(text) > OUTCOME_MAX:
            raise work_errors.TextTooLong("outcome", len(text), OUTCOME_MAX)
        involved = self.member_ids
        if member_ids is not None:
            if not member_ids:
                raise work_errors.InitiativeNeedsMembers()
            involved = check_members(self.group_id, member_ids, members)
        last = self.history[-1].on if self.history else self.started_on
        if updated_on < last:
            raise work_errors.DateBeforeLatestUpdate("updated_on", updated_on, last)
        version = self.version + 1
        updated = replace(
            self,
            status=status,
            outcome=text,
            member_ids=involved,
            version=version,
            history=(*self.history, InitiativeUpdate(version, status, text, involved, updated_on)),
        )
        event = InitiativeUpdated(
            initiative_id=self.id,
            group_id=self.group_id,
            status=status,  # type: ignore[arg-type]  # checked above
            outcome=text,
            member_ids=involved,
            updated_on=updated_on,
        )
        return updated, event


@dataclass(frozen=True, slots=True)
class HostSuggestion:
    member_id: UUID
    last_hosted_on: date | None
    times_hosted: int
    joined_on: date | None = None

    def reason(self) -> errors.RotationReason:
        """Why the rotation puts this member where it is (shown with the suggestion)."""
        if self.last_hosted_on is None:
            return errors.NeverHosted(self.joined_on)
        return errors.HostedLongestAgo(self.last_hosted_on, self.times_hosted)


def suggest_hosts(
    members: Sequence[Membership],
    hosted: Mapping[UUID, Sequence[date]],
    on: date,
) -> list[HostSuggestion]:
    """Members active on ``on``, who hosted least recently first (never hosted first of
    all; ties by earlier joining, then id). ``hosted``: each member's hosting dates."""
    candidates = [
        HostSuggestion(
            member_id=m.member_id,
            last_hosted_on=max(hosted[m.member_id]) if hosted.get(m.member_id) else None,
            times_hosted=len(hosted.get(m.member_id, ())),
            joined_on=m.joined_on,
        )
        for m in members
        if m.active_on(on)
    ]
    joined = {m.member_id: m.joined_on or date.min for m in members}

    def order(s: HostSuggestion) -> tuple[bool, date, date, str]:
        return (
            s.last_hosted_on is not None,
            s.last_hosted_on or date.min,
            joined[s.member_id],
            str(s.member_id),
        )

    return sorted(candidates, key=order)
