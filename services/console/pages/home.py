"""The home page (the signed-in person's groups) and a group's overview."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from services.console.pages.home_panels import home_panels
from services.console.web import Ctx, NotFound, Routes

routes = Routes()

GROUPS = "{ groups { id name municipality foundedOn } }"
GROUP = """query($id: UUID!) { group(id: $id) { id name municipality foundedOn
  facilitators { name email role } members(activeOnly: true) { id } } }"""


@routes.get("/")
async def home(ctx: Ctx) -> Response:
    data = await ctx.backend.groups(GROUPS)
    groups: list[dict[str, Any]] = [
        g for g in data["groups"] if ctx.staff.can_access_group(g["id"])
    ]
    panels = await home_panels(ctx, groups)
    names = {g["id"]: g["name"] for g in groups}
    return ctx.render("home/index.html", groups=groups, home=panels, group_names=names)


@routes.get("/groups/{group_id}")
async def group(ctx: Ctx) -> Response:
    group_id = ctx.require_group(ctx.path("group_id"))
    found = (await ctx.backend.groups(GROUP, id=str(group_id)))["group"]
    if found is None:
        raise NotFound()
    return ctx.render("home/group.html", group=found)
