"""Loading and saving meetings through a session (rows <-> domain objects)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.meetings.domain import (
    ActionItem,
    ActionStatus,
    Activity,
    Initiative,
    InitiativeUpdate,
    Meeting,
    MeetingStatus,
)
from services.meetings.orm import (
    ActionItemRow,
    ActivityRow,
    AttendeeRow,
    InitiativeRow,
    InitiativeUpdateRow,
    MeetingRow,
    RsvpRow,
)
from shared.errors import ConcurrentChange


def _ids(values: Sequence[str]) -> tuple[UUID, ...]:
    return tuple(UUID(v) for v in values)


def _strs(values: Sequence[UUID]) -> list[str]:
    return [str(v) for v in values]


def _to_domain(
    row: MeetingRow, attendees: Sequence[UUID], rsvps: Sequence[tuple[UUID, bool]] = ()
) -> Meeting:
    return Meeting(
        id=row.id,
        group_id=row.group_id,
        host_member_id=row.host_member_id,
        theme=row.theme,
        starts_at=row.starts_at,
        status=MeetingStatus(row.status),
        version=row.version,
        held_at=row.held_at,
        attendee_member_ids=tuple(attendees),
        cancel_reason=row.cancel_reason,
        rsvps=tuple(rsvps),
        recorded=row.recorded,
        memo=row.memo,
        memo_facilitator_id=row.memo_facilitator_id,
        memo_published_at=row.memo_published_at,
    )


class MeetingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, meeting_id: UUID) -> Meeting | None:
        row = await self._session.get(MeetingRow, meeting_id)
        if row is None:
            return None
        attendees = await self.attendees_of([meeting_id])
        rsvps = await self.rsvps_of([meeting_id])
        return _to_domain(row, attendees[meeting_id], rsvps[meeting_id])

    async def schedule_of(self, meeting_id: UUID) -> tuple[UUID, datetime] | None:
        """The meeting's group and start (None: no such meeting), without loading it."""
        row = (
            await self._session.execute(
                select(MeetingRow.group_id, MeetingRow.starts_at).where(MeetingRow.id == meeting_id)
            )
        ).first()
        return None if row is None else (row.group_id, row.starts_at)

    async def find(
        self,
        *,
        group_id: UUID | None = None,
        status: MeetingStatus | None = None,
        limit: int = 100,
        offset: int = 0,
        starts_from: datetime | None = None,
        starts_before: datetime | None = None,
        ids: Sequence[UUID] | None = None,
        with_lists: bool = True,
    ) -> list[Meeting]:
        """Newest first; a month's (``starts_from`` .. ``starts_before``) or ``ids`` only.

        ``with_lists=False``: the meetings' rows only, their attendee and RSVP lists left
        empty (one statement instead of three: for a reader that asks for the lists it
        needs through :meth:`attendees_of`, :meth:`rsvps_of` and
        :meth:`attendance_counts`, never for a handler that changes the meeting)."""
        query = select(MeetingRow).order_by(MeetingRow.starts_at.desc(), MeetingRow.id)
        if group_id is not None:
            query = query.where(MeetingRow.group_id == group_id)
        if status is not None:
            query = query.where(MeetingRow.status == status.value)
        if starts_from is not None:
            query = query.where(MeetingRow.starts_at >= starts_from)
        if starts_before is not None:
            query = query.where(MeetingRow.starts_at < starts_before)
        if ids is not None:
            query = query.where(MeetingRow.id.in_(list(ids)))
        rows = (await self._session.scalars(query.limit(limit).offset(offset))).all()
        if not with_lists:
            return [_to_domain(row, ()) for row in rows]
        return await self._many(rows)

    async def _many(self, rows: Sequence[MeetingRow]) -> list[Meeting]:
        attendees = await self.attendees_of([row.id for row in rows])
        rsvps = await self.rsvps_of([row.id for row in rows])
        return [_to_domain(row, attendees[row.id], rsvps[row.id]) for row in rows]

    async def upcoming(self, group_ids: Sequence[UUID], since: datetime) -> list[Meeting]:
        """Planned and cancelled meetings of the groups starting at ``since`` or later,
        earliest first (what a calendar feed shows)."""
        if not group_ids:
            return []
        rows = (
            await self._session.scalars(
                select(MeetingRow)
                .where(
                    MeetingRow.group_id.in_(list(group_ids)),
                    MeetingRow.starts_at >= since,
                    MeetingRow.status != MeetingStatus.HELD.value,
                )
                .order_by(MeetingRow.starts_at, MeetingRow.id)
            )
        ).all()
        return await self._many(rows)

    async def around(self, group_id: UUID, moment: datetime, margin: timedelta) -> list[Meeting]:
        """The group's meetings starting less than ``margin`` before or after ``moment``."""
        rows = await self._session.scalars(
            select(MeetingRow)
            .where(
                MeetingRow.group_id == group_id,
                MeetingRow.starts_at > moment - margin,
                MeetingRow.starts_at < moment + margin,
            )
            .order_by(MeetingRow.starts_at)
        )
        return await self._many(list(rows))

    async def with_memos(self, group_id: UUID) -> list[Meeting]:
        """The group's meetings with a published memo, in date order."""
        rows = (
            await self._session.scalars(
                select(MeetingRow)
                .where(MeetingRow.group_id == group_id, MeetingRow.memo.is_not(None))
                .order_by(MeetingRow.starts_at, MeetingRow.id)
            )
        ).all()
        return await self._many(rows)

    async def hosting_dates(self, group_id: UUID, until: datetime) -> dict[UUID, list[datetime]]:
        """When each member hosted (or is to host) a meeting of the group starting before
        ``until``; cancelled meetings do not count."""
        rows = await self._session.execute(
            select(MeetingRow.host_member_id, MeetingRow.starts_at).where(
                MeetingRow.group_id == group_id,
                MeetingRow.starts_at < until,
                MeetingRow.status != MeetingStatus.CANCELLED.value,
            )
        )
        found: dict[UUID, list[datetime]] = defaultdict(list)
        for row in rows:
            found[row.host_member_id].append(row.starts_at)
        return found

    def add(self, meeting: Meeting) -> None:
        self._session.add(
            MeetingRow(
                id=meeting.id,
                group_id=meeting.group_id,
                host_member_id=meeting.host_member_id,
                theme=meeting.theme,
                starts_at=meeting.starts_at,
                status=meeting.status.value,
                version=meeting.version,
                held_at=meeting.held_at,
                cancel_reason=meeting.cancel_reason,
            )
        )

    async def save(self, meeting: Meeting, *, expected_version: int) -> None:
        """Write a changed meeting; refuse if someone else changed it since it was loaded."""
        result = await self._session.execute(
            update(MeetingRow)
            .where(MeetingRow.id == meeting.id, MeetingRow.version == expected_version)
            .values(
                theme=meeting.theme,
                starts_at=meeting.starts_at,
                status=meeting.status.value,
                version=meeting.version,
                held_at=meeting.held_at,
                cancel_reason=meeting.cancel_reason,
                recorded=meeting.recorded,
                memo=meeting.memo,
                memo_facilitator_id=meeting.memo_facilitator_id,
                memo_published_at=meeting.memo_published_at,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise ConcurrentChange(field="meeting_id", meeting_id=meeting.id)
        await self._session.execute(delete(AttendeeRow).where(AttendeeRow.meeting_id == meeting.id))
        self._session.add_all(
            AttendeeRow(meeting_id=meeting.id, member_id=member_id, position=position)
            for position, member_id in enumerate(meeting.attendee_member_ids)
        )
        await self._session.execute(delete(RsvpRow).where(RsvpRow.meeting_id == meeting.id))
        self._session.add_all(
            RsvpRow(meeting_id=meeting.id, member_id=member_id, coming=coming, position=position)
            for position, (member_id, coming) in enumerate(meeting.rsvps)
        )
        await self._session.flush()

    async def attendees_of(self, meeting_ids: Sequence[UUID]) -> dict[UUID, list[UUID]]:
        """Who came to each meeting, in the recorded order (every id is a key)."""
        found: dict[UUID, list[UUID]] = defaultdict(list)
        if not meeting_ids:
            return found
        rows = await self._session.execute(  # columns, not ORM objects: a list of 50
            select(AttendeeRow.meeting_id, AttendeeRow.member_id)  # meetings has ~800 rows
            .where(AttendeeRow.meeting_id.in_(meeting_ids))
            .order_by(AttendeeRow.meeting_id, AttendeeRow.position)
        )
        for meeting_id, member_id in rows:
            found[meeting_id].append(member_id)
        return found

    async def attendance_counts(self, meeting_ids: Sequence[UUID]) -> dict[UUID, int]:
        """How many came to each meeting (every id is a key): one row per meeting, not
        one per attendee."""
        found = dict.fromkeys(meeting_ids, 0)
        if not meeting_ids:
            return found
        rows = await self._session.execute(
            select(AttendeeRow.meeting_id, func.count())
            .where(AttendeeRow.meeting_id.in_(meeting_ids))
            .group_by(AttendeeRow.meeting_id)
        )
        for meeting_id, count in rows:
            found[meeting_id] = count
        return found

    async def rsvps_of(self, meeting_ids: Sequence[UUID]) -> dict[UUID, list[tuple[UUID, bool]]]:
        """Each meeting's latest answers, in the recorded order (every id is a key)."""
        found: dict[UUID, list[tuple[UUID, bool]]] = defaultdict(list)
        if not meeting_ids:
            return found
        rows = await self._session.execute(
            select(RsvpRow.meeting_id, RsvpRow.member_id, RsvpRow.coming)
            .where(RsvpRow.meeting_id.in_(meeting_ids))
            .order_by(RsvpRow.meeting_id, RsvpRow.position)
        )
        for meeting_id, member_id, coming in rows:
            found[meeting_id].append((member_id, coming))
        return found


def _action(row: ActionItemRow) -> ActionItem:
    return ActionItem(
        id=row.id,
        meeting_id=row.meeting_id,
        group_id=row.group_id,
        owner_member_id=row.owner_member_id,
        description=row.description,
        agreed_on=row.agreed_on,
        due_on=row.due_on,
        status=ActionStatus(row.status),
        closed_on=row.closed_on,
        outcome=row.outcome,
        version=row.version,
    )


class ActionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, action_id: UUID) -> ActionItem | None:
        row = await self._session.get(ActionItemRow, action_id)
        return None if row is None else _action(row)

    def add(self, item: ActionItem) -> None:
        self._session.add(
            ActionItemRow(
                id=item.id,
                meeting_id=item.meeting_id,
                group_id=item.group_id,
                owner_member_id=item.owner_member_id,
                description=item.description,
                agreed_on=item.agreed_on,
                due_on=item.due_on,
                status=item.status.value,
                closed_on=item.closed_on,
                outcome=item.outcome,
                version=item.version,
            )
        )

    async def save(self, item: ActionItem, *, expected_version: int) -> None:
        result = await self._session.execute(
            update(ActionItemRow)
            .where(ActionItemRow.id == item.id, ActionItemRow.version == expected_version)
            .values(
                status=item.status.value,
                closed_on=item.closed_on,
                outcome=item.outcome,
                version=item.version,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise ConcurrentChange(field="action_id", action_id=item.id)

    async def of_meeting(self, meeting_id: UUID) -> list[ActionItem]:
        rows = await self._session.scalars(
            select(ActionItemRow)
            .where(ActionItemRow.meeting_id == meeting_id)
            .order_by(ActionItemRow.agreed_on, ActionItemRow.id)
        )
        return [_action(row) for row in rows]

    async def open_of_groups(self, group_ids: Sequence[UUID]) -> list[ActionItem]:
        """Open actions of the groups (every meeting's), due dates first, earliest first."""
        if not group_ids:
            return []
        rows = await self._session.scalars(
            select(ActionItemRow)
            .where(
                ActionItemRow.group_id.in_(list(group_ids)),
                ActionItemRow.status == ActionStatus.OPEN.value,
            )
            .order_by(
                ActionItemRow.due_on.is_(None),
                ActionItemRow.due_on,
                ActionItemRow.agreed_on,
                ActionItemRow.id,
            )
        )
        return [_action(row) for row in rows]

    async def open_before(self, group_id: UUID, before: datetime) -> list[ActionItem]:
        """Open actions of the group agreed in meetings that started before ``before``,
        oldest meeting first."""
        rows = await self._session.scalars(
            select(ActionItemRow)
            .join(MeetingRow, MeetingRow.id == ActionItemRow.meeting_id)
            .where(
                ActionItemRow.group_id == group_id,
                ActionItemRow.status == ActionStatus.OPEN.value,
                MeetingRow.starts_at < before,
            )
            .order_by(
                MeetingRow.starts_at,
                ActionItemRow.due_on.is_(None),  # due dates first, earliest first
                ActionItemRow.due_on,
                ActionItemRow.id,
            )
        )
        return [_action(row) for row in rows]


def _activity(row: ActivityRow) -> Activity:
    return Activity(
        id=row.id,
        meeting_id=row.meeting_id,
        group_id=row.group_id,
        activity_type=row.activity_type,
        example=row.example,
        member_ids=_ids(row.member_ids),
        coder_id=row.coder_id,
    )


class ActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, activity: Activity) -> None:
        count = len(await self.of_meeting(activity.meeting_id))
        self._session.add(
            ActivityRow(
                id=activity.id,
                meeting_id=activity.meeting_id,
                group_id=activity.group_id,
                activity_type=activity.activity_type,
                example=activity.example,
                member_ids=_strs(activity.member_ids),
                coder_id=activity.coder_id,
                position=count,
            )
        )

    async def of_meeting(self, meeting_id: UUID) -> list[Activity]:
        rows = await self._session.scalars(
            select(ActivityRow)
            .where(ActivityRow.meeting_id == meeting_id)
            .order_by(ActivityRow.position, ActivityRow.id)
        )
        return [_activity(row) for row in rows]


class InitiativeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, initiative_id: UUID) -> Initiative | None:
        row = await self._session.get(InitiativeRow, initiative_id)
        if row is None:
            return None
        return (await self._with_history([row]))[0]

    async def of_group(self, group_id: UUID) -> list[Initiative]:
        rows = (
            await self._session.scalars(
                select(InitiativeRow)
                .where(InitiativeRow.group_id == group_id)
                .order_by(InitiativeRow.started_on, InitiativeRow.id)
            )
        ).all()
        return await self._with_history(rows)

    async def _with_history(self, rows: Sequence[InitiativeRow]) -> list[Initiative]:
        history: dict[UUID, list[InitiativeUpdate]] = defaultdict(list)
        if rows:
            updates = await self._session.scalars(
                select(InitiativeUpdateRow)
                .where(InitiativeUpdateRow.initiative_id.in_([r.id for r in rows]))
                .order_by(InitiativeUpdateRow.initiative_id, InitiativeUpdateRow.sequence)
            )
            for u in updates:
                history[u.initiative_id].append(
                    InitiativeUpdate(
                        u.sequence, u.status, u.outcome, _ids(u.member_ids), u.updated_on
                    )
                )
        return [
            Initiative(
                id=row.id,
                group_id=row.group_id,
                origin_meeting_id=row.origin_meeting_id,
                title=row.title,
                started_on=row.started_on,
                status=row.status,
                outcome=row.outcome,
                member_ids=_ids(row.member_ids),
                version=row.version,
                history=tuple(history[row.id]),
            )
            for row in rows
        ]

    def add(self, initiative: Initiative) -> None:
        self._session.add(
            InitiativeRow(
                id=initiative.id,
                group_id=initiative.group_id,
                origin_meeting_id=initiative.origin_meeting_id,
                title=initiative.title,
                started_on=initiative.started_on,
                status=initiative.status,
                outcome=initiative.outcome,
                member_ids=_strs(initiative.member_ids),
                version=initiative.version,
            )
        )
        self._add_update(initiative)

    async def save(self, initiative: Initiative, *, expected_version: int) -> None:
        result = await self._session.execute(
            update(InitiativeRow)
            .where(InitiativeRow.id == initiative.id, InitiativeRow.version == expected_version)
            .values(
                status=initiative.status,
                outcome=initiative.outcome,
                member_ids=_strs(initiative.member_ids),
                version=initiative.version,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise ConcurrentChange(field="initiative_id", initiative_id=initiative.id)
        self._add_update(initiative)
        await self._session.flush()

    def _add_update(self, initiative: Initiative) -> None:
        latest = initiative.history[-1]
        self._session.add(
            InitiativeUpdateRow(
                initiative_id=initiative.id,
                sequence=latest.sequence,
                status=latest.status,
                outcome=latest.outcome,
                member_ids=_strs(latest.member_ids),
                updated_on=latest.on,
            )
        )


__all__ = ["ActionRepository", "ActivityRepository", "InitiativeRepository", "MeetingRepository"]
