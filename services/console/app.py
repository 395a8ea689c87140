"""Composition root of the regional console: pages, survey forms and the services' APIs
on one origin (default port 8100).

Run it with ``mgn service console`` (settings from the environment), or call
:func:`build` in tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from services.console.backend import SERVICES, Backend
from services.console.oidc import OidcClient
from services.console.orm import Base
from services.console.pages import AREAS
from services.console.proxy import api_routes, survey_routes
from services.console.settings import ConsoleSettings
from services.console.web import Console, template_environment
from shared.runtime.asgi import graphiql_assets_route
from shared.runtime.credentials import NodeCredentials
from shared.storage import create_engine, session_factory
from shared.storage.migrations import migrate, version_table

SERVICE = "console"
MIGRATIONS = Path(__file__).parent / "migrations"
STATIC = Path(__file__).parent / "static"
_ = Base  # the tables come from the migrations


@dataclass(frozen=True)
class ConsoleApp:
    settings: ConsoleSettings
    console: Console
    app: Starlette


def build(
    settings: ConsoleSettings | None = None,
    *,
    credentials: NodeCredentials | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ConsoleApp:
    """Wire the console; ``transport`` lets tests route the backend's calls in-process."""
    settings = settings or ConsoleSettings()
    credentials = credentials if credentials is not None else NodeCredentials.from_settings()
    engine = create_engine(settings.database_url)
    backend = Backend(
        {s: settings.service_url(s) for s in SERVICES},
        credentials.headers("console"),
        timeout=settings.backend_timeout,
        transport=transport,
    )
    console = Console(
        settings,
        session_factory(engine),
        backend,
        template_environment(),
        OidcClient(settings, httpx.AsyncClient(timeout=settings.backend_timeout)),
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await migrate(engine, MIGRATIONS, version_table=version_table(SERVICE))
        try:
            yield
        finally:
            await backend.aclose()
            await console.oidc.http.aclose()
            await engine.dispose()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"service": SERVICE, "region": settings.region})

    routes: list[BaseRoute] = [Route("/healthz", healthz)]
    for area in AREAS:
        routes.extend(area.starlette_routes(console))
    routes += api_routes(console)
    routes += survey_routes(console)
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    routes.append(graphiql_assets_route())  # GraphiQL's files for /api/<service>/graphql
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.console = console
    return ConsoleApp(settings, console, app)


def create_app(settings: ConsoleSettings | None = None, **kwargs: Any) -> Starlette:
    return build(settings, **kwargs).app
