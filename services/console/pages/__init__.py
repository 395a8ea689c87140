"""The console's pages, one module per area; each has ``routes = Routes()``.

To add an area: write ``pages/<area>.py`` (README.md, "How to add a page") and add it to
``AREAS`` below. Nothing else registers routes.
"""

from __future__ import annotations

from services.console.pages import auth, home
from services.console.web import Routes

AREAS: tuple[Routes, ...] = (
    auth.routes,
    home.routes,
)
