"""The services behind the console's one origin.

- ``/api/<service>/graphql``: the regional GraphQL APIs, for signed-in admins and for the
  holders of an API token an admin issued (``Authorization: Bearer <token>``). Facilitators
  work through the pages, which check their groups; the raw API would not. A browser
  session's POST must be JSON (``application/json``: a cross-site form cannot send it).
- ``/survey/<token>``: the entrepreneurs' survey forms of the feedback service, to anyone
  with the link (the token in it is the credential).

Requests go on with the console's node credential and the caller's language.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from services.console.backend import SERVICES
from services.console.tokens import ApiTokens
from services.console.web import Console, Ctx
from shared.runtime.asgi import graphiql_page

HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "content-length",
        "content-encoding",
        "host",
        "authorization",
        "cookie",
    }
)
FORWARDED_RESPONSE: Final = ("content-type", "location", "retry-after", "cache-control")
MAX_BODY: Final = 6 * 1024 * 1024


def _refuse(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers={"WWW-Authenticate": 'Bearer realm="mgn console"'} if status == 401 else None,
    )


async def forward(
    console: Console, request: Request, service: str, path: str, *, language: str = ""
) -> Response:
    body = await request.body()
    if len(body) > MAX_BODY:
        return _refuse(413, "The request is too large.", "TOO_LARGE")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers.update(console.backend.auth_headers())
    if language:
        headers["accept-language"] = language
    url = f"{console.settings.service_url(service)}{path}"
    try:
        answer = await console.backend.client(service).send(
            request.method,
            url,
            retry=request.method == "GET",  # a POST may change something: never sent twice
            params=request.query_params,
            content=body,
            headers=headers,
        )
    except httpx.HTTPError as exc:
        return _refuse(
            503,
            f"The {service} service is not answering ({exc.__class__.__name__}).",
            "SERVICE_UNAVAILABLE",
        )
    out = {k: v for k, v in answer.headers.items() if k.lower() in FORWARDED_RESPONSE}
    return Response(answer.content, status_code=answer.status_code, headers=out)


def api_routes(console: Console) -> list[Route]:
    """``/api/<service>/graphql`` for admins' sessions and API tokens."""
    tokens = ApiTokens(console)

    async def api(request: Request) -> Response:
        service = request.path_params["service"]
        if service not in SERVICES:
            return _refuse(
                404, f"No service {service!r}: use one of {', '.join(SERVICES)}.", "NOT_FOUND"
            )
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            return await _ide(console, request)
        authorization = request.headers.get("authorization")
        if authorization:
            holder = await tokens.holder(authorization)
            if holder is None:
                return _refuse(
                    401, "The API token is not valid (unknown or revoked).", "UNAUTHENTICATED"
                )
            response = await forward(console, request, service, "/graphql")
            await tokens.after_call(holder, service, request, response)
            return response
        return await _session_call(console, request, service)

    return [Route("/api/{service}/graphql", api, methods=["GET", "POST"])]


async def _session_call(console: Console, request: Request, service: str) -> Response:
    from services.console.web import _context

    async with console.sessions() as db:
        ctx: Ctx = await _context(console, request, db)
        await db.commit()
    if ctx.user is None:
        return _refuse(
            401,
            "Sign in to the console as an admin, or send an API token an admin issued "
            "('Authorization: Bearer <token>').",
            "UNAUTHENTICATED",
        )
    if not ctx.user.is_admin:
        return _refuse(
            403,
            "Only admins use the API directly; facilitators work through the pages.",
            "FORBIDDEN",
        )
    if request.method == "POST" and not request.headers.get("content-type", "").startswith(
        "application/json"
    ):
        return _refuse(415, "Send the GraphQL request as application/json.", "UNSUPPORTED")
    return await forward(console, request, service, "/graphql", language=ctx.language)


async def _ide(console: Console, request: Request) -> Response:
    """GraphiQL on the service's API for a signed-in admin (from the project's own files)."""
    from services.console.web import _context

    async with console.sessions() as db:
        ctx: Ctx = await _context(console, request, db)
        await db.commit()
    if ctx.user is None:
        return RedirectResponse("/signin?next=" + quote(request.url.path, safe=""), 303)
    if not ctx.user.is_admin:
        return _refuse(403, "Only admins use the API directly.", "FORBIDDEN")
    return graphiql_page(request)


def survey_routes(console: Console) -> list[Route]:
    async def survey(request: Request) -> Response:
        token = request.path_params["token"]
        return await forward(console, request, "feedback", f"/survey/{token}")

    return [Route("/survey/{token}", survey, methods=["GET", "POST"])]
