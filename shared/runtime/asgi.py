"""The HTTP face of a service: GraphQL at /graphql (GraphiQL on GET), health at /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema

ContextFactory = Callable[[], Any]


class _GraphQL(GraphQL[Any, None]):
    def __init__(self, schema: BaseSchema, context_factory: ContextFactory, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self._context_factory = context_factory

    async def get_context(self, request: Any, response: Any) -> Any:
        return self._context_factory()


def graphql_app(
    schema: BaseSchema, context_factory: ContextFactory, *, ide: bool = True
) -> GraphQL[Any, None]:
    return _GraphQL(schema, context_factory, graphql_ide="graphiql" if ide else None)


def service_app(
    *,
    schema: BaseSchema,
    context_factory: ContextFactory,
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    health: Callable[[], Awaitable[dict[str, Any]]],
    routes: Sequence[BaseRoute] = (),
    graphiql: bool = True,
    graphql: GraphQL[Any, None] | None = None,
) -> Starlette:
    """``graphql``: a ready GraphQL app to serve instead of one built from ``schema`` and
    ``context_factory`` (the gateway's reads the caller's token)."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await start()
        try:
            yield
        finally:
            await stop()

    async def healthz(_request: Request) -> Response:
        return JSONResponse(await health())

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            *routes,
            Route("/graphql", graphql or graphql_app(schema, context_factory, ide=graphiql)),
        ],
        lifespan=lifespan,
    )
