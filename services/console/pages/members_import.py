"""Importing an agency's member list from CSV: every row checked first (the groups
service's dry run), the preview shows each row to be added or every row's problems, and
only the confirmation imports (all rows or none).

The file's text travels with the preview, so a corrected file (or the text edited on the
page) is checked again before anything is saved.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.responses import Response

from services.console.backend import BackendError, Problem
from services.console.i18n import _
from services.console.pages.lookup import visible_groups
from services.console.web import Ctx, NotFound, Routes

routes = Routes()

MAX_BYTES = 5_000_000
IMPORT = """mutation($g: UUID!, $csv: String!, $dry: Boolean!) {
  importMembers(groupId: $g, csv: $csv, dryRun: $dry) { imported dryRun
    errors { line reason code field params }
    rows { line companyName businessId employees joinedOn contactName contactEmail } } }"""
COLUMNS = (
    "company_name",
    "employees",
    "joined_on",
    "business_id",
    "industry_code",
    "turnover_eur",
    "balance_sheet_eur",
    "contact_name",
    "contact_email",
    "contact_phone",
    "language",
)


def _show(ctx: Ctx, status: int = 200, **values: Any) -> Response:
    values.setdefault("csv", "")
    values.setdefault("problem", None)
    values.setdefault("result", None)
    values.setdefault("group", "")
    return ctx.render("members/import.html", status=status, columns=COLUMNS, **values)


async def _group(ctx: Ctx, raw: str) -> UUID | None:
    try:
        group = UUID(raw)
    except ValueError:
        return None
    return ctx.require_group(group)


async def _csv_text(ctx: Ctx, data: dict[str, str]) -> tuple[str, Problem | None]:
    uploaded = (await ctx.files()).get("file")
    if uploaded is not None and uploaded[0]:
        raw = uploaded[1]
        if len(raw) > MAX_BYTES:
            return "", Problem("INVALID_CSV", _("The file is larger than 5 MB; split it."), "file")
        try:
            return raw.decode("utf-8").removeprefix("\ufeff"), None
        except UnicodeDecodeError:
            message = _('The file is not UTF-8: save it as "CSV UTF-8" and choose it again.')
            return "", Problem("INVALID_CSV", message, "file")
    return data.get("csv", ""), None


def _at_file(problem: Problem) -> Problem:
    field = "group" if problem.field in ("group_id", "group") else "file"
    return Problem(problem.code, problem.message, field, problem.params)


@routes.form("/members/import")
async def import_members(ctx: Ctx) -> Response:
    groups = await visible_groups(ctx)
    if ctx.request.method == "GET":
        chosen = ctx.query("group")
        return _show(
            ctx, groups=groups, group=chosen if chosen in {g["id"] for g in groups} else ""
        )
    data = await ctx.form()
    group = await _group(ctx, data.get("group", ""))
    csv, problem = await _csv_text(ctx, data)
    values = {"groups": groups, "group": str(group or ""), "csv": csv}
    if problem is None and group is None:
        problem = Problem("REQUIRED", _("Choose the core group the companies join."), "group")
    if problem is None and not csv.strip():
        problem = Problem("REQUIRED", _("Choose a CSV file, or paste its text below."), "file")
    if problem is not None:
        return _show(ctx, 422, problem=problem, **values)
    try:
        checked = await ctx.backend.groups(IMPORT, g=str(group), csv=csv, dry=True)
    except BackendError as refused:
        return _show(ctx, 422, problem=_at_file(refused.problems[0]), **values)
    result = checked["importMembers"]
    return _show(ctx, 422 if result["errors"] else 200, result=result, **values)


@routes.post("/members/import/confirm")
async def confirm_import(ctx: Ctx) -> Response:
    data = await ctx.form()
    group = await _group(ctx, data.get("group", ""))
    csv = data.get("csv", "")
    if group is None or not csv.strip():
        raise NotFound()
    values = {"groups": await visible_groups(ctx), "group": str(group), "csv": csv}
    try:
        done = await ctx.backend.groups(IMPORT, g=str(group), csv=csv, dry=False)
    except BackendError as refused:
        return _show(ctx, 422, problem=_at_file(refused.problems[0]), **values)
    result = done["importMembers"]
    if result["errors"]:  # the group's members changed since the preview
        return _show(ctx, 422, result=result, **values)
    await ctx.audit("member.import", f"group:{group}", members=result["imported"])
    notice = _("{n} members were imported.", n=result["imported"])
    return ctx.redirect(f"/members?group={group}", notice=notice)
