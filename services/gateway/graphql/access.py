"""Who may see what, in GraphQL: the request's guard and the checks every resolver uses.

The request's :class:`~services.gateway.auth.guard.Guard` is ``info.context.guard`` (set from
its token by :class:`GatewayGraphQL`). The API for resolvers, research views included:

* ``scope_of(info, region) -> Level``: how much of ``region`` (``None``: the nation) the
  caller sees: ``Level.FULL`` rows, ``Level.REGIONAL`` per-region aggregates,
  ``Level.NATIONAL`` national totals only (see :mod:`services.gateway.auth.guard`);
* ``require(info, Level.REGIONAL, region, "attendance rate")``: raise a ``FORBIDDEN``
  GraphQL error naming the role and what it may see, unless the caller reaches that level;
* ``visible(info.context.guard, table.c.region)`` (:mod:`services.gateway.auth.sql`):
  ``WHERE`` terms keeping the rows the caller sees in full.

Where the guard is applied already: :func:`~services.gateway.graphql.pagination.paginate`
(every connection: only rows of fully visible regions; public callers are refused), the
DataLoaders (a nested object of a region the caller may not see is ``null``), the lookups
by id below (a clear ``FORBIDDEN``), the region counts, the exports and the live events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import Table, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from services.gateway.auth.guard import AccessDenied, Guard, Level, Role
from services.gateway.auth.http import bearer, guard_for
from services.gateway.auth.tokens import TokenError
from services.gateway.graphql.context import GatewayContext, Info
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.group import Group
from services.gateway.graphql.meeting import Meeting
from services.gateway.graphql.member import Member
from services.gateway.orm import groups, meetings, members
from shared.i18n import SOURCE_LANGUAGE, negotiate, set_language
from shared.runtime.asgi import graphiql_page

FORBIDDEN = "FORBIDDEN"
_UNSET = UnsetType()  # "no payload" for connection_ack (strawberry's UNSET is typed Any)


def forbidden(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": FORBIDDEN})


def scope_of(info: Info, region: str | None = None) -> Level:
    return info.context.guard.level(region)


def require(info: Info, needed: Level, region: str | None, what: str) -> None:
    require_guard(info.context.guard, needed, region, what)


def require_guard(guard: Guard, needed: Level, region: str | None, what: str) -> None:
    try:
        guard.require(needed, region, what)
    except AccessDenied as exc:
        raise forbidden(str(exc)) from None


def require_rows(
    guard: Guard, kind: str, region: str | None = None, needed: Level = Level.FULL
) -> None:
    """Listing rows (``kind``) needs ``needed`` access to some region (rows in full: public
    callers never, an agency only its own region); ``region``: the one the query names."""
    if region is not None:
        require_guard(guard, needed, region, kind)
    elif guard.regions_at(needed) == frozenset():
        require_guard(guard, needed, None, kind)


async def _by_id(info: Info, table: Table, id_: str, what: str) -> Any:
    async with info.context.sessions() as session:
        row = (await session.execute(select(table).where(table.c.id == id_))).first()
    if row is not None:
        require(info, Level.FULL, row.region, f"{what} {id_}")
    return row


@strawberry.type
class AccessQuery:
    """Lookups by id: each checks the found object's region against the caller's guard."""

    @resolved("One core group by id; null if unknown, FORBIDDEN if not yours to see.")
    async def group(self, info: Info, id: strawberry.ID) -> Group | None:
        row = await _by_id(info, groups, str(id), "group")
        return None if row is None else Group.from_row(row)

    @resolved("One member enterprise by pseudonymous id; FORBIDDEN if not yours to see.")
    async def member(self, info: Info, id: strawberry.ID) -> Member | None:
        row = await _by_id(info, members, str(id), "member")
        return None if row is None else Member.from_row(row)

    @resolved("One meeting by id; null if unknown, FORBIDDEN if not yours to see.")
    async def meeting(self, info: Info, id: strawberry.ID) -> Meeting | None:
        row = await _by_id(info, meetings, str(id), "meeting")
        return None if row is None else Meeting.from_row(row)

    @resolved("What the caller's token may see: its role, region and token id.")
    def viewer(self, info: Info) -> Viewer:
        guard = info.context.guard
        return Viewer(role=guard.role.value, region=guard.region, token_id=guard.token_id)


@strawberry.type(description="The caller, as its token made it.")
class Viewer:
    role: str = strawberry.field(description="researcher | agency | public")
    region: str | None = strawberry.field(description="An agency's own region.")
    token_id: str | None = strawberry.field(description="Null: no token was sent (demo).")


class GatewayGraphQL(GraphQL[GatewayContext, None]):
    """strawberry's ASGI app with the caller's guard in each request's context.

    HTTP and WebSocket requests with an ``Authorization`` header come with their guard from
    :class:`~services.gateway.auth.http.TokenAuth`; a WebSocket without one brings its token
    in graphql-transport-ws's ``connection_init`` payload (``{"authorization": "Bearer
    ..."}`` or ``{"token": "..."}``), checked in :meth:`on_ws_connect` (refused: close 4403).
    """

    def __init__(
        self,
        *args: Any,
        context: Callable[[Guard | None], GatewayContext],
        require_token: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._context = context
        self._require_token = require_token

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page(request)  # the project's own files, no CDN

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GatewayContext:
        # refusals of the coding workspace in the caller's language (shared/errors)
        set_language(negotiate(request.headers.get("accept-language"), default=SOURCE_LANGUAGE))
        guard = getattr(request.state, "guard", None)
        if guard is None and isinstance(request, Request):
            # TokenAuth resolves every HTTP request's token; without it, refuse to guess
            raise RuntimeError("GatewayGraphQL serves only behind TokenAuth")
        return self._context(guard if isinstance(guard, Guard) else None)

    async def on_ws_connect(self, context: GatewayContext) -> UnsetType | dict[str, object] | None:
        if context.authenticated:
            return _UNSET
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization")
        token = params.get("token")
        try:
            if isinstance(raw, str):
                token = bearer(raw)
            if token is not None and not isinstance(token, str):
                raise TokenError("connection_init: 'token' must be a string")
            context.set_guard(await guard_for(context.sessions, token, require=self._require_token))
        except TokenError as exc:
            raise ConnectionRejectionError({"message": str(exc)}) from None
        return _UNSET


__all__ = [
    "FORBIDDEN",
    "AccessQuery",
    "GatewayGraphQL",
    "Level",
    "Role",
    "Viewer",
    "forbidden",
    "require",
    "require_guard",
    "require_rows",
    "scope_of",
]
