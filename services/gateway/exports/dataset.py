"""What an export is: a select labelled as its data dictionary, and the guard's rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, get_args

from sqlalchemy import ColumnElement, Row, Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.auth.guard import Level
from services.gateway.statuses import InitiativeStatus, MeetingStatus, MemberStatus
from shared.contracts import ACTIVITY_TYPES
from shared.contracts.feedback import GrowthIntention


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | id | integer | number | boolean | date | timestamp
    meaning: str
    # the column's value set, when it has one (a status, an activity type): SPSS and Stata
    # files carry it as codes 1..n labelled with these values, Table Schema as an enum
    values: tuple[str, ...] = ()
    # the value set is the region ids, read from the ``regions`` table when exporting
    regions: bool = False


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    columns: tuple[Column, ...]
    query: Select[Any]  # labelled exactly as ``columns`` (before ``derive``), stable order
    region: ColumnElement[Any] | None  # the column the guard filters on; None: no rows of it
    level: Level = Level.FULL
    # a research view of totals: its select for the nation (region None) or one region,
    # given whether the caller sees regional detail (example texts); ``national`` is what
    # the nation's totals need, ``level`` what one region's need
    totals: Callable[[str | None, bool], Select[Any]] | None = None
    national: Level = Level.NATIONAL
    # the exported values of a selected row (rates computed as GraphQL computes them)
    derive: Callable[[Row[Any]], Sequence[Any]] | None = None
    # a view computed in Python: ``expand`` turns each chunk of selected rows into the
    # exported rows (it may query through the session it is given); ``collect`` turns ALL
    # selected rows at once (a small grouped select) into the exported rows
    expand: Callable[[AsyncSession, list[Row[Any]]], Awaitable[list[Sequence[Any]]]] | None = None
    collect: Callable[[list[Row[Any]]], list[Sequence[Any]]] | None = None
    # the researchers' coding workspace (codings, coder pseudonyms): researchers only, as in
    # GraphQL, whatever ``level`` an agency has of the row's region
    researchers_only: bool = False

    @classmethod
    def of_table(
        cls,
        table: Table,
        name: str,
        description: str,
        columns: tuple[Column, ...],
        *,
        order_by: tuple[ColumnElement[Any], ...],
        region: ColumnElement[Any] | None,
        level: Level = Level.FULL,
    ) -> Dataset:
        """A dataset of ``table``'s own columns named as the dictionary names them."""
        query = select(*(table.c[c.name] for c in columns)).order_by(*order_by)
        return cls(name, description, columns, query, region, level)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def column(name: str, type_: str, meaning: str, values: tuple[str, ...] = ()) -> Column:
    return Column(name, type_, meaning, values)


REGION = Column("region", "string", "Region id (the regional node the row came from)", regions=True)
GROUP = column("group_id", "id", "Pseudonymous id of the core group")
MEETING = column("meeting_id", "id", "Pseudonymous id of the meeting")
MEMBER = column("member_id", "id", "Pseudonymous id of the member enterprise")


# --- value sets of the dictionary's categorical columns (one place) ---------------------


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


MEMBER_STATUSES = _values(MemberStatus)
MEETING_STATUSES = _values(MeetingStatus)
INITIATIVE_STATUSES = _values(InitiativeStatus)
MEMBERSHIP_CHANGES = ("JOINED", "PAUSED", "REJOINED", "LEFT")  # projections/groups.py
GROWTH_INTENTIONS: tuple[str, ...] = get_args(GrowthIntention)
WENGER_TYPES = ACTIVITY_TYPES
