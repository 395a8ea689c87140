"""GraphiQL served from the project's own files (no CDN: it works on a closed network).

``assets/`` holds the UMD bundles of graphiql 3.8.3 and React 18.3.1 from the npm registry
(versions, checksums and licences: README.md beside this file) and ``start.js``, which starts
it with the page's endpoint. :func:`page` is the HTML, :func:`assets_route` serves the
files at :data:`ASSETS_PATH`; :data:`CSP` is the Content-Security-Policy the page needs
(scripts only from this origin; GraphiQL sets inline styles).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Final

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS: Final = Path(__file__).parent / "assets"
ASSETS_PATH: Final = "/graphiql-assets"
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def page(endpoint: str, title: str = "GraphiQL", assets: str = ASSETS_PATH) -> str:
    """The IDE for ``endpoint`` (a path of this origin)."""
    a = escape(assets)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{a}/graphiql.min.css">
<style>body{{margin:0;height:100vh}}#graphiql{{height:100vh}}</style>
</head>
<body data-endpoint="{escape(endpoint)}">
<div id="graphiql">Loading GraphiQL ...</div>
<script src="{a}/react.production.min.js"></script>
<script src="{a}/react-dom.production.min.js"></script>
<script src="{a}/graphiql.min.js"></script>
<script src="{a}/start.js"></script>
</body>
</html>
"""


def assets_route(path: str = ASSETS_PATH) -> Mount:
    return Mount(path, StaticFiles(directory=ASSETS), name="graphiql-assets")
