"""The replica store: groups and members as the groups service's events describe them.

Writes are race-free on PostgreSQL as well as SQLite: a placeholder row is inserted with
ON CONFLICT DO NOTHING, then locked (FOR UPDATE), merged by the domain's rules, written.
The member rows a batch of events changes are created, locked, read and written together
(:meth:`ReplicaStore.lock_members`, :meth:`ReplicaStore.write_members`): a handful of
statements per batch instead of three per event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, delete, select, update
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

# what a member's row holds besides its id (all written by ReplicaStore.write_members)
_MEMBERSHIP_COLUMNS = (
    "group_id",
    "joined_on",
    "left_on",
    "joined_sequence",
    "left_sequence",
    "paused_on",
    "paused_sequence",
    "rejoined_on",
    "rejoined_sequence",
)
_MEMBERS = cast(Table, ReplicaMemberRow.__table__)
_WRITE_MEMBER = (
    update(_MEMBERS)
    .where(_MEMBERS.c.member_id == bindparam("b_member_id"))
    .values({column: bindparam(f"b_{column}") for column in _MEMBERSHIP_COLUMNS})
)


def _membership(row: Any) -> Membership:
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
        # the members locked in this transaction, as changed so far, and which changed
        self._members: dict[UUID, Membership] = {}
        self._changed: set[UUID] = set()

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

    async def lock_members(self, groups: Mapping[UUID, UUID]) -> None:
        """Create the rows of the members in ``groups`` (member id -> group id) that are new,
        empty, and lock them all until the transaction ends: one INSERT and one SELECT for a
        whole batch of events (in member id order, so two batches cannot deadlock)."""
        wanted = sorted(m for m in groups if m not in self._members)
        if not wanted:
            return
        await self._insert_ignore(
            ReplicaMemberRow,
            [
                {"member_id": m, "group_id": groups[m], "joined_sequence": 0, "left_sequence": 0}
                for m in wanted
            ],
        )
        rows = await self._session.execute(
            select(_MEMBERS)
            .where(_MEMBERS.c.member_id.in_(wanted))
            .order_by(_MEMBERS.c.member_id)
            .with_for_update()
        )
        self._members.update((row.member_id, _membership(row)) for row in rows)

    async def locked_member(self, member_id: UUID, group_id: UUID) -> Membership:
        """The member as changed so far in this transaction; its row created empty if new
        and locked until the transaction ends."""
        await self.lock_members({member_id: group_id})
        return self._members[member_id]

    async def put_member(self, member: Membership) -> None:
        """Keep the member's new state; :meth:`write_members` writes it (before the commit)."""
        if member.member_id not in self._members:
            raise LookupError(f"member {member.member_id} was not locked: call locked_member")
        self._members[member.member_id] = member
        self._changed.add(member.member_id)

    async def write_members(self) -> None:
        """Write every member changed since the last call: one UPDATE, executed for each."""
        if not self._changed:
            return
        changed = [self._members[m] for m in sorted(self._changed)]
        self._changed.clear()
        await self._session.execute(
            _WRITE_MEMBER,
            [
                {
                    "b_member_id": m.member_id,
                    "b_group_id": m.group_id,
                    "b_joined_on": m.joined_on,
                    "b_left_on": m.left_on,
                    "b_joined_sequence": m.joined_sequence,
                    "b_left_sequence": m.left_sequence,
                    "b_paused_on": m.paused_on,
                    "b_paused_sequence": m.paused_sequence,
                    "b_rejoined_on": m.rejoined_on,
                    "b_rejoined_sequence": m.rejoined_sequence,
                }
                for m in changed
            ],
        )

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

    async def _insert_ignore(
        self, model: type[Any], values: dict[str, object] | list[dict[str, object]]
    ) -> None:
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self._session.execute(insert(model).values(values).on_conflict_do_nothing())
