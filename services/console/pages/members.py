"""Members: the list and search, adding a member (the service's checks at each field, a
likely duplicate confirmed with "save anyway") and editing one.

Facilitators see and change only the members of their groups: every route checks the
group (of the member asked for) against the signed-in user's, not only the navigation.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.console.pages import area
from services.console.pages.member_form import MemberForm, api_input
from services.console.pages.problems import Problem
from services.console.texts import _

PAGE_SIZE = 50
STATUSES = ("ACTIVE", "PAUSED", "LEFT")
MEMBER_ROW = """id groupId companyName businessId industryCode status joinedOn leftOn pausedOn
  contacts { name email erased }"""
SEARCH = f"""query($text: String!, $group: UUID, $status: MembershipStatus, $first: Int!,
  $offset: Int!) {{
  searchMembers(text: $text, groupId: $group, status: $status, first: $first, offset: $offset)
  {{ total hasMore members {{ {MEMBER_ROW} }} }} }}"""
VALIDATE = """query($input: ValidateMemberInput!) { validateMember(input: $input) {
  valid problems { code field message params } warnings { code field message params }
  industry { code name } } }"""
ADD = """mutation($input: AddMemberInput!) { addMember(input: $input) { id companyName } }"""
UPDATE = """mutation($input: UpdateMemberInput!) { updateMember(input: $input) { id } }"""
MEMBER_FOR_EDIT = """query($id: UUID!) { member(id: $id) { id groupId companyName businessId
  industryCode employees turnoverEur balanceSheetEur joinedOn } }"""


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


async def member_list(request: Request) -> Response:
    groups = await area.visible_groups(request)
    if not groups:
        return area.render(request, "members/list.html", groups=[], page=None, query={})
    text = request.query_params.get("q", "").strip()[:200]
    status = request.query_params.get("status", "")
    status = status if status in STATUSES else ""
    wanted = area.uuid_or_none(request.query_params.get("group", ""))
    ids = {g["id"] for g in groups}
    if wanted is not None and str(wanted) not in ids:
        return area.forbidden(request)
    if wanted is None and not area.is_admin(request):
        wanted = UUID(groups[0]["id"])  # a facilitator searches one of their groups at a time
    page_number = _page_number(request)
    found = await area.gql(
        request,
        "groups",
        SEARCH,
        text=text,
        group=str(wanted) if wanted else None,
        status=status or None,
        first=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    page = found["searchMembers"]
    names = {g["id"]: g["name"] for g in groups}
    query = {"q": text, "status": status, "group": str(wanted) if wanted else ""}
    return area.render(
        request,
        "members/list.html",
        groups=groups,
        group_names=names,
        page=page,
        page_number=page_number,
        pages=max(1, -(-page["total"] // PAGE_SIZE)),
        query=query,
        statuses=STATUSES,
    )


async def _check(request: Request, form: MemberForm, extra: dict[str, Any]) -> dict[str, Any]:
    """Ask the service about the form; its problems and warnings are put at their fields."""
    read = form.read()
    checked = await area.gql(request, "groups", VALIDATE, input={**extra, **api_input(read)})
    for problem in checked["validateMember"]["problems"]:
        form.add(Problem.from_api(problem))
    form.warnings = [Problem.from_api(w) for w in checked["validateMember"]["warnings"]]
    return read


async def new_member(request: Request) -> Response:
    groups = await area.visible_groups(request, changing=True)
    group = area.uuid_or_none(request.query_params.get("group", ""))
    form = MemberForm.empty(joined_on=area.today_shown())
    return area.render(
        request, "members/form.html", form=form, groups=groups, group=str(group or ""), editing=None
    )


async def add_member(request: Request) -> Response:
    data = await request.form()
    groups = await area.visible_groups(request, changing=True)
    group = area.uuid_or_none(str(data.get("group", "")))
    form = MemberForm.from_form(data)
    if group is None or str(group) not in {g["id"] for g in groups}:
        form.add(Problem("REQUIRED", "group", _("Choose the core group the company joins.")))
    form.require("company_name", "employees", "joined_on")
    extra = {"groupId": str(group)} if group else {}
    read = await _check(request, form, extra)
    if form.problems or not form.confirmed(data.get("confirm")):
        status = 422 if form.problems else 200
        return area.render(
            request,
            "members/form.html",
            status=status,
            form=form,
            groups=groups,
            group=str(group or ""),
            editing=None,
        )
    try:
        added = await area.gql(
            request, "groups", ADD, input={"groupId": str(group), **api_input(read)}
        )
    except area.Refused as refused:
        for problem in refused.problems:
            form.add(problem)
        return area.render(
            request,
            "members/form.html",
            status=422,
            form=form,
            groups=groups,
            group=str(group or ""),
            editing=None,
        )
    member = added["addMember"]
    await area.audit(
        request,
        "member.add",
        member["id"],
        f"{member['companyName']} ({read.get('business_id', '')})",
    )
    notice = _("{company} was added to the group.", company=member["companyName"])
    return area.redirect(request, f"/members/{member['id']}", notice)


async def _member_for_edit(request: Request, member_id: UUID) -> dict[str, Any] | None:
    found = (await area.gql(request, "groups", MEMBER_FOR_EDIT, id=str(member_id)))["member"]
    if found is None:
        return None
    await area.require_group(request, UUID(found["groupId"]), changing=True)
    return dict(found)


async def edit_member(request: Request) -> Response:
    member_id = area.path_uuid(request, "member_id")
    member = await _member_for_edit(request, member_id)
    if member is None:
        return area.not_found(request)
    shown = {
        "joined_on": area.date_shown(member["joinedOn"]),
        **{
            name: area.number_shown(member[api])
            for name, api in (
                ("employees", "employees"),
                ("turnover_eur", "turnoverEur"),
                ("balance_sheet_eur", "balanceSheetEur"),
            )
            if member[api] is not None
        },
    }
    form = MemberForm.from_member(member, shown)
    return area.render(request, "members/form.html", form=form, editing=member, groups=[])


async def update_member(request: Request) -> Response:
    member_id = area.path_uuid(request, "member_id")
    member = await _member_for_edit(request, member_id)
    if member is None:
        return area.not_found(request)
    data = await request.form()
    form = MemberForm.from_form(data)
    form.values["joined_on"] = area.date_shown(member["joinedOn"])  # not changed here
    form.require("company_name", "employees")
    read = await _check(request, form, {"memberId": str(member_id)})
    read.pop("joined_on", None)
    if form.problems or not form.confirmed(data.get("confirm")):
        return area.render(
            request,
            "members/form.html",
            status=422 if form.problems else 200,
            form=form,
            editing=member,
            groups=[],
        )
    changes = {"memberId": str(member_id), **api_input(read)}
    for cleared in ("business_id", "industry_code", "turnover_eur", "balance_sheet_eur"):
        if not form.values[cleared]:
            changes[api_input({cleared: None}).popitem()[0]] = None
    try:
        await area.gql(request, "groups", UPDATE, input=changes)
    except area.Refused as refused:
        for problem in refused.problems:
            form.add(problem)
        return area.render(
            request, "members/form.html", status=422, form=form, editing=member, groups=[]
        )
    await area.audit(request, "member.update", str(member_id), form.values["company_name"])
    notice = _("The changes to {company} were saved.", company=form.values["company_name"])
    return area.redirect(request, f"/members/{member_id}", notice)


ROUTES = [
    Route("/members", member_list, methods=["GET"]),
    Route("/members/new", new_member, methods=["GET"]),
    Route("/members/new", add_member, methods=["POST"]),
    Route("/members/{member_id}/edit", edit_member, methods=["GET"]),
    Route("/members/{member_id}/edit", update_member, methods=["POST"]),
]
