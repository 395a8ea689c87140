"""The per-request GraphQL context: a session factory, the caller's guard, fresh DataLoaders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as _Info

from services.gateway.auth.guard import ANONYMOUS, Guard
from services.gateway.graphql.loaders import Loaders
from services.gateway.live import Broadcaster
from services.gateway.registrar import RegionLink


@dataclass
class GatewayContext:
    """Resolvers open short sessions from ``sessions`` (never share one: strawberry runs
    sibling resolvers concurrently) and batch lookups through ``loaders``.

    ``guard`` is the caller (see :mod:`services.gateway.graphql.access`); a context made
    without one (tests, tools) is :data:`~services.gateway.auth.guard.ANONYMOUS`, a national
    researcher. ``authenticated`` is False only for a WebSocket whose token is still to come
    in its ``connection_init``."""

    sessions: async_sessionmaker[AsyncSession]
    loaders: Loaders
    links: Mapping[str, RegionLink] = field(default_factory=dict)  # the registrar's last look
    guard: Guard = ANONYMOUS
    live: Broadcaster | None = None  # new national events, for subscriptions
    authenticated: bool = True
    connection_params: dict[str, Any] | None = None  # set by graphql-transport-ws
    # the writer's sessions, for the coding workspace's mutations (None: ``sessions``)
    write_sessions: async_sessionmaker[AsyncSession] | None = None

    @classmethod
    def create(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        links: Mapping[str, RegionLink] | None = None,
        *,
        guard: Guard | None = ANONYMOUS,
        live: Broadcaster | None = None,
        write_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> GatewayContext:
        return cls(
            sessions=sessions,
            loaders=Loaders.create(sessions, guard or ANONYMOUS),
            links=links or {},
            guard=guard or ANONYMOUS,
            live=live,
            authenticated=guard is not None,
            write_sessions=write_sessions,
        )

    def set_guard(self, guard: Guard) -> None:
        """Adopt the guard a WebSocket's ``connection_init`` brought (new loaders with it)."""
        self.guard = guard
        self.loaders = Loaders.create(self.sessions, guard)
        self.authenticated = True


Info = _Info[GatewayContext, None]
