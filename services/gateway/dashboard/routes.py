"""Routes of the dashboard: the page at ``/dashboard`` and its files at ``/dashboard/static``.

The page is plain HTML, one vanilla JS file and one stylesheet (no build step, nothing from
another origin): the script asks the gateway's own ``/graphql`` and draws inline SVG charts.
The server fills in only the link to the researchers' coding page (``/dashboard/coding``),
in the page's language (``?lang=``, else English, as the script chooses) from the
``research`` gettext catalogue.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from services.gateway.dashboard.texts import _
from shared.i18n import is_language, set_language

STATIC = Path(__file__).parent / "static"
CODING = "/dashboard/coding"  # the researchers' coding page (coding.py)
CODING_LINK = "<!-- coding-link -->"  # where index.html gets the link

# Everything comes from the gateway itself; no inline script, no other origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


async def page(request: Request) -> Response:
    wanted = request.query_params.get("lang")
    lang = wanted if wanted and is_language(wanted) else "en"  # as dashboard.js chooses
    set_language(lang)
    text = _("Coding meetings")  # outside the f-string, where Babel finds it
    link = f'<a id="coding-link" href="{CODING.lstrip("/")}?lang={lang}">{escape(text)}</a>'
    html = (STATIC / "index.html").read_text(encoding="utf-8").replace(CODING_LINK, link)
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})


def dashboard_routes() -> list[BaseRoute]:
    """``/dashboard`` (the page) and ``/dashboard/static/*`` (its script and stylesheet)."""
    return [
        Route("/dashboard", page, methods=["GET", "HEAD"]),
        Mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static"),
    ]
