"""Routes of the dashboard: the page at ``/dashboard`` and its files at ``/dashboard/static``.

The page is plain HTML, one vanilla JS file and one stylesheet (no build step, nothing from
another origin): the script asks the gateway's own ``/graphql`` and draws inline SVG charts.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

# Everything comes from the gateway itself; no inline script, no other origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


async def page(_request: Request) -> Response:
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
    )


def dashboard_routes() -> list[BaseRoute]:
    """``/dashboard`` (the page) and ``/dashboard/static/*`` (its script and stylesheet)."""
    return [
        Route("/dashboard", page, methods=["GET", "HEAD"]),
        Mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static"),
    ]
