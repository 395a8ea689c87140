"""Core groups: the list (a facilitator sees theirs, an admin every group) and founding a
group (admin)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.console.pages import area
from services.console.pages.problems import Problem
from services.console.texts import _
from shared.errors.dates import InvalidDate
from shared.i18n.formats import FormatError, parse_date

CREATE = """mutation($i: CreateGroupInput!) { createGroup(input: $i) { id name } }"""
COUNTS = """query($g: UUID!) { searchMembers(groupId: $g, status: ACTIVE, first: 0) { total } }"""


async def _show(request: Request, status: int = 200, **context: object) -> Response:
    groups = await area.visible_groups(request)
    counts = {}
    for group in groups:
        found = await area.gql(request, "groups", COUNTS, g=group["id"])
        counts[group["id"]] = found["searchMembers"]["total"]
    context.setdefault("values", {"name": "", "municipality": "", "founded_on": area.today_shown()})
    context.setdefault("problems", [])
    return area.render(
        request, "groups/list.html", status=status, groups=groups, counts=counts, **context
    )


async def group_list(request: Request) -> Response:
    return await _show(request)


async def create_group(request: Request) -> Response:
    area.require_admin(request)
    data = await request.form()
    values = {k: str(data.get(k, "")).strip() for k in ("name", "municipality", "founded_on")}
    problems: list[Problem] = []
    if not values["name"]:
        problems.append(Problem("REQUIRED", "name", _("Give the group's name.")))
    founded = None
    try:
        founded = parse_date(values["founded_on"]).isoformat()
    except FormatError:
        error = InvalidDate(values["founded_on"], field="founded_on")
        problems.append(Problem(error.code, "founded_on", error.render()))
    if not problems:
        given = {"name": values["name"], "municipality": values["municipality"]}
        try:
            created = await area.gql(request, "groups", CREATE, i={**given, "foundedOn": founded})
        except area.Refused as refused:
            problems = list(refused.problems)
        else:
            group = created["createGroup"]
            await area.audit(request, "group.create", group["id"], group["name"])
            notice = _("The core group {name} was founded.", name=group["name"])
            return area.redirect(request, "/groups", notice)
    return await _show(request, 422, values=values, problems=problems)


ROUTES = [
    Route("/groups", group_list, methods=["GET"]),
    Route("/groups", create_group, methods=["POST"]),
]
