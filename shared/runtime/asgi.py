"""The HTTP face of a service: GraphQL at /graphql (GraphiQL on GET), health at /healthz,
Prometheus metrics at /metrics (loopback callers, or a bearer token: see
:class:`~shared.runtime.observability.OperationsSettings`)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from hmac import compare_digest
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema import BaseSchema

from shared.i18n import SOURCE_LANGUAGE, negotiate, set_language
from shared.runtime import graphiql
from shared.runtime.credentials import PUBLIC_PATHS, ApiAuthMiddleware, NodeCredentials
from shared.runtime.edge import BodyLimit
from shared.runtime.metrics import CONTENT_TYPE, Metrics, TimingMiddleware
from shared.runtime.observability import OperationsSettings

ContextFactory = Callable[[], Any]
DOCUMENT_CACHE_SIZE = 256  # distinct query texts kept parsed and validated


def with_document_caches(schema: BaseSchema, maxsize: int = DOCUMENT_CACHE_SIZE) -> BaseSchema:
    """A copy of ``schema`` that parses and validates each distinct query text once
    (strawberry's ParserCache and ValidationCache, LRU-bounded). Profiling the groups
    service under load put about 30 % of its CPU in validating the same mutation again.

    Only for schemas whose validation depends on the document alone: the gateway's cost
    rule reads the request's variables, so its validation must run every time.
    """
    if not isinstance(schema, strawberry.Schema):
        return schema
    cached = copy.copy(schema)
    cached.extensions = (
        *schema.extensions,
        lambda: ParserCache(maxsize=maxsize),
        lambda: ValidationCache(maxsize=maxsize),
    )
    return cached


class _GraphQL(GraphQL[Any, None]):
    def __init__(self, schema: BaseSchema, context_factory: ContextFactory, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self._context_factory = context_factory

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page(request)

    async def get_context(self, request: Any, response: Any) -> Any:
        # refusals and formats in the caller's language (shared.runtime.graphql_errors)
        set_language(negotiate(request.headers.get("accept-language"), default=SOURCE_LANGUAGE))
        return self._context_factory()


def graphql_app(
    schema: BaseSchema,
    context_factory: ContextFactory,
    *,
    ide: bool = True,
    cache_documents: bool = False,
) -> GraphQL[Any, None]:
    if cache_documents:
        schema = with_document_caches(schema)
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
    cache_documents: bool = False,
    graphql: GraphQL[Any, None] | None = None,
    metrics: Metrics | None = None,
    credentials: NodeCredentials | None = None,
    public_paths: Sequence[str] = (),
    service: str = "",
    body_limits: Mapping[str, int] | None = None,
    health_details: Callable[[Request], Awaitable[bool]] | None = None,
    middleware: Sequence[Middleware] = (),
) -> Starlette:
    """``cache_documents``: see :func:`with_document_caches` (regional services turn it on).
    ``graphql``: a ready GraphQL app to serve instead of one built from ``schema`` and
    ``context_factory`` (the gateway's reads the caller's token).
    ``metrics``: served at /metrics, and every HTTP request timed into it.
    ``credentials``: the node's (a regional service): every path but /healthz, /metrics and
    ``public_paths`` answers only callers with one (:mod:`shared.runtime.credentials`).
    ``body_limits``: paths that may take a larger body than MGN_HTTP_MAX_BODY_BYTES
    (:class:`~shared.runtime.edge.BodyLimit`, in front of every route).
    ``health_details``: whether a request may read /healthz in full; without it only
    ``{"status": ...}`` (default: everyone may).
    ``middleware``: the app's own (e.g. the gateway's tokens), inside the body limit."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await start()
        try:
            yield
        finally:
            await stop()

    async def healthz(request: Request) -> Response:
        report = await health()
        if health_details is not None and not await health_details(request):
            report = {"status": report.get("status", "ok")}
        return JSONResponse(report)

    extra: list[BaseRoute] = []
    if graphiql:
        extra.append(graphiql_assets_route())  # the IDE's files: no CDN
    if metrics is not None:
        extra.append(Route("/metrics", metrics_endpoint(metrics, OperationsSettings())))
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            *extra,
            *routes,
            Route(
                "/graphql",
                graphql
                or graphql_app(
                    schema, context_factory, ide=graphiql, cache_documents=cache_documents
                ),
            ),
        ],
        lifespan=lifespan,
    )
    for inner in reversed(middleware):  # the first given is the outermost of them
        app.add_middleware(inner.cls, *inner.args, **inner.kwargs)
    app.add_middleware(BodyLimit, routes=body_limits)  # before anything reads a body
    if metrics is not None:
        app.add_middleware(TimingMiddleware, metrics=metrics, routes=app.router.routes)
    if credentials is not None:
        app.add_middleware(
            ApiAuthMiddleware,
            credentials=credentials,
            service=service or "regional",
            public=(*PUBLIC_PATHS, *public_paths),
        )
    return app


def graphiql_page(request: Request) -> HTMLResponse:
    """GraphiQL for the GraphQL endpoint at the request's path, from our own files."""
    return HTMLResponse(
        graphiql.page(request.url.path), headers={"Content-Security-Policy": graphiql.CSP}
    )


def graphiql_assets_route() -> BaseRoute:
    return graphiql.assets_route()


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def metrics_endpoint(
    metrics: Metrics, settings: OperationsSettings
) -> Callable[[Request], Awaitable[Response]]:
    """/metrics for a scraper on this machine, or one that sends ``MGN_METRICS_TOKEN``."""
    expected = f"Bearer {settings.metrics_token}" if settings.metrics_token else None

    async def endpoint(request: Request) -> Response:
        client = request.client.host if request.client else ""
        token = request.headers.get("authorization")
        allowed = expected is not None and token is not None and compare_digest(token, expected)
        if not allowed and client not in LOOPBACK:
            return PlainTextResponse(
                "/metrics answers only on the loopback interface, or with "
                "'Authorization: Bearer <MGN_METRICS_TOKEN>' when that setting is given\n",
                status_code=403,
            )
        return Response(await metrics.render(), media_type=CONTENT_TYPE)

    return endpoint
