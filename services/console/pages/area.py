"""What the member, erasure, feedback and home pages need of the console's core, in one
place: the backend call, rendering, the user's groups and rights, the audit, redirects.

DRAFT: implemented on a stand-in until the core lands; then on the core's helpers.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any
from uuid import UUID

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from services.console.node_link import NodeLink
from services.console.pages.problems import Problem

GROUPS = "{ groups { id name municipality foundedOn facilitators { name } } }"


class Refused(Exception):
    """The service refused: its problems, each at its field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class Unavailable(Exception):
    """The service did not answer."""


def fold(text: str) -> str:
    """Case and accents ignored, as the groups service matches names."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def uuid_or_none(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


def path_uuid(request: Request, name: str) -> UUID:
    found = uuid_or_none(str(request.path_params.get(name, "")))
    if found is None:
        raise HTTPException(404)
    return found


# -- the host: what the console's core provides ------------------------------------------


def _host(request: Request) -> Any:
    return request.app.state.pages


def user(request: Request) -> Any:
    """The signed-in user: ``.role`` ("admin" or "facilitator"), ``.group_ids``."""
    found = _host(request).user(request)
    if found is None:
        raise HTTPException(401)
    return found


def is_admin(request: Request) -> bool:
    return bool(user(request).role == "admin")


def require_admin(request: Request) -> None:
    if not is_admin(request):
        raise HTTPException(403)


async def gql(request: Request, service: str, query: str, **variables: Any) -> dict[str, Any]:
    """The service's answer (``data``); a refusal raises :class:`Refused`, a service that
    cannot be reached :class:`Unavailable`."""
    return dict(await _host(request).gql(request, service, query, variables))


async def visible_groups(request: Request, *, changing: bool = False) -> list[dict[str, Any]]:
    """The groups the user may see (an admin: all), by name."""
    groups = (await gql(request, "groups", GROUPS))["groups"]
    if is_admin(request):
        return list(groups)
    mine = {str(g) for g in user(request).group_ids}
    return [g for g in groups if g["id"] in mine]


async def can_change_group(request: Request, group_id: UUID) -> bool:
    return is_admin(request) or str(group_id) in {str(g) for g in user(request).group_ids}


async def require_group(request: Request, group_id: UUID, *, changing: bool = False) -> None:
    """403 unless the user is an admin or assigned to the group (on every route)."""
    if not await can_change_group(request, group_id):
        raise HTTPException(403)


async def audit(request: Request, action: str, target: str, detail: str = "") -> None:
    await _host(request).audit(request, action, target, detail)


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    return _host(request).render(request, template, status, context)  # type: ignore[no-any-return]


def redirect(request: Request, url: str, notice: str) -> Response:
    return _host(request).redirect(request, url, notice)  # type: ignore[no-any-return]


def not_found(request: Request) -> Response:
    raise HTTPException(404)


def forbidden(request: Request) -> Response:
    raise HTTPException(403)


def bad_request(request: Request) -> Response:
    raise HTTPException(400)


async def node_link(request: Request) -> NodeLink:
    return await _host(request).node_link(request)  # type: ignore[no-any-return]


# -- shown as the reader writes it ---------------------------------------------------------


def today_shown() -> str:
    from shared.i18n.formats import HELSINKI, format_date

    return format_date(datetime.now(HELSINKI).date())


def date_shown(value: str | date) -> str:
    from shared.i18n.formats import format_date

    return format_date(date.fromisoformat(value) if isinstance(value, str) else value)


def number_shown(value: int) -> str:
    from shared.i18n.formats import format_number

    return format_number(value)
