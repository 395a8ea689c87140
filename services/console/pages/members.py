"""Members: the list and search, adding a member (the service's checks at each field, a
likely duplicate confirmed with "save anyway") and editing one.

Facilitators see and change only the members of their groups: every route checks the
group (of the member asked for) against the signed-in account's, not only the navigation.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from starlette.responses import JSONResponse, Response

from services.console.backend import BackendError, Problem
from services.console.i18n import _
from services.console.pages.lookup import (
    field_problem,
    groups_and,
    today_shown,
    visible_groups,
)
from services.console.pages.member_form import API_NAMES, NUMBERS, MemberForm
from services.console.pages.names import NAMES
from services.console.web import Ctx, NotFound, Routes
from shared.i18n.formats import format_date, format_number

routes = Routes()

PAGE_SIZE = 50
STATUSES = ("ACTIVE", "PAUSED", "LEFT")
SEARCH_PARAMS = """$text: String!, $group: UUID, $groups: [UUID!], $status: MembershipStatus,
  $first: Int!, $offset: Int!"""
SEARCH = """searchMembers(text: $text, groupId: $group, groupIds: $groups, status: $status,
    first: $first, offset: $offset) {
    total hasMore members { id groupId companyName businessId status joinedOn
      contacts { name erased } } }"""
VALIDATE = """query($input: ValidateMemberInput!) { validateMember(input: $input) {
  valid problems { code field message params } warnings { code field message params } } }"""
ADD = """mutation($input: AddMemberInput!) { addMember(input: $input) { id companyName } }"""
UPDATE = """mutation($input: UpdateMemberInput!) { updateMember(input: $input) { id } }"""
FOR_EDIT = """query($id: UUID!) { member(id: $id) { id groupId companyName businessId
  industryCode address employees turnoverEur balanceSheetEur joinedOn } }"""


def _uuid(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


@routes.get("/members")
async def member_list(ctx: Ctx) -> Response:
    text = ctx.query("q").strip()[:200]
    status = ctx.query("status") if ctx.query("status") in STATUSES else ""
    wanted = _uuid(ctx.query("group"))
    if wanted is not None:
        ctx.require_group(wanted)
    raw_page = ctx.query("page", "1")
    page_number = max(1, int(raw_page)) if raw_page.isdigit() else 1
    page: dict[str, Any] = {"total": 0, "hasMore": False, "members": []}
    staff = ctx.staff
    if staff.is_admin or staff.groups:  # the groups and the page of members in one request
        mine = None if staff.is_admin else sorted(str(g) for g in staff.groups)
        groups, found = await groups_and(
            ctx,
            SEARCH_PARAMS,
            SEARCH,
            text=text,
            group=str(wanted) if wanted else None,
            groups=None if wanted else mine,
            status=status or None,
            first=PAGE_SIZE,
            offset=(page_number - 1) * PAGE_SIZE,
        )
        page = found["searchMembers"]
    else:
        groups = await visible_groups(ctx)
    query = {"q": text, "status": status, "group": str(wanted) if wanted else ""}

    def page_url(number: int) -> str:
        return "/members?" + urlencode({**{k: v for k, v in query.items() if v}, "page": number})

    return ctx.render(
        "members/list.html",
        groups=groups,
        group_names={g["id"]: g["name"] for g in groups},
        page=page,
        page_number=page_number,
        pages=max(1, -(-page["total"] // PAGE_SIZE)),
        prev_url=page_url(page_number - 1),
        next_url=page_url(page_number + 1),
        query=query,
        statuses=STATUSES,
        **NAMES,
    )


async def _check(ctx: Ctx, form: MemberForm, extra: dict[str, Any]) -> dict[str, Any]:
    """Ask the service about the form; its problems and warnings go to their fields."""
    read = form.read()
    checked = (await ctx.backend.groups(VALIDATE, input={**extra, **read}))["validateMember"]
    for problem in checked["problems"]:
        form.add(field_problem(problem))
    form.warnings = [field_problem(w) for w in checked["warnings"]]
    return read


def _show_form(
    ctx: Ctx, form: MemberForm, groups: list[dict[str, Any]], group: str, editing: Any = None
) -> Response:
    status = 422 if form.problems else 200
    return ctx.render(
        "members/form.html",
        status=status,
        form=form,
        groups=groups,
        group=group,
        editing=editing,
        date_example=today_shown(),
    )


@routes.form("/members/new")
async def add_member(ctx: Ctx) -> Response:
    groups = await visible_groups(ctx)
    if ctx.request.method == "GET":
        chosen = ctx.query("group")
        form = MemberForm.empty(joined_on=today_shown())
        return _show_form(ctx, form, groups, chosen if chosen in {g["id"] for g in groups} else "")
    data = await ctx.form()
    group = _uuid(data.get("group", ""))
    form = MemberForm.from_form(data)
    if group is None:
        form.add(Problem("REQUIRED", _("Choose the core group the company joins."), "group"))
    else:
        ctx.require_group(group)
    form.require("company_name", "employees", "joined_on")
    read = await _check(ctx, form, {"groupId": str(group)} if group else {})
    if form.problems or not form.confirmed(data.get("confirm")):
        return _show_form(ctx, form, groups, str(group or ""))
    try:
        added = (await ctx.backend.groups(ADD, input={"groupId": str(group), **read}))["addMember"]
    except BackendError as refused:
        for problem in refused.problems:
            form.add(problem)
        return _show_form(ctx, form, groups, str(group))
    await ctx.audit("member.add", f"member:{added['id']}", group=str(group))
    notice = _("{company} was added to the group.", company=added["companyName"])
    return ctx.redirect(f"/members/{added['id']}", notice=notice)


async def member_to_edit(ctx: Ctx, member_id: str) -> dict[str, Any]:
    """The member, if the account may change its group (else 403; none: 404)."""
    if _uuid(member_id) is None:
        raise NotFound()
    found = (await ctx.backend.groups(FOR_EDIT, id=member_id))["member"]
    if found is None:
        raise NotFound()
    ctx.require_group(found["groupId"])
    return dict(found)


@routes.form("/members/{member_id}/edit")
async def edit_member(ctx: Ctx) -> Response:
    member = await member_to_edit(ctx, ctx.path("member_id"))
    joined = format_date(date.fromisoformat(member["joinedOn"]))  # not changed here
    if ctx.request.method == "GET":
        shown = {"joined_on": joined}
        for name in NUMBERS:
            if member[API_NAMES[name]] is not None:
                shown[name] = format_number(member[API_NAMES[name]])
        return _show_form(ctx, MemberForm.from_member(member, shown), [], "", member)
    data = await ctx.form()
    form = MemberForm.from_form({**data, "joined_on": joined})
    form.require("company_name", "employees")
    read = await _check(ctx, form, {"memberId": member["id"]})
    changes = form.changes(member, read)
    if form.problems or not form.confirmed(data.get("confirm")):
        return _show_form(ctx, form, [], "", member)
    try:
        await ctx.backend.groups(UPDATE, input={"memberId": member["id"], **changes})
    except BackendError as refused:
        for problem in refused.problems:
            form.add(problem)
        return _show_form(ctx, form, [], "", member)
    await ctx.audit("member.update", f"member:{member['id']}", group=member["groupId"])
    notice = _("The changes to {company} were saved.", company=form.values["company_name"])
    return ctx.redirect(f"/members/{member['id']}", notice=notice)


@routes.post("/members/check")
async def check_member(ctx: Ctx) -> Response:
    """The add/edit form's fields checked as typed, for the page's script (progressive
    enhancement: without it the same checks run when the form is sent). JSON:
    ``{"problems": {field: message}, "warnings": {field: {message, memberId, company}}}``."""
    data = await ctx.form()
    form = MemberForm.from_form(data)
    extra: dict[str, Any] = {}
    group, member = _uuid(data.get("group", "")), _uuid(data.get("member", ""))
    if member is not None:
        found = await member_to_edit(ctx, str(member))
        extra["memberId"] = found["id"]
        form.values["joined_on"] = ""  # not edited there
    elif group is not None:
        extra["groupId"] = str(ctx.require_group(group))
    await _check(ctx, form, extra)
    warnings = {
        w.field: {
            "message": w.message,
            "memberId": w.params.get("member_id"),
            "company": w.params.get("other_company"),
        }
        for w in form.warnings
    }
    return JSONResponse({"problems": form.errors, "warnings": warnings})
