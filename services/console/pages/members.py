"""Members: the list and search, adding a member (the service's checks at each field, a
likely duplicate confirmed with "save anyway") and editing one.

Facilitators see and change only the members of their groups: every route checks the
group (of the member asked for) against the signed-in account's, not only the navigation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from starlette.responses import Response

from services.console.backend import BackendError, Problem
from services.console.i18n import _
from services.console.pages.lookup import field_problem, today_shown, visible_groups
from services.console.pages.member_form import MemberForm
from services.console.pages.names import NAMES
from services.console.web import Ctx, Routes

routes = Routes()

PAGE_SIZE = 50
STATUSES = ("ACTIVE", "PAUSED", "LEFT")
SEARCH = """query($text: String!, $group: UUID, $groups: [UUID!], $status: MembershipStatus,
  $first: Int!, $offset: Int!) {
  searchMembers(text: $text, groupId: $group, groupIds: $groups, status: $status,
    first: $first, offset: $offset) {
    total hasMore members { id groupId companyName businessId status joinedOn
      contacts { name erased } } } }"""
VALIDATE = """query($input: ValidateMemberInput!) { validateMember(input: $input) {
  valid problems { code field message params } warnings { code field message params } } }"""
ADD = """mutation($input: AddMemberInput!) { addMember(input: $input) { id companyName } }"""


def _uuid(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


@routes.get("/members")
async def member_list(ctx: Ctx) -> Response:
    groups = await visible_groups(ctx)
    text = ctx.query("q").strip()[:200]
    status = ctx.query("status") if ctx.query("status") in STATUSES else ""
    wanted = _uuid(ctx.query("group"))
    if wanted is not None:
        ctx.require_group(wanted)
    raw_page = ctx.query("page", "1")
    page_number = max(1, int(raw_page)) if raw_page.isdigit() else 1
    page: dict[str, Any] = {"total": 0, "hasMore": False, "members": []}
    if groups:
        mine = None if ctx.staff.is_admin else [g["id"] for g in groups]
        page = (
            await ctx.backend.groups(
                SEARCH,
                text=text,
                group=str(wanted) if wanted else None,
                groups=None if wanted else mine,
                status=status or None,
                first=PAGE_SIZE,
                offset=(page_number - 1) * PAGE_SIZE,
            )
        )["searchMembers"]
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
