"""HTTP: ``GET /exports`` (the catalogue with its data dictionary) and
``GET /exports/<name>.csv|jsonl[?region=R]`` (the rows, streamed). The caller's guard
comes from its token (:class:`~services.gateway.auth.http.TokenAuth`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from services.gateway.auth.guard import AccessDenied, Guard
from services.gateway.exports.registry import DATASETS, Dataset, UnknownDataset, dataset
from services.gateway.exports.stream import FORMATS, BadFormat, check_format, scoped, stream
from services.gateway.snapshot import current


def export_url(name: str, fmt: str) -> str:
    return f"/exports/{name}.{fmt}"


def describe(ds: Dataset, guard: Guard) -> dict[str, Any]:
    try:
        scoped(ds, guard)
        allowed = True
    except AccessDenied:
        allowed = False
    return {
        "name": ds.name,
        "description": ds.description,
        "allowed": allowed,
        "urls": {fmt: export_url(ds.name, fmt) for fmt in FORMATS},
        "columns": [{"name": c.name, "type": c.type, "meaning": c.meaning} for c in ds.columns],
    }


NO_GUARD = "no token was checked for this request (the gateway serves exports behind TokenAuth)"


def _guard(request: Request) -> Guard | None:
    guard = getattr(request.state, "guard", None)
    return guard if isinstance(guard, Guard) else None


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def export_routes(sessions: async_sessionmaker[AsyncSession]) -> list[Route]:
    async def catalogue(request: Request) -> Response:
        guard = _guard(request)
        if guard is None:
            return _error(401, "UNAUTHENTICATED", NO_GUARD)
        async with sessions() as session:
            snap = await current(session)
        return JSONResponse(
            {
                "snapshot": snap.as_dict(),
                "datasets": [describe(d, guard) for d in DATASETS.values()],
            },
            headers=snap.headers(),
        )

    async def download(request: Request) -> Response:
        guard = _guard(request)
        if guard is None:
            return _error(401, "UNAUTHENTICATED", NO_GUARD)
        name, fmt = request.path_params["name"], request.path_params["format"]
        try:
            ds = dataset(name)
            check_format(fmt)
            query = scoped(ds, guard, request.query_params.get("region") or None)
        except (UnknownDataset, BadFormat) as exc:
            return _error(404, "NOT_FOUND", str(exc))
        except AccessDenied as exc:
            return _error(403, "FORBIDDEN", str(exc))
        async with sessions() as session:  # read first: the rows are at least this new
            snap = await current(session)
        return StreamingResponse(
            stream(sessions, ds, fmt, query),
            media_type=FORMATS[fmt],
            headers={
                "content-disposition": f'attachment; filename="{name}.{fmt}"',
                **snap.headers(),
            },
        )

    return [
        Route("/exports", catalogue),
        Route("/exports/{name}.{format}", download),
    ]
