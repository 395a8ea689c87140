"""Keyset pagination over the read model: ``WHERE (sort key) > (cursor) ORDER BY ... LIMIT``.

No OFFSET: a page deep in ten years of meetings costs the same as the first one. Every
page is filtered by the caller's guard (``guard``): only rows of regions it sees at the
listing's ``level`` (rows in full by default); a caller who sees none is refused (see
:func:`services.gateway.graphql.access.require_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Table, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import PageInfo

from services.gateway.auth.guard import Guard, Level
from services.gateway.auth.sql import visible
from services.gateway.graphql import cursor
from services.gateway.graphql.access import require_guard, require_rows
from services.gateway.graphql.connection import Connection, Edge
from services.gateway.graphql.errors import bad_argument

MAX_FIRST = 500
T = TypeVar("T")


@dataclass(frozen=True)
class Listing:
    """What one connection lists: its table, sort key and how a cursor's key is parsed."""

    kind: str
    table: Table
    order: tuple[str, ...]
    parsers: tuple[cursor.Parser, ...]
    # what a caller needs of a row's region to see it: FULL for raw rows; a listing of
    # per-region aggregates says REGIONAL (agencies then see every region's rows)
    level: Level = Level.FULL


async def paginate(
    sessions: async_sessionmaker[AsyncSession],
    listing: Listing,
    where: Sequence[ColumnElement[bool]],
    first: int,
    after: str | None,
    to_node: Callable[[Row[Any]], T],
    *,
    guard: Guard,
    region: str | None = None,
) -> Connection[T]:
    """One page of ``listing``; ``region``: the region the query asked for, if any (an
    agency asking for another region's rows is refused rather than given nothing)."""
    check_first(first)
    require_rows(guard, listing.kind, region, listing.level)
    if "region" in listing.table.c:
        where = [*where, *visible(guard, listing.table.c.region, listing.level)]
    else:  # nation-wide rows
        require_guard(guard, listing.level, None, listing.kind)
    columns = [listing.table.c[name] for name in listing.order]
    query = select(listing.table).where(*where)
    if after is not None:
        key = cursor.decode(listing.kind, after, listing.parsers)
        bound = [literal(value, col.type) for value, col in zip(key, columns, strict=True)]
        query = query.where(tuple_(*columns) > tuple_(*bound))
    query = query.order_by(*columns).limit(first + 1)
    async with sessions() as session:
        rows = list((await session.execute(query)).all())
    has_next = len(rows) > first
    rows = rows[:first]
    edges = [
        Edge(
            cursor=cursor.encode(listing.kind, [row._mapping[n] for n in listing.order]),
            node=to_node(row),
        )
        for row in rows
    ]

    async def total() -> int:
        async with sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(listing.table).where(*where)
            )
        return int(count or 0)

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=total,
    )


def check_first(first: int) -> None:
    if first > MAX_FIRST:
        raise bad_argument(
            "FIRST_TOO_LARGE",
            "first",
            f"first={first} is too large: ask for at most {MAX_FIRST} items a page and "
            "follow pageInfo.endCursor with 'after' for the next page.",
        )
    if first < 0:
        raise bad_argument(
            "FIRST_NEGATIVE", "first", f"first={first}: ask for 0 to {MAX_FIRST} items."
        )
