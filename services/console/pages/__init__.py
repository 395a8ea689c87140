"""The console's pages, one module per area; each has ``routes = Routes()``.

To add an area: write ``pages/<area>.py`` (README.md, "How to add a page") and add it to
``AREAS`` below. Nothing else registers routes.
"""

from __future__ import annotations

from services.console.pages import (
    admin,
    auth,
    calendar_links,
    erasure,
    feedback,
    groups,
    home,
    interviews,
    meeting_page,
    meetings,
    member_page,
    members,
    members_import,
)
from services.console.web import Routes

AREAS: tuple[Routes, ...] = (
    auth.routes,
    home.routes,
    groups.routes,
    members_import.routes,  # /members/import before /members/{member_id}
    members.routes,  # /members/new before /members/{member_id}
    interviews.routes,
    member_page.routes,
    meetings.routes,
    meeting_page.routes,
    calendar_links.routes,
    feedback.routes,
    erasure.routes,
    admin.routes,
)
