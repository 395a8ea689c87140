"""Composition root of the groups service: runtime, GraphQL schema and the Starlette app.

Run it with ``uvicorn --factory services.groups.app:create_app`` (settings from the
environment), or call :func:`build` in tests to reach the runtime as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from starlette.applications import Starlette

from services.groups.announce import announce_region
from services.groups.api import GroupsContext, schema
from services.groups.commands import AnnounceRegion
from services.groups.importing_http import IMPORT_BODY_BYTES, IMPORT_PATH, import_route
from services.groups.orm import TABLES, Base
from services.groups.settings import GroupsSettings
from shared.runtime import ServiceRuntime
from shared.runtime.asgi import service_app
from shared.runtime.credentials import NodeCredentials

SERVICE = "groups"


@dataclass(frozen=True)
class GroupsService:
    settings: GroupsSettings
    runtime: ServiceRuntime
    app: Starlette


def build(
    settings: GroupsSettings | None = None, *, credentials: NodeCredentials | None = None
) -> GroupsService:
    """Wire the service; nothing connects until the app's lifespan starts the runtime.
    ``credentials``: who may call its API (default: the node's, MGN_NODE_CREDENTIALS_FILE)."""
    settings = settings or GroupsSettings()
    runtime = ServiceRuntime(
        service=SERVICE,
        region=settings.region,
        database_url=settings.database_url,
        nats_url=settings.nats_url,
        metadata=Base.metadata,
        tables=TABLES,
        migrations=Path(__file__).parent / "migrations",
    )

    def context() -> GroupsContext:
        return GroupsContext(settings.region, runtime.sessions, runtime.unit_of_work)

    async def start() -> None:
        await runtime.start()
        await announce_region(
            AnnounceRegion(settings.display_name, settings.agency, _software_version()),
            runtime.unit_of_work(),
            region=settings.region,
        )

    app = service_app(
        schema=schema,
        context_factory=context,
        start=start,
        stop=runtime.stop,
        metrics=runtime.metrics,
        health=runtime.health,
        routes=[import_route(settings.region, runtime.unit_of_work)],
        graphiql=settings.graphiql,
        cache_documents=True,  # no variable-dependent validation rules here
        credentials=credentials or NodeCredentials.from_settings(),
        service=SERVICE,
        # a member list of up to MAX_CHARS, by HTTP or in the importMembers mutation
        body_limits={IMPORT_PATH: IMPORT_BODY_BYTES, "/graphql": IMPORT_BODY_BYTES},
    )
    app.state.runtime = runtime
    return GroupsService(settings=settings, runtime=runtime, app=app)


def _software_version() -> str:
    try:
        return version("mgn")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return ""


def create_app(settings: GroupsSettings | None = None) -> Starlette:
    """The ASGI app of the groups service (``settings`` default to the environment)."""
    return build(settings).app
