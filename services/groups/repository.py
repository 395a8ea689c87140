"""Loading and saving the groups aggregates through one session (rows <-> domain objects).

Updates are optimistic: a change is saved with ``UPDATE ... WHERE id = :id AND version =
:loaded``, where ``:loaded`` is the version the aggregate had when *this repository loaded
it* (the state the domain decided on), so of two concurrent changes only the first commits
and the other gets ``StaleDataError``.

The loaded version is remembered here, not re-read at saving time: the session's identity
map holds rows only weakly, so a row fetched again just before the UPDATE may already carry
a concurrent transaction's committed version (READ COMMITTED on PostgreSQL) -- checking
against that would let a change decided on a stale read through (or turn it into no UPDATE
at all when the values happen to match).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from services.groups.domain import (
    ConsentChange,
    Enterprise,
    Facilitator,
    Group,
    Member,
    MembershipChange,
    Person,
)
from services.groups.domain.names import fold
from services.groups.orm import (
    Base,
    ConsentHistoryRow,
    ErasedNameRow,
    FacilitatorRow,
    GroupRow,
    MemberRow,
    MembershipHistoryRow,
    PersonRow,
)

# The write path's statements, built once: a statement object memoizes its cache key, so a
# request only binds its values (building ``insert(...).values(...)`` anew coerced and
# keyed every value, the largest SQLAlchemy cost of an ``addMember``: bench/write_path.py).
_MEMBERS: Table = Base.metadata.tables[MemberRow.__tablename__]
_HISTORY: Table = Base.metadata.tables[MembershipHistoryRow.__tablename__]
_INSERT_MEMBER = insert(_MEMBERS)
_INSERT_HISTORY = insert(_HISTORY)
_GROUP_WITH_FACILITATORS = (
    select(GroupRow, FacilitatorRow)
    .outerjoin(FacilitatorRow, FacilitatorRow.group_id == GroupRow.id)
    .where(GroupRow.id == bindparam("group_id"))
    .order_by(FacilitatorRow.assigned_on, FacilitatorRow.name, FacilitatorRow.email)
)
_CURRENT_HOLDERS = (
    select(MemberRow)
    .where(
        MemberRow.group_id == bindparam("group_id"),
        MemberRow.business_id == bindparam("business_id"),
        MemberRow.left_on.is_(None),
    )
    .order_by(MemberRow.joined_on, MemberRow.id)
)


def group_from_row(row: GroupRow, facilitators: Iterable[FacilitatorRow] = ()) -> Group:
    return Group(
        row.id,
        row.name,
        row.municipality,
        row.founded_on,
        version=row.version,
        facilitators=[
            Facilitator(f.facilitator_id, f.name, f.email, f.role, f.assigned_on)  # type: ignore[arg-type]
            for f in facilitators
        ],
    )


def member_from_row(row: MemberRow, history: Iterable[MembershipHistoryRow] = ()) -> Member:
    enterprise = Enterprise(
        company_name=row.company_name,
        employees=row.employees,
        turnover_eur=row.turnover_eur,
        balance_sheet_eur=row.balance_sheet_eur,
        business_id=row.business_id,
        industry_code=row.industry_code,
        address=row.address,
    )
    return Member(
        id=row.id,
        group_id=row.group_id,
        enterprise=enterprise,
        joined_on=row.joined_on,
        left_on=row.left_on,
        leave_reason=row.leave_reason,
        version=row.version,
        paused_on=row.paused_on,
        history=[MembershipChange(h.kind, h.on_date, h.reason) for h in history],  # type: ignore[arg-type]
    )


def person_from_row(row: PersonRow, history: Iterable[ConsentHistoryRow] = ()) -> Person:
    return Person(
        id=row.id,
        member_id=row.member_id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        language=row.language,  # type: ignore[arg-type]
        version=row.version,
        erased_at=row.erased_at,
        consent_history=[
            ConsentChange(h.purpose, h.action, h.at)  # type: ignore[arg-type]
            for h in history
        ],
    )


def _member_values(member: Member) -> dict[str, object]:
    company = member.enterprise
    return {
        "group_id": member.group_id,
        "company_name": company.company_name,
        "name_key": fold(company.company_name),
        "business_id": company.business_id,
        "industry_code": company.industry_code,
        "address": company.address,
        "employees": company.employees,
        "turnover_eur": company.turnover_eur,
        "balance_sheet_eur": company.balance_sheet_eur,
        "joined_on": member.joined_on,
        "left_on": member.left_on,
        "leave_reason": member.leave_reason,
        "paused_on": member.paused_on,
        "version": member.version,
    }


def _person_values(person: Person) -> dict[str, object]:
    return {
        "member_id": person.member_id,
        "name": person.name,
        "email": person.email,
        "phone": person.phone,
        "language": person.language,
        "erased_at": person.erased_at,
        "version": person.version,
        "search_key": fold(f"{person.name} {person.email}") if not person.erased else "",
    }


async def histories(
    session: AsyncSession, member_ids: Sequence[UUID]
) -> dict[UUID, list[MembershipHistoryRow]]:
    """The membership history rows of each of ``member_ids`` (every id is a key), in order."""
    found: dict[UUID, list[MembershipHistoryRow]] = {member_id: [] for member_id in member_ids}
    if not member_ids:
        return found
    rows = await session.scalars(
        select(MembershipHistoryRow)
        .where(MembershipHistoryRow.member_id.in_(member_ids))
        .order_by(MembershipHistoryRow.id)
    )
    for row in rows:
        found[row.member_id].append(row)
    return found


class GroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # aggregate id -> version as first loaded through this repository (see the module
        # doc), and how many of its history entries / facilitators were stored then.
        self._loaded_versions: dict[UUID, int] = {}
        self._loaded_history: dict[UUID, int] = {}
        self._loaded_facilitators: dict[UUID, set[UUID]] = {}

    def _remember(self, aggregate_id: UUID, version: int, history: int) -> None:
        # The first load wins: a later re-read must not move the expected version forward.
        self._loaded_versions.setdefault(aggregate_id, version)
        self._loaded_history.setdefault(aggregate_id, history)

    def _member(self, row: MemberRow, history: Sequence[MembershipHistoryRow]) -> Member:
        self._remember(row.id, row.version, len(history))
        return member_from_row(row, history)

    async def _guarded_update(
        self, table: Any, aggregate_id: UUID, version: int, values: dict[str, object]
    ) -> None:
        """``UPDATE ... WHERE id = :id AND version = :loaded``; ``StaleDataError`` if no row."""
        expected = self._loaded_versions.get(aggregate_id)
        if expected is None:
            raise LookupError(f"{aggregate_id} was not loaded through this repository")
        if version <= expected:
            raise ValueError(
                f"{aggregate_id}: a saved change must raise the version "
                f"(loaded {expected}, saving {version})"
            )
        saved = await self.session.execute(
            update(table)
            .where(table.id == aggregate_id, table.version == expected)
            .values(**values)
            .returning(table.id)
            .execution_options(synchronize_session="fetch")
        )
        if saved.scalar_one_or_none() is None:
            raise StaleDataError(
                f"{aggregate_id} is no longer at version {expected}: "
                "another transaction changed it first"
            )
        self._loaded_versions[aggregate_id] = version

    # -- groups ------------------------------------------------------------------

    async def _facilitators(self, group_ids: Sequence[UUID]) -> dict[UUID, list[FacilitatorRow]]:
        found: dict[UUID, list[FacilitatorRow]] = {group_id: [] for group_id in group_ids}
        rows = await self.session.scalars(
            select(FacilitatorRow)
            .where(FacilitatorRow.group_id.in_(group_ids))
            .order_by(FacilitatorRow.assigned_on, FacilitatorRow.name, FacilitatorRow.email)
        )
        for row in rows:
            found[row.group_id].append(row)
        return found

    async def get_group(self, group_id: UUID) -> Group | None:
        """The group with its facilitators, in one statement (an outer join)."""
        found = (await self.session.execute(_GROUP_WITH_FACILITATORS, {"group_id": group_id})).all()
        if not found:
            return None
        row = found[0][0]
        facilitators = [f for _, f in found if f is not None]
        self._loaded_versions.setdefault(row.id, row.version)
        self._loaded_facilitators.setdefault(row.id, {f.facilitator_id for f in facilitators})
        return group_from_row(row, facilitators)

    async def list_groups(self) -> list[Group]:
        rows = list(
            await self.session.scalars(select(GroupRow).order_by(GroupRow.name, GroupRow.id))
        )
        facilitators = await self._facilitators([row.id for row in rows])
        return [group_from_row(row, facilitators[row.id]) for row in rows]

    async def facilitator_id_for(self, email: str) -> UUID | None:
        """The pseudonym the region already uses for the facilitator with ``email``."""
        found = await self.session.scalars(
            select(FacilitatorRow.facilitator_id)
            .where(func.lower(FacilitatorRow.email) == email.strip().lower())
            .limit(1)
        )
        return found.first()

    async def add_group(self, group: Group) -> None:
        await self.session.execute(
            insert(GroupRow).values(
                id=group.id,
                name=group.name,
                municipality=group.municipality,
                founded_on=group.founded_on,
                version=group.version,
            )
        )
        self._loaded_versions[group.id] = group.version
        self._loaded_facilitators[group.id] = set()
        await self._save_facilitators(group)

    async def save_group(self, group: Group) -> None:
        """Write a changed group and its facilitators (version-checked like members)."""
        values = {
            "name": group.name,
            "municipality": group.municipality,
            "founded_on": group.founded_on,
            "version": group.version,
        }
        await self._guarded_update(GroupRow, group.id, group.version, values)
        await self._save_facilitators(group)

    async def _save_facilitators(self, group: Group) -> None:
        stored = self._loaded_facilitators.get(group.id, set())
        current = {f.id for f in group.facilitators}
        gone = stored - current
        if gone:
            await self.session.execute(
                delete(FacilitatorRow).where(
                    FacilitatorRow.group_id == group.id,
                    FacilitatorRow.facilitator_id.in_(gone),
                )
            )
        new = [f for f in group.facilitators if f.id not in stored]
        if new:
            await self.session.execute(
                insert(FacilitatorRow),
                [
                    {
                        "group_id": group.id,
                        "facilitator_id": f.id,
                        "name": f.name,
                        "email": f.email,
                        "role": f.role,
                        "assigned_on": f.assigned_on,
                    }
                    for f in new
                ],
            )
        self._loaded_facilitators[group.id] = current

    # -- members -----------------------------------------------------------------

    async def _history(self, member_ids: Sequence[UUID]) -> dict[UUID, list[MembershipHistoryRow]]:
        return await histories(self.session, member_ids)

    async def get_member(self, member_id: UUID) -> Member | None:
        row = await self.session.get(MemberRow, member_id)
        if row is None:
            return None
        return self._member(row, (await self._history([member_id]))[member_id])

    async def get_members(self, member_ids: Iterable[UUID]) -> dict[UUID, Member]:
        """The members of ``member_ids`` that exist (unknown ids are no key): one query for
        the members and one for their histories, however many."""
        ids = list(dict.fromkeys(member_ids))
        if not ids:
            return {}
        rows = list(await self.session.scalars(select(MemberRow).where(MemberRow.id.in_(ids))))
        history = await self._history([row.id for row in rows])
        return {row.id: self._member(row, history[row.id]) for row in rows}

    async def members_of(
        self, group_ids: Iterable[UUID], *, active_only: bool = False
    ) -> dict[UUID, list[Member]]:
        """Members of each of ``group_ids`` (every id is a key), in order of joining.

        ``active_only``: neither paused nor left.
        """
        ids = list(dict.fromkeys(group_ids))
        found: dict[UUID, list[Member]] = {group_id: [] for group_id in ids}
        query = select(MemberRow).where(MemberRow.group_id.in_(ids))
        if active_only:
            query = query.where(MemberRow.left_on.is_(None), MemberRow.paused_on.is_(None))
        rows = list(
            await self.session.scalars(
                query.order_by(MemberRow.joined_on, MemberRow.company_name, MemberRow.id)
            )
        )
        history = await self._history([row.id for row in rows])
        for row in rows:
            found[row.group_id].append(self._member(row, history[row.id]))
        return found

    async def current_members(self, group_id: UUID) -> Sequence[Member]:
        """Members that have not left (active or paused): a company is one of them once."""
        query = select(MemberRow).where(MemberRow.group_id == group_id, MemberRow.left_on.is_(None))
        rows = list(await self.session.scalars(query.order_by(MemberRow.joined_on, MemberRow.id)))
        history = await self._history([row.id for row in rows])
        return [self._member(row, history[row.id]) for row in rows]

    async def current_holders(self, group_id: UUID, business_id: str | None) -> Sequence[Member]:
        """The current members (active or paused) of ``group_id`` with ``business_id``: what
        admitting a company with it is checked against (none for a company without one). One
        indexed query; their histories only if there are any (then the add is refused)."""
        if business_id is None:
            return []
        rows = list(
            await self.session.scalars(
                _CURRENT_HOLDERS, {"group_id": group_id, "business_id": business_id}
            )
        )
        history = await self._history([row.id for row in rows])
        return [self._member(row, history[row.id]) for row in rows]

    async def active_members(self, group_id: UUID) -> Sequence[Member]:
        return (await self.members_of([group_id], active_only=True))[group_id]

    async def add_member(self, member: Member) -> None:
        """Insert the new member and its history: one INSERT per table (no ORM flush)."""
        await self.session.execute(_INSERT_MEMBER, {"id": member.id, **_member_values(member)})
        self._loaded_versions[member.id] = member.version
        self._loaded_history[member.id] = 0
        await self._save_history(member)

    async def save_member(self, member: Member) -> None:
        """Write a changed member and its new history; raises ``StaleDataError`` if someone
        changed it first.

        ``member`` must have been loaded (or added) through this repository, and its change
        must have raised its version: the UPDATE matches only the row still at the version
        the change was decided on.
        """
        await self._guarded_update(MemberRow, member.id, member.version, _member_values(member))
        await self._save_history(member)

    async def _save_history(self, member: Member) -> None:
        stored = self._loaded_history.get(member.id, 0)
        new = member.history[stored:]
        if new:
            await self.session.execute(
                _INSERT_HISTORY,
                [
                    {"member_id": member.id, "kind": c.kind, "on_date": c.on, "reason": c.reason}
                    for c in new
                ],
            )
        self._loaded_history[member.id] = len(member.history)

    # -- persons -----------------------------------------------------------------

    async def _consents(self, person_ids: Sequence[UUID]) -> dict[UUID, list[ConsentHistoryRow]]:
        found: dict[UUID, list[ConsentHistoryRow]] = {person_id: [] for person_id in person_ids}
        if not person_ids:
            return found
        rows = await self.session.scalars(
            select(ConsentHistoryRow)
            .where(ConsentHistoryRow.person_id.in_(person_ids))
            .order_by(ConsentHistoryRow.id)
        )
        for row in rows:
            found[row.person_id].append(row)
        return found

    def _person(self, row: PersonRow, history: Sequence[ConsentHistoryRow]) -> Person:
        self._remember(row.id, row.version, len(history))
        return person_from_row(row, history)

    async def get_person(self, person_id: UUID) -> Person | None:
        row = await self.session.get(PersonRow, person_id)
        if row is None:
            return None
        return self._person(row, (await self._consents([person_id]))[person_id])

    async def contacts_of(self, member_ids: Iterable[UUID]) -> dict[UUID, list[Person]]:
        """The contacts of each of ``member_ids`` (every id is a key), erased ones included."""
        ids = list(dict.fromkeys(member_ids))
        found: dict[UUID, list[Person]] = {member_id: [] for member_id in ids}
        rows = list(
            await self.session.scalars(
                select(PersonRow)
                .where(PersonRow.member_id.in_(ids))
                .order_by(PersonRow.member_id, PersonRow.id)
            )
        )
        consents = await self._consents([row.id for row in rows])
        for row in rows:
            found[row.member_id].append(self._person(row, consents[row.id]))
        return found

    async def add_person(self, person: Person) -> None:
        await self.session.execute(insert(PersonRow).values(id=person.id, **_person_values(person)))
        self._loaded_versions[person.id] = person.version
        self._loaded_history[person.id] = 0
        await self._save_consents(person)

    async def save_person(self, person: Person) -> None:
        await self._guarded_update(PersonRow, person.id, person.version, _person_values(person))
        await self._save_consents(person)

    async def _save_consents(self, person: Person) -> None:
        stored = self._loaded_history.get(person.id, 0)
        new = person.consent_history[stored:]
        if new:
            await self.session.execute(
                insert(ConsentHistoryRow),
                [
                    {"person_id": person.id, "purpose": c.purpose, "action": c.action, "at": c.at}
                    for c in new
                ],
            )
        self._loaded_history[person.id] = len(person.consent_history)

    async def add_erased_digests(self, digests: Iterable[str]) -> None:
        wanted = set(digests)
        if not wanted:
            return
        have = set(
            await self.session.scalars(
                select(ErasedNameRow.digest).where(ErasedNameRow.digest.in_(wanted))
            )
        )
        new = sorted(wanted - have)
        if new:
            await self.session.execute(insert(ErasedNameRow), [{"digest": d} for d in new])
