"""The home page (the signed-in person's groups) and a group's overview."""

from __future__ import annotations

import asyncio
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
    staff = ctx.staff
    if staff.is_admin:  # every group: their ids come from the groups service
        data = await ctx.backend.groups(GROUPS)
        panels = await home_panels(ctx, [g["id"] for g in data["groups"]])
    else:  # a facilitator's groups are known: their panels asked beside their names
        data, panels = await asyncio.gather(
            ctx.backend.groups(GROUPS), home_panels(ctx, sorted(str(g) for g in staff.groups))
        )
    groups: list[dict[str, Any]] = [g for g in data["groups"] if staff.can_access_group(g["id"])]
    names = {g["id"]: g["name"] for g in groups}
    return ctx.render("home/index.html", groups=groups, home=panels, group_names=names)


@routes.get("/groups/{group_id}")
async def group(ctx: Ctx) -> Response:
    group_id = ctx.require_group(ctx.path("group_id"))
    found = (await ctx.backend.groups(GROUP, id=str(group_id)))["group"]
    if found is None:
        raise NotFound()
    return ctx.render("home/group.html", group=found)
