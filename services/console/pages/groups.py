"""Core groups: the list (a facilitator sees theirs, an admin every group) and founding a
group (admin)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from services.console.backend import BackendError, Problem
from services.console.i18n import _
from services.console.pages.lookup import (
    aliased,
    at_field,
    groups_and,
    read_date,
    today_shown,
    visible_groups,
)
from services.console.web import Ctx, Routes

routes = Routes()

CREATE = """mutation($i: CreateGroupInput!) { createGroup(input: $i) { id name } }"""
ACTIVE = "g{i}: searchMembers(groupId: $g{i}, status: ACTIVE, first: 0) {{ total }}"


async def _active_counts(ctx: Ctx, group_ids: list[str]) -> dict[str, int]:
    """Each group's active members, in one request (not one per group)."""
    if not group_ids:
        return {}
    params, fields, variables = aliased(ACTIVE, group_ids)
    found = await ctx.backend.graphql("groups", f"query({params}) {{ {fields} }}", variables)
    return {g: found[f"g{i}"]["total"] for i, g in enumerate(group_ids)}


async def _groups_and_counts(ctx: Ctx) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The visible groups and their active members: a facilitator's in one request (their
    groups are known), an admin's in two (every group first)."""
    if ctx.staff.is_admin:
        groups = await visible_groups(ctx)
        return groups, await _active_counts(ctx, [g["id"] for g in groups])
    ids = sorted(str(g) for g in ctx.staff.groups)
    params, fields, variables = aliased(ACTIVE, ids)
    groups, found = await groups_and(ctx, params, fields, **variables)
    counts = {g: found[f"g{i}"]["total"] for i, g in enumerate(ids)}
    return groups, counts


async def _show(ctx: Ctx, status: int = 200, **values: object) -> Response:
    groups, counts = await _groups_and_counts(ctx)
    values.setdefault("values", {"name": "", "municipality": "", "founded_on": today_shown()})
    values.setdefault("errors", {})
    return ctx.render("groups/list.html", status=status, groups=groups, counts=counts, **values)


@routes.get("/groups")
async def group_list(ctx: Ctx) -> Response:
    return await _show(ctx)


@routes.post("/groups", role="admin")
async def create_group(ctx: Ctx) -> Response:
    data = await ctx.form()
    values = {k: data.get(k, "").strip() for k in ("name", "municipality", "founded_on")}
    problems: list[Problem] = []
    if not values["name"]:
        problems.append(Problem("REQUIRED", _("Give the group's name."), "name"))
    founded, problem = read_date(values["founded_on"], "founded_on")
    if problem is not None:
        problems.append(problem)
    if not problems:
        given = {"name": values["name"], "municipality": values["municipality"]}
        try:
            created = await ctx.backend.groups(CREATE, i={**given, "foundedOn": founded})
        except BackendError as refused:
            problems = [at_field(p, {}) for p in refused.problems]
        else:
            group = created["createGroup"]
            await ctx.audit("group.create", f"group:{group['id']}")
            notice = _("The core group {name} was founded.", name=group["name"])
            return ctx.redirect("/groups", notice=notice)
    errors = {p.field: p.message for p in problems}
    return await _show(ctx, 422, values=values, errors=errors)
