"""The replica store: groups and members as the groups service's events describe them.

Writes are race-free on PostgreSQL as well as SQLite: a placeholder row is inserted with
ON CONFLICT DO NOTHING, then locked (FOR UPDATE), merged by the domain's rules, written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.meetings.domain import AUDIO, ConsentState, KnownGroup, Membership, Person
from services.meetings.orm import (
    TABLES,
    ReplicaConsentRow,
    ReplicaGroupRow,
    ReplicaMemberRow,
    ReplicaPersonRow,
)
from shared.contracts import Envelope
from shared.messaging.inbox import admit
from shared.messaging.tables import MessagingTables


def _membership(row: ReplicaMemberRow) -> Membership:
    return Membership(
        member_id=row.member_id,
        group_id=row.group_id,
        joined_on=row.joined_on,
        left_on=row.left_on,
        joined_sequence=row.joined_sequence,
        left_sequence=row.left_sequence,
        paused_on=row.paused_on,
        paused_sequence=row.paused_sequence or 0,
        rejoined_on=row.rejoined_on,
        rejoined_sequence=row.rejoined_sequence or 0,
    )


class ReplicaStore:
    def __init__(self, session: AsyncSession, tables: MessagingTables = TABLES) -> None:
        self._session = session
        self._tables = tables

    # -- reads -------------------------------------------------------------------

    async def group(self, group_id: UUID) -> KnownGroup | None:
        row = await self._session.get(ReplicaGroupRow, group_id)
        return None if row is None else KnownGroup(row.group_id, row.name, row.founded_on)

    async def member(self, member_id: UUID) -> Membership | None:
        row = await self._session.get(ReplicaMemberRow, member_id)
        return None if row is None else _membership(row)

    async def members(self, member_ids: Iterable[UUID]) -> dict[UUID, Membership]:
        ids = list(set(member_ids))
        if not ids:
            return {}
        rows = await self._session.scalars(
            select(ReplicaMemberRow).where(ReplicaMemberRow.member_id.in_(ids))
        )
        return {row.member_id: _membership(row) for row in rows}

    async def group_members(self, group_id: UUID) -> list[Membership]:
        """Members of ``group_id`` whose joining has arrived, in order of joining."""
        rows = await self._session.scalars(
            select(ReplicaMemberRow)
            .where(ReplicaMemberRow.group_id == group_id, ReplicaMemberRow.joined_on.is_not(None))
            .order_by(ReplicaMemberRow.joined_on, ReplicaMemberRow.member_id)
        )
        return [_membership(row) for row in rows]

    async def persons_of(self, member_ids: Iterable[UUID]) -> list[Person]:
        ids = list(set(member_ids))
        if not ids:
            return []
        rows = await self._session.scalars(
            select(ReplicaPersonRow).where(ReplicaPersonRow.member_id.in_(ids))
        )
        return [Person(r.person_id, r.member_id, r.registered, r.erased) for r in rows]

    async def audio_consents(self, person_ids: Iterable[UUID]) -> dict[UUID, bool]:
        ids = list(set(person_ids))
        if not ids:
            return {}
        rows = await self._session.scalars(
            select(ReplicaConsentRow).where(
                ReplicaConsentRow.person_id.in_(ids), ReplicaConsentRow.purpose == AUDIO
            )
        )
        return {row.person_id: row.given for row in rows}

    # -- idempotency -------------------------------------------------------------

    async def admit_all(self, envelopes: Sequence[Envelope]) -> list[int]:
        """Record those of ``envelopes`` not processed before; return their positions."""
        return await admit(self._session, self._tables, envelopes)

    # -- writes ------------------------------------------------------------------

    async def put_group(self, group: KnownGroup) -> None:
        await self._insert_ignore(
            ReplicaGroupRow,
            {"group_id": group.group_id, "name": group.name, "founded_on": group.founded_on},
        )
        row = await self._session.get(ReplicaGroupRow, group.group_id, with_for_update=True)
        assert row is not None
        row.name, row.founded_on = group.name, group.founded_on

    async def locked_member(self, member_id: UUID, group_id: UUID) -> Membership:
        """The member's row, created empty if new, locked until the transaction ends."""
        await self._insert_ignore(
            ReplicaMemberRow,
            {
                "member_id": member_id,
                "group_id": group_id,
                "joined_sequence": 0,
                "left_sequence": 0,
            },
        )
        row = await self._session.get(ReplicaMemberRow, member_id, with_for_update=True)
        assert row is not None
        return _membership(row)

    async def put_member(self, member: Membership) -> None:
        row = await self._session.get(ReplicaMemberRow, member.member_id)
        assert row is not None, "call locked_member first"
        row.group_id = member.group_id
        row.joined_on, row.left_on = member.joined_on, member.left_on
        row.joined_sequence, row.left_sequence = member.joined_sequence, member.left_sequence
        row.paused_on, row.paused_sequence = member.paused_on, member.paused_sequence
        row.rejoined_on, row.rejoined_sequence = member.rejoined_on, member.rejoined_sequence
        await self._session.flush()

    async def _locked_person(self, person_id: UUID, member_id: UUID) -> ReplicaPersonRow:
        await self._insert_ignore(
            ReplicaPersonRow,
            {"person_id": person_id, "member_id": member_id, "registered": False, "erased": False},
        )
        row = await self._session.get(ReplicaPersonRow, person_id, with_for_update=True)
        assert row is not None
        return row

    async def register_person(self, person_id: UUID, member_id: UUID) -> None:
        row = await self._locked_person(person_id, member_id)
        if not row.erased:
            row.member_id, row.registered = member_id, True
        await self._session.flush()

    async def state_consent(
        self, person_id: UUID, member_id: UUID, purpose: str, *, given: bool, at: datetime
    ) -> None:
        """Apply a consent statement unless the person was erased or a later one holds."""
        person = await self._locked_person(person_id, member_id)
        if person.erased:
            return
        row = await self._session.get(ReplicaConsentRow, (person_id, purpose))
        if row is None:
            self._session.add(
                ReplicaConsentRow(person_id=person_id, purpose=purpose, given=given, stated_at=at)
            )
        else:
            merged = ConsentState(row.given, row.stated_at).apply(given=given, at=at)
            row.given, row.stated_at = merged.given, merged.at
        await self._session.flush()

    async def erase_person(self, person_id: UUID, member_id: UUID) -> None:
        """Forget the person's consents; keep a tombstone so late events stay ignored."""
        row = await self._locked_person(person_id, member_id)
        row.erased, row.registered = True, False
        await self._session.execute(
            delete(ReplicaConsentRow).where(ReplicaConsentRow.person_id == person_id)
        )
        await self._session.flush()

    async def _insert_ignore(self, model: type[Any], values: dict[str, object]) -> None:
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self._session.execute(insert(model).values(values).on_conflict_do_nothing())
