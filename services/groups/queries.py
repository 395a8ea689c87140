"""Finding members and names: search, duplicate candidates, the names a memo may mention.

Read-only queries on one session; the rules that use their answers live in the domain
(:func:`services.groups.domain.enterprise.duplicate_warnings`,
:class:`services.groups.domain.names.NameMask`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.groups.domain import Member
from services.groups.domain.model import MembershipStatus
from services.groups.domain.names import KnownName, collation_key, fold
from services.groups.orm import ErasedNameRow, FacilitatorRow, GroupRow, MemberRow, PersonRow
from services.groups.repository import histories, member_from_row


async def search_members(
    session: AsyncSession,
    terms: Sequence[str],
    *,
    group_id: UUID | None = None,
    group_ids: Sequence[UUID] | None = None,
    status: MembershipStatus | None = None,
    limit: int,
    offset: int,
) -> tuple[int, list[Member]]:
    """Members matching every folded term by company name, business ID, or a contact's name
    or email; how many match in all, and one page of them in Finnish alphabetical order of
    their company names (sorted here, not by the database's collation: the same on SQLite
    and PostgreSQL; a region's matches are a few thousand at most)."""
    query = select(MemberRow.id, MemberRow.company_name)
    for term in terms:
        query = query.where(
            or_(
                MemberRow.name_key.contains(term, autoescape=True),
                MemberRow.business_id.contains(term, autoescape=True),
                func.replace(MemberRow.business_id, "-", "").contains(
                    term.replace("-", ""), autoescape=True
                ),
                exists().where(
                    PersonRow.member_id == MemberRow.id,
                    PersonRow.search_key.contains(term, autoescape=True),
                ),
            )
        )
    if group_id is not None:
        query = query.where(MemberRow.group_id == group_id)
    if group_ids is not None:
        query = query.where(MemberRow.group_id.in_(list(group_ids)))
    if status is not None:
        query = query.where(_status_is(status))
    matches = sorted(
        (await session.execute(query)).all(), key=lambda r: (collation_key(r[1]), r[0])
    )
    wanted = [member_id for member_id, _ in matches[offset : offset + limit]]
    rows = {
        row.id: row
        for row in await session.scalars(select(MemberRow).where(MemberRow.id.in_(wanted)))
    }
    history = await histories(session, wanted)
    return len(matches), [member_from_row(rows[i], history[i]) for i in wanted]


@dataclass(frozen=True, slots=True)
class Company:
    """Who a member is by name and where: what another service shows beside a member id."""

    member_id: UUID
    company_name: str
    address: str | None


async def companies(session: AsyncSession, member_ids: Sequence[UUID]) -> dict[UUID, Company]:
    """The company name and address of each of ``member_ids`` that exists, as three columns
    (no membership history, no ORM objects: the names of a page of meetings)."""
    if not member_ids:
        return {}
    rows = await session.execute(
        select(MemberRow.id, MemberRow.company_name, MemberRow.address).where(
            MemberRow.id.in_(list(member_ids))
        )
    )
    return {row.id: Company(row.id, row.company_name, row.address) for row in rows}


def _status_is(status: MembershipStatus) -> ColumnElement[bool]:
    if status == "left":
        return MemberRow.left_on.is_not(None)
    if status == "paused":
        return and_(MemberRow.left_on.is_(None), MemberRow.paused_on.is_not(None))
    return and_(MemberRow.left_on.is_(None), MemberRow.paused_on.is_(None))


async def namesakes(
    session: AsyncSession,
    *,
    business_id: str | None,
    company_name: str,
    exclude: UUID | None = None,
) -> list[tuple[Member, str]]:
    """Members of the region with this business ID or this (folded) company name, each with
    its group's name: the candidates of a duplicate warning."""
    same: list[ColumnElement[bool]] = []
    if business_id:
        same.append(MemberRow.business_id == business_id)
    if fold(company_name):
        same.append(MemberRow.name_key == fold(company_name))
    if not same:
        return []
    query = (
        select(MemberRow, GroupRow.name)
        .join(GroupRow, GroupRow.id == MemberRow.group_id)
        .where(or_(*same))
        .order_by(MemberRow.joined_on, MemberRow.id)
        .limit(20)
    )
    if exclude is not None:
        query = query.where(MemberRow.id != exclude)
    rows = (await session.execute(query)).all()
    history = await histories(session, [row.id for row, _ in rows])
    return [(member_from_row(row, history[row.id]), group) for row, group in rows]


async def known_names(session: AsyncSession) -> list[KnownName]:
    """Every name of the region a memo may mention: contact persons (not erased),
    facilitators and member companies."""
    persons = await session.scalars(
        select(PersonRow.name).where(PersonRow.erased_at.is_(None)).distinct()
    )
    facilitators = await session.scalars(select(FacilitatorRow.name).distinct())
    companies = await session.scalars(select(MemberRow.company_name).distinct())
    return [
        *(KnownName(name, "person") for name in persons if name),
        *(KnownName(name, "person") for name in facilitators if name),
        *(KnownName(name, "company") for name in companies if name),
    ]


async def erased_digests(session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(ErasedNameRow.digest)))
