"""HTTP: ``GET /exports`` (the catalogue with its data dictionary) and
``GET /exports/<name>.csv|jsonl[?region=R]`` (the rows, streamed), ``.sav|.dta`` (SPSS and
Stata files with value labels, written to a private temporary file first, then sent and
removed), and ``GET /exports/memos.qdpx`` (a REFI-QDA project of the memos and their codings,
researchers only). The caller's guard comes from its token
(:class:`~services.gateway.auth.http.TokenAuth`)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from services.gateway.auth.guard import AccessDenied, Guard
from services.gateway.exports.qdpx import MEDIA_TYPE as QDPX_MEDIA_TYPE
from services.gateway.exports.qdpx import require_researcher, write_qdpx
from services.gateway.exports.registry import DATASETS, Dataset, UnknownDataset, dataset
from services.gateway.exports.stats import STATS_FORMATS, NotInValueSet, write_stats
from services.gateway.exports.stream import FORMATS, BadFormat, check_format, scoped, stream
from services.gateway.research.scope import Scope
from services.gateway.snapshot import current
from shared.errors import DomainError


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
        "urls": {
            fmt: export_url(ds.name, fmt)
            for fmt in (*FORMATS, *STATS_FORMATS, *(("qdpx",) if ds.name == "memos" else ()))
        },
        "columns": [{"name": c.name, "type": c.type, "meaning": c.meaning} for c in ds.columns],
    }


NO_GUARD = "no token was checked for this request (the gateway serves exports behind TokenAuth)"


def _guard(request: Request) -> Guard | None:
    guard = getattr(request.state, "guard", None)
    return guard if isinstance(guard, Guard) else None


def _day(params: Any, name: str) -> date | None:
    text = params.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a day (YYYY-MM-DD)") from None


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _sent_then_removed(path: Path) -> AsyncIterator[bytes]:
    """The file's bytes, a block at a time; its folder removed once sent (or abandoned)."""
    try:
        with path.open("rb") as data:
            for block in iter(lambda: data.read(1 << 20), b""):
                yield block
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


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
        if (name, fmt) == ("memos", "qdpx"):
            return await refi_qda(request, guard)
        try:
            ds = dataset(name)
            if fmt not in STATS_FORMATS:
                check_format(fmt)
            query = scoped(ds, guard, request.query_params.get("region") or None)
        except (UnknownDataset, BadFormat) as exc:
            return _error(404, "NOT_FOUND", str(exc))
        except AccessDenied as exc:
            return _error(403, "FORBIDDEN", str(exc))
        async with sessions() as session:  # read first: the rows are at least this new
            snap = await current(session)
        headers = {"content-disposition": f'attachment; filename="{name}.{fmt}"', **snap.headers()}
        if fmt in STATS_FORMATS:
            folder = Path(tempfile.mkdtemp(prefix="mgn-export-"))  # 0700
            try:
                path = folder / f"{name}.{fmt}"
                _, digest = await write_stats(sessions, ds, query, path, fmt)
            except NotInValueSet as exc:
                shutil.rmtree(folder, ignore_errors=True)
                return _error(500, "DATA_DICTIONARY", str(exc))
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            return StreamingResponse(
                _sent_then_removed(path),
                media_type=STATS_FORMATS[fmt],
                headers={**headers, "x-mgn-sha256": digest},
            )
        return StreamingResponse(
            stream(sessions, ds, fmt, query), media_type=FORMATS[fmt], headers=headers
        )

    async def refi_qda(request: Request, guard: Guard) -> Response:
        """``/exports/memos.qdpx?from=&to=&region=&group=&codebook=``: researchers only."""
        params = request.query_params
        try:
            require_researcher(guard)
            scope = Scope(
                _day(params, "from"),
                _day(params, "to"),
                params.get("region") or None,
                params.get("group") or None,
            )
            language = params.get("language") or "en"
            if language not in ("fi", "sv", "en"):
                raise ValueError(f"language={language!r}: choose fi, sv or en")
        except AccessDenied as exc:
            return _error(403, "FORBIDDEN", str(exc))
        except ValueError as exc:
            return _error(400, "BAD_REQUEST", str(exc))
        async with sessions() as session:
            snap = await current(session)
        folder = Path(tempfile.mkdtemp(prefix="mgn-export-"))  # 0700
        try:
            written = await write_qdpx(
                sessions,
                guard,
                folder / "memos.qdpx",
                scope,
                params.get("codebook") or "wenger",
                snap,
                language,
            )
        except DomainError as exc:  # no such codebook
            shutil.rmtree(folder, ignore_errors=True)
            return _error(404, "NOT_FOUND", exc.render("en"))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return StreamingResponse(
            _sent_then_removed(written.path),
            media_type=QDPX_MEDIA_TYPE,
            headers={
                "content-disposition": 'attachment; filename="memos.qdpx"',
                "x-mgn-sha256": written.sha256,
                **snap.headers(),
            },
        )

    return [
        Route("/exports", catalogue),
        Route("/exports/{name}.{format}", download),
    ]
