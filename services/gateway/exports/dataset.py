"""What an export is: a select labelled as its data dictionary, and the guard's rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.auth.guard import Level


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | id | integer | number | boolean | date | timestamp
    meaning: str


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


def column(name: str, type_: str, meaning: str) -> Column:
    return Column(name, type_, meaning)


REGION = column("region", "string", "Region id (the regional node the row came from)")
GROUP = column("group_id", "id", "Pseudonymous id of the core group")
MEETING = column("meeting_id", "id", "Pseudonymous id of the meeting")
MEMBER = column("member_id", "id", "Pseudonymous id of the member enterprise")
