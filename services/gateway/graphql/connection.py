"""Relay-style connections: ``edges {cursor node}``, ``pageInfo``, ``totalCount``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry
from strawberry.relay import PageInfo

from services.gateway.graphql.fields import resolved

T = TypeVar("T")


@strawberry.type(description="One item of a page and the cursor that continues after it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of items in a stable order (keyset pagination).")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @resolved("How many items match the filters, over all pages.")
    async def total_count(self) -> int:
        return await self._count()


__all__ = ["Connection", "Edge", "PageInfo"]
