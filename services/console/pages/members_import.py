"""Importing an agency's member list from CSV: every row checked first (the groups
service's dry run), the preview shows each row to be added or every row's problems, and
only the confirmation imports (all rows or none).

The file's text travels with the preview form, so a corrected file (or the text edited on
the page) is checked again before anything is saved.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.console.pages import area
from services.console.pages.problems import Problem
from services.console.texts import _

MAX_BYTES = 5_000_000
IMPORT = """mutation($g: UUID!, $csv: String!, $dry: Boolean!) {
  importMembers(groupId: $g, csv: $csv, dryRun: $dry) { imported dryRun
    errors { line reason code field params }
    rows { line companyName businessId industryCode employees joinedOn contactName contactEmail }
  } }"""
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


async def _csv_text(data: Any) -> tuple[str, Problem | None]:
    upload = data.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            return "", Problem("INVALID_CSV", "file", _("The file is larger than 5 MB; split it."))
        try:
            return raw.decode("utf-8").removeprefix("\ufeff"), None
        except UnicodeDecodeError:
            message = _('The file is not UTF-8: save it as "CSV UTF-8" and choose it again.')
            return "", Problem("INVALID_CSV", "file", message)
    return str(data.get("csv", "")), None


def _show(request: Request, status: int = 200, **context: Any) -> Response:
    context.setdefault("csv", "")
    context.setdefault("problem", None)
    context.setdefault("result", None)
    return area.render(request, "members/import.html", status=status, columns=COLUMNS, **context)


async def import_form(request: Request) -> Response:
    groups = await area.visible_groups(request, changing=True)
    return _show(request, groups=groups, group=request.query_params.get("group", ""))


async def _group(request: Request, data: Any) -> UUID | None:
    group = area.uuid_or_none(str(data.get("group", "")))
    if group is None:
        return None
    await area.require_group(request, group, changing=True)
    return group


async def preview(request: Request) -> Response:
    data = await request.form()
    groups = await area.visible_groups(request, changing=True)
    group = await _group(request, data)
    csv, problem = await _csv_text(data)
    context = {"groups": groups, "group": str(group or ""), "csv": csv}
    if problem is None and group is None:
        problem = Problem("REQUIRED", "group", _("Choose the core group the companies join."))
    if problem is None and not csv.strip():
        problem = Problem("REQUIRED", "file", _("Choose a CSV file, or paste its text below."))
    if problem is not None:
        return _show(request, 422, problem=problem, **context)
    try:
        checked = await area.gql(request, "groups", IMPORT, g=str(group), csv=csv, dry=True)
    except area.Refused as refused:
        return _show(request, 422, problem=_at_file(refused.problems[0]), **context)
    result = checked["importMembers"]
    return _show(request, 422 if result["errors"] else 200, result=result, **context)


def _at_file(problem: Problem) -> Problem:
    field = "group" if problem.field in ("group_id", "groupId") else "file"
    return Problem(problem.code, field, problem.message, problem.params)


async def confirm(request: Request) -> Response:
    data = await request.form()
    groups = await area.visible_groups(request, changing=True)
    group = await _group(request, data)
    csv = str(data.get("csv", ""))
    context = {"groups": groups, "group": str(group or ""), "csv": csv}
    if group is None or not csv.strip():
        return area.bad_request(request)
    try:
        done = await area.gql(request, "groups", IMPORT, g=str(group), csv=csv, dry=False)
    except area.Refused as refused:
        return _show(request, 422, problem=_at_file(refused.problems[0]), **context)
    result = done["importMembers"]
    if result["errors"]:  # the members changed since the preview
        return _show(request, 422, result=result, **context)
    await area.audit(request, "member.import", str(group), f"{result['imported']} members")
    notice = _("{n} members were imported.", n=result["imported"])
    return area.redirect(request, f"/members?group={group}", notice)


ROUTES = [
    Route("/members/import", import_form, methods=["GET"]),
    Route("/members/import", preview, methods=["POST"]),
    Route("/members/import/confirm", confirm, methods=["POST"]),
]
