"""The per-request GraphQL context: a session factory and fresh DataLoaders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as _Info

from services.gateway.graphql.loaders import Loaders
from services.gateway.registrar import RegionLink


@dataclass(frozen=True)
class GatewayContext:
    """Resolvers open short sessions from ``sessions`` (never share one: strawberry runs
    sibling resolvers concurrently) and batch lookups through ``loaders``."""

    sessions: async_sessionmaker[AsyncSession]
    loaders: Loaders
    links: Mapping[str, RegionLink] = field(default_factory=dict)  # the registrar's last look

    @classmethod
    def create(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        links: Mapping[str, RegionLink] | None = None,
    ) -> GatewayContext:
        return cls(sessions=sessions, loaders=Loaders.create(sessions), links=links or {})


Info = _Info[GatewayContext, None]
